"""The OpenAPI schema and the API's validation agree: every value the schema allows for a
field, the field accepts. This is schemathesis' "schema-valid request rejected" check, done
field by field: hypothesis-jsonschema draws values from each property's schema as served at
/api/schema, and the real serializer field validates them. (Rules that tie records together,
such as "a sender is one of the conversation's participants", are beyond a schema; the
descriptions say them. So is "at most one day after now" to the second: the schema states
dates, up to tomorrow's.)"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from rest_framework import serializers

from review.intake.api import inputs

SERIALIZERS = [
    inputs.ConversationInput,
    inputs.ParticipantInput,
    inputs.MessageInput,
    inputs.IpEventInput,
    inputs.EstimatedLocationInput,
]


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema, which hypothesis-jsonschema reads."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _json_schema(v) for k, v in node.items() if k not in ("readOnly", "writeOnly")}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="module")
def components(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        schema = Client().get("/api/schema", HTTP_ACCEPT="application/json").json()
    return _json_schema(schema["components"]["schemas"])


def _leaf_fields() -> list[tuple[type[serializers.Serializer], str]]:
    return [
        (serializer, name)
        for serializer in SERIALIZERS
        for name, field in serializer().fields.items()
        if not isinstance(field, serializers.Serializer | serializers.ListSerializer)
    ]


def _later_tomorrow(value: Any, exc: serializers.ValidationError) -> bool:
    """The one known gap: a timestamp dated tomorrow but later than now + 1 day. A pattern
    states dates, not instants, so the schema allows the whole of tomorrow."""
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    return (
        isinstance(value, str)
        and value.startswith(tomorrow)
        and "one day after now" in str(exc.detail)
    )


@pytest.mark.parametrize(
    ("serializer", "name"), _leaf_fields(), ids=lambda v: getattr(v, "__name__", v)
)
def test_every_value_the_schema_allows_for_a_field_is_accepted(
    components: dict[str, Any], serializer: type[serializers.Serializer], name: str
) -> None:
    schema = copy.deepcopy(components[serializer.__name__]["properties"][name])
    schema["components"] = {"schemas": components}  # for $ref to the enums
    field = serializer().fields[name]

    @settings(
        max_examples=60,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(value=from_schema(schema))
    def accepted(value: Any) -> None:
        try:
            field.run_validation(value)
        except serializers.ValidationError as exc:
            if _later_tomorrow(value, exc):
                return
            raise AssertionError(
                f"{serializer.__name__}.{name}: the schema allows {value!r}, "
                f"the API refuses it: {exc.detail}"
            ) from None

    accepted()


def test_the_schema_check_can_fail(components: dict[str, Any]) -> None:
    """A field stricter than its schema is caught: text with the rule removed from the schema."""
    schema = copy.deepcopy(components["MessageInput"]["properties"]["text"])
    del schema["pattern"]
    field = inputs.MessageInput().fields["text"]
    refused = []

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(value=from_schema(schema) | st.just("   "))
    def collect(value: Any) -> None:
        try:
            field.run_validation(value)
        except serializers.ValidationError:
            refused.append(value)

    collect()
    assert refused, "whitespace-only text is schema-valid without the pattern, and refused"
