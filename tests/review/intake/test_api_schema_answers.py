"""The OpenAPI schema describes the answers the API gives, as an integrator reads it: every
error answer has the API's one error body, and each operation is described for the platform,
never with a developer's note from the code."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from review.intake.api.views import TenantApi

pytestmark = pytest.mark.django_db

ERROR_BODY = {"$ref": "#/components/schemas/ErrorOutput"}


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    return client.get("/api/schema", HTTP_ACCEPT="application/json").json()


def operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_error_answer_in_the_schema_has_the_error_body(schema: dict[str, Any]) -> None:
    bodiless = [
        f"{name} {status}"
        for name, operation in operations(schema)
        for status, answer in operation["responses"].items()
        if int(status) >= 400
        and answer.get("content", {}).get("application/json", {}).get("schema") != ERROR_BODY
    ]

    assert bodiless == []


def test_the_error_body_in_the_schema_is_the_one_the_api_sends(
    schema: dict[str, Any], acme_api: APIClient
) -> None:
    body = schema["components"]["schemas"]["ErrorOutput"]
    not_found = acme_api.get("/api/v1/conversations/nobody-sent-this").json()
    invalid = acme_api.post("/api/v1/conversations", {}, format="json").json()

    assert set(body["required"]) <= set(not_found) <= set(body["properties"])
    assert set(invalid) == set(body["properties"])


def test_each_operation_is_described_for_the_platform_not_with_a_views_docstring(
    schema: dict[str, Any],
) -> None:
    views = [TenantApi, *TenantApi.__subclasses__()]
    docstrings = {inspect.getdoc(view) for view in views} - {None}

    described = {name: operation.get("description", "") for name, operation in operations(schema)}

    assert all(described.values()), described
    assert not {name for name, text in described.items() if text in docstrings}


def test_an_appeals_statement_of_reasons_is_described_field_by_field(
    schema: dict[str, Any],
) -> None:
    answer = schema["components"]["schemas"]["AppealOutput"]["properties"]["statement_of_reasons"]

    assert answer.get("nullable") is True
    assert answer["allOf"] == [{"$ref": "#/components/schemas/StatementOutput"}]


def test_every_request_shape_says_it_takes_no_other_key(schema: dict[str, Any]) -> None:
    """The API refuses an undeclared key (inputs.Input), and the schema says so, so a
    client generated from it cannot send one."""
    shapes = schema["components"]["schemas"]
    inputs = [name for name in shapes if name.endswith("Input")]
    assert {"ConversationInput", "ParticipantInput", "MessageInput", "AppealInput"} <= set(inputs)
    assert [n for n in inputs if shapes[n].get("additionalProperties") is not False] == []


def test_each_request_shape_is_described_by_its_own_words(schema: dict[str, Any]) -> None:
    """Not by the base class's note to Artemis's developers, which every shape inherited."""
    shapes = schema["components"]["schemas"]
    inputs = {
        name: shapes[name].get("description", "") for name in shapes if name.endswith("Input")
    }

    assert all(inputs.values()), [name for name, text in inputs.items() if not text]
    assert len(set(inputs.values())) == len(inputs), inputs
