"""A NUL character in a query parameter or form field is a 400 naming the parameter, on every
URL, before any view's query: PostgreSQL stores no NUL, and a filter holding one was a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from review.models import AuditEvent, Tenant
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["moderator", "conversation"])
def test_a_nul_in_a_decision_log_filter_is_a_400_naming_it(
    acme: Tenant, sam: Any, name: str
) -> None:
    client = signed_in(sam)
    before = AuditEvent.objects.filter(tenant=acme).count()

    response = client.get("/t/acme/decisions", {name: "ali\x00ce"})

    assert response.status_code == 400
    assert f"the query parameter '{name}' holds a NUL character" in response.content.decode()
    assert "ali" not in response.content.decode(), "the value is never echoed"
    assert AuditEvent.objects.filter(tenant=acme).count() == before, "no page was shown"


def test_a_nul_in_a_form_field_is_a_400_naming_it(acme: Tenant) -> None:
    response = Client().post("/login", {"username": "sam\x00", "password": "x"})

    assert response.status_code == 400
    assert "the form field 'username' holds a NUL character" in response.content.decode()


def test_under_the_api_the_answer_has_the_apis_shape(acme_api: APIClient) -> None:
    response = acme_api.get("/api/v1/conversations/conv-1", {"cursor": "\x00"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["fields"] == {
        "cursor": ["the query parameter 'cursor' holds a NUL character, which no field accepts"]
    }
