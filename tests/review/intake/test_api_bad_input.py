"""Every bad input to the API is a 4xx in its JSON error shape, naming the field or the
problem: JSON nested too deeply, ids with NUL or control characters (in the body and in the
URL), timestamps outside 1990 to one day ahead. An unexpected error is a 500 in the same
shape, without the exception's text, logged with ids only. The OpenAPI schema states the
rules the validation enforces."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from artemis.urls import handler400, handler403, handler404, handler500  # noqa: F401
from artemis.urls import urlpatterns as artemis_urlpatterns
from review.intake.api.parsers import nesting_exceeds
from review.intake.api.views import TenantApi
from review.models import Conversation, Message, Tenant

pytestmark = pytest.mark.django_db

Payload = Callable[..., dict[str, Any]]
SECRET = "dont tell your mom we talk"  # stands for chat text that must never leak


def post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str)
    assert isinstance(body["detail"], str)
    return body


# --- nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [50_000, 100_000])
def test_json_nested_tens_of_thousands_deep_answers_400_naming_the_problem(
    acme_api: APIClient, depth: int
) -> None:
    body = '{"external_id": ' + "[" * depth + "]" * depth + "}"

    response = acme_api.post("/api/v1/conversations", data=body, content_type="application/json")

    assert "nested too deeply" in assert_error_shape(response, 400)["detail"]
    assert not Conversation.objects.exists()


def test_json_one_level_past_the_limit_is_refused_and_at_the_limit_is_parsed(
    acme_api: APIClient, settings: Any
) -> None:
    limit = settings.ARTEMIS_MAX_JSON_DEPTH
    too_deep = "[" * limit + "]" * limit  # inside the outer object: limit + 1 levels
    at_limit = "[" * (limit - 1) + "]" * (limit - 1)

    refused = acme_api.post(
        "/api/v1/conversations", data='{"x": ' + too_deep + "}", content_type="application/json"
    )
    parsed = acme_api.post(
        "/api/v1/conversations", data='{"x": ' + at_limit + "}", content_type="application/json"
    )

    assert "nested too deeply" in assert_error_shape(refused, 400)["detail"]
    assert "external_id" in assert_error_shape(parsed, 400)["fields"], "parsed, then validated"


def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"text": "[[[[[[" * 100 + '\\"{{{{' + '"]]]]"'})
    assert not nesting_exceeds(text, 2)
    assert nesting_exceeds('{"a": [{"b": [1]}]}', 3)
    assert not nesting_exceeds('{"a": [{"b": [1]}]}', 4)


# orjson parses a UTF-8 body first; what it refuses or reads otherwise goes to json, so the
# answers below are json's, as they were before orjson.


def test_an_integer_past_64_bits_is_read_as_json_reads_it_and_refused_by_its_field(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["participants"][0]["declared_age"] = 2**70

    fields = assert_error_shape(post(acme_api, "/api/v1/conversations", payload), 400)["fields"]

    assert fields == {
        "participants[0].declared_age": ["Ensure this value is less than or equal to 120."]
    }


def test_a_lone_surrogate_escape_is_refused_by_the_field_it_is_in(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["messages"][1]["text"] = "hi \ud800"  # json.dumps writes it as an escape

    body = assert_error_shape(post(acme_api, "/api/v1/conversations", payload), 400)

    assert list(body["fields"]) == ["messages[1].text"]
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("body", ['{"external_id": NaN}', '{"a": 1,}', "\ufeff{}"])
def test_what_json_refuses_is_refused_with_jsons_message(acme_api: APIClient, body: str) -> None:
    response = acme_api.post("/api/v1/conversations", data=body, content_type="application/json")

    answer = assert_error_shape(response, 400)
    assert answer["detail"].startswith("JSON parse error - ")
    # Named like any other bad field: the body as a whole.
    assert (answer["error"], answer["fields"]) == ("parse_error", {"body": [answer["detail"]]})


def test_a_real_message_with_brackets_in_its_text_is_stored(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["messages"][0]["text"] = "[[[[" * 40 + ' \\" {{{{' * 40

    assert post(acme_api, "/api/v1/conversations", payload).status_code == 201
    assert Message.objects.get(external_id="m-1").text == payload["messages"][0]["text"]


# --- ids with NUL and control characters --------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("bad", ["%00", "a%00b", "a%01b", "x%1Fy", "z%7F", "%0A"])
def test_an_external_id_in_the_url_with_a_control_character_answers_400_naming_it(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload, bad: str
) -> None:
    post(acme_api, "/api/v1/conversations", conversation_payload())
    read = acme_api.get(f"/api/v1/conversations/{bad}")
    append = post(
        acme_api,
        f"/api/v1/conversations/{bad}/messages",
        {"messages": conversation_payload()["messages"][:1]},
    )

    for response in (read, append):
        body = assert_error_shape(response, 400)
        assert body["fields"] == {"external_id": [body["fields"]["external_id"][0]]}
        assert "control characters" in body["detail"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("external_id", "conv\x00", "external_id"),
        ("external_id", "conv\x01", "external_id"),
        ("participants.0.external_id", "u\x7fmia", "participants[0].external_id"),
        ("messages.0.external_id", "m\x1b1", "messages[0].external_id"),
        ("participants.0.device_ids", ["phone\x00"], "participants[0].device_ids[0]"),
        ("participants.0.device_ids", ["phone\x07"], "participants[0].device_ids[0]"),
        # Invisible, and they change what is shown: "rtl\u202eabc" displays as "rtlcba".
        ("external_id", "rtl\u202eabc", "external_id"),
        ("participants.0.external_id", "u\u200bmia", "participants[0].external_id"),
        ("participants.0.external_id", "u\x85mia", "participants[0].external_id"),
        ("messages.0.external_id", "m\u20661", "messages[0].external_id"),
        ("participants.0.device_ids", ["\ufeffphone"], "participants[0].device_ids[0]"),
        ("participants.0.display_name", "Mia\x00", "participants[0].display_name"),
        ("platform", "acme\x00", "platform"),
        ("messages.0.text", "hey\x00", "messages[0].text"),
        # A number where the schema says string (schemathesis found text: 0 stored as "0").
        ("messages.0.text", 0, "messages[0].text"),
        ("messages.0.external_id", 7, "messages[0].external_id"),
        ("participants.0.display_name", 1.5, "participants[0].display_name"),
        ("platform", True, "platform"),
    ],
    ids=lambda v: repr(v)[:24],
)
def test_ids_and_text_with_nul_or_control_characters_in_the_body_answer_400_naming_the_field(
    acme_api: APIClient, conversation_payload: Payload, path: str, value: Any, field: str
) -> None:
    payload = with_value(conversation_payload(), path, value)

    body = assert_error_shape(post(acme_api, "/api/v1/conversations", payload), 400)

    assert field in body["fields"], body
    assert not Conversation.objects.exists()


# --- timestamps -------------------------------------------------------------------------------


def with_value(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``payload`` with the field at ``path`` (``messages.0.sent_at``) set to ``value``."""
    *parents, last = path.split(".")
    node: Any = payload
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return payload


def _far_future() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("messages.0.sent_at", "0001-01-01T00:00:00+14:00", "messages[0].sent_at"),
        ("messages.1.sent_at", "9999-12-31T23:59:59-14:00", "messages[1].sent_at"),
        ("messages.2.sent_at", "1989-12-31T23:59:59Z", "messages[2].sent_at"),
        ("messages.0.sent_at", "1989-12-31T20:00:00-05:00", "messages[0].sent_at"),
        ("messages.0.sent_at", "far future", "messages[0].sent_at"),
        ("participants.1.account_created_at", "0001-01-01T00:00:00+14:00",
         "participants[1].account_created_at"),
        ("participants.0.ip_events",
         [{"ip": "203.0.113.9", "at": "9999-12-31T23:59:59-14:00"}],
         "participants[0].ip_events[0].at"),
        ("participants.0.date_of_birth", "0001-01-01", "participants[0].date_of_birth"),
    ],
    ids=lambda v: repr(v)[:30],
)  # fmt: skip
def test_a_timestamp_outside_the_year_1990_to_one_day_ahead_answers_400_naming_the_field(
    acme_api: APIClient, conversation_payload: Payload, path: str, value: Any, field: str
) -> None:
    payload = with_value(
        conversation_payload(), path, _far_future() if value == "far future" else value
    )

    body = assert_error_shape(post(acme_api, "/api/v1/conversations", payload), 400)

    assert field in body["fields"], body
    assert body["detail"].startswith(field)
    assert not Conversation.objects.exists()


def test_timestamps_at_the_edges_of_the_range_are_accepted(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["messages"][0]["sent_at"] = "1990-01-01T00:00:00Z"
    payload["messages"][1]["sent_at"] = "1990-01-01T00:30:00+01:00"  # the year as written
    payload["messages"][2]["sent_at"] = (timezone.now() + timedelta(hours=23)).isoformat()

    assert post(acme_api, "/api/v1/conversations", payload).status_code == 201


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        # Rounded down to -1440 minutes, this one broke scoring and the review page for good.
        ("messages.0.sent_at", "2026-11-01T18:00:00-23:59:59.999999", "messages[0].sent_at"),
        ("messages.1.sent_at", "2026-11-01T18:00:00+01:00:30", "messages[1].sent_at"),
        ("messages.2.sent_at", "2026-11-01T18:00:00+14:01", "messages[2].sent_at"),
        ("messages.2.sent_at", "2026-11-01T18:00:00-14:01", "messages[2].sent_at"),
        ("messages.0.sent_at", "2026-11-01T18:00:00+01:00:00.250000", "messages[0].sent_at"),
        ("participants.1.account_created_at", "2026-10-01T09:00:00+00:00:01",
         "participants[1].account_created_at"),
        ("participants.0.ip_events",
         [{"ip": "203.0.113.9", "at": "2026-11-01T17:55:00+15:00"}],
         "participants[0].ip_events[0].at"),
    ],
    ids=lambda v: repr(v)[:40],
)  # fmt: skip
def test_a_utc_offset_not_in_whole_minutes_or_beyond_14_hours_answers_400_naming_the_field(
    acme_api: APIClient, conversation_payload: Payload, path: str, value: Any, field: str
) -> None:
    payload = with_value(conversation_payload(), path, value)

    for url, body, where in (
        ("/api/v1/conversations", payload, ""),
        ("/api/v1/conversations/batch", {"conversations": [payload]}, "conversations[0]."),
    ):
        answer = assert_error_shape(post(acme_api, url, body), 400)

        assert f"{where}{field}" in answer["fields"], answer
        assert "whole minutes from -14:00 to +14:00" in answer["fields"][f"{where}{field}"][0]
        assert answer["detail"].startswith(f"{where}{field}")
        assert not Conversation.objects.exists()


def test_an_appended_message_with_an_offset_beyond_14_hours_is_refused_and_nothing_is_added(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    post(acme_api, "/api/v1/conversations", conversation_payload())
    fine = {"external_id": "m-8", "sender": "u-mia", "sent_at": "2026-11-02T08:00:00Z",
            "text": "morning"}  # fmt: skip
    bad = {**fine, "external_id": "m-9", "sent_at": "2026-11-02T08:00:00-23:59:59.999999"}

    response = post(acme_api, "/api/v1/conversations/conv-1/messages", {"messages": [fine, bad]})

    assert "messages[1].sent_at" in assert_error_shape(response, 400)["fields"]
    assert Message.objects.count() == 3


def test_offsets_of_whole_minutes_up_to_14_hours_are_accepted_and_kept(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["messages"][0]["sent_at"] = "2026-11-01T18:00:00+14:00"
    payload["messages"][1]["sent_at"] = "2026-11-01T18:00:00-14:00"
    payload["messages"][2]["sent_at"] = "2026-11-01T18:00:00+05:45:00"

    assert post(acme_api, "/api/v1/conversations", payload).status_code == 201
    stored = Message.objects.order_by("position").values_list("utc_offset_minutes", flat=True)
    assert list(stored) == [840, -840, 345]


# --- unexpected errors -----------------------------------------------------------------------


class ExplodingApi(TenantApi):
    """A view with a bug: its exception's message holds chat text."""

    def get(self, request: Request) -> Response:
        raise RuntimeError(f"could not score {SECRET!r}")


def exploding_page(request: HttpRequest) -> HttpResponse:
    raise ValueError(f"broken on {SECRET!r}")


# This module is the URLconf of the tests marked below: Artemis' own URLs and error handlers,
# plus two views that fail.
urlpatterns = [
    path("api/v1/explode", ExplodingApi.as_view()),
    path("api/v1/explode-outside-drf", exploding_page),
    path("explode-page", exploding_page),
    *artemis_urlpatterns,
]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_in_an_api_view_is_a_json_500_without_its_text_logged_with_ids(
    acme: Tenant, acme_api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="artemis.api"):
        response = acme_api.get("/api/v1/explode")

    body = assert_error_shape(response, 500)
    assert body["error"] == "server_error"
    incident = re.search(r"incident ([0-9a-f]{12})", body["detail"]).group(1)
    assert SECRET not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "artemis.api"]
    logged = record.getMessage()
    assert incident in logged
    assert f"tenant={acme.pk}" in logged
    assert "builtins.RuntimeError" in logged
    assert "ExplodingApi" in logged
    assert SECRET not in logged
    assert record.exc_info is None


@pytest.mark.urls(__name__)
def test_an_unexpected_error_outside_an_api_view_is_still_json_under_api_only(
    db: None,
) -> None:
    client = Client(raise_request_exception=False)

    api = client.get("/api/v1/explode-outside-drf")
    page = client.get("/explode-page")

    assert assert_error_shape(api, 500)["error"] == "server_error"
    assert SECRET not in api.content.decode()
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_an_unknown_url_under_api_answers_a_json_404(client: Client) -> None:
    body = assert_error_shape(client.get("/api/v1/no-such-endpoint"), 404)

    assert body["error"] == "not_found"
    assert client.get("/no-such-page")["Content-Type"].startswith("text/html")


# --- the schema states the rules --------------------------------------------------------------


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    return client.get("/api/schema", HTTP_ACCEPT="application/json").json()


def test_the_schema_states_the_id_text_and_list_rules(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    message = components["MessageInput"]["properties"]
    for name in ("external_id", "sender"):
        assert message[name]["minLength"] == 1
        assert message[name]["maxLength"] == 255
        assert "\\u0000-\\u001f\\u007f" in message[name]["pattern"]
    assert message["text"]["minLength"] == 1
    assert message["text"]["maxLength"] == 10_000
    assert message["text"]["pattern"] == "^\\s*[^\\s\\u0000][^\\u0000]*$"
    batch = components["ConversationBatchInput"]["properties"]["conversations"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)
    participant = components["ParticipantInput"]["properties"]
    assert participant["ip_events"]["maxItems"] == 1000
    assert participant["device_ids"]["maxItems"] == 100
    assert participant["device_ids"]["items"]["minLength"] == 1
    assert (participant["declared_age"]["minimum"], participant["declared_age"]["maximum"]) == (
        0,
        120,
    )
    assert components["ConversationInput"]["properties"]["participants"]["minItems"] == 1
    assert components["MessagesAppendInput"]["properties"]["messages"]["minItems"] == 1


def test_the_schema_states_timestamp_formats_and_their_range(schema: dict[str, Any]) -> None:
    sent_at = schema["components"]["schemas"]["MessageInput"]["properties"]["sent_at"]
    assert sent_at["format"] == "date-time"
    assert "1990" in sent_at["description"]
    dates = re.compile(sent_at["pattern"])
    tomorrow = (timezone.now() + timedelta(days=1)).date()
    assert dates.match(f"{tomorrow.isoformat()}T00:00:00Z")
    assert dates.match(f"{timezone.now():%Y-%m-%d}T10:00:00+01:00")
    assert dates.match("1990-01-01T00:00:00Z")
    assert not dates.match("1989-12-31T00:00:00Z")
    assert not dates.match(f"{tomorrow + timedelta(days=1)}T00:00:00Z")
    assert not dates.match(f"{tomorrow.year + 1}-06-01T00:00:00Z")
    assert not dates.match("0001-01-01T00:00:00+14:00")
    assert not dates.match("9999-12-31T23:59:59-14:00")
    assert dates.match("2026-11-01T18:00:00.5-14:00")
    assert dates.match("2026-11-01T18:00:00+05:45")
    assert not dates.match("2026-11-01T18:00:00+14:01")
    assert not dates.match("2026-11-01T18:00:00-23:59")
    born = schema["components"]["schemas"]["ParticipantInput"]["properties"]["date_of_birth"]
    assert re.match(born["pattern"], timezone.localdate().isoformat())
    assert not re.match(born["pattern"], (timezone.localdate() + timedelta(days=1)).isoformat())
    assert not re.match(born["pattern"], "1899-12-31")


def test_the_schema_states_which_conversation_ids_are_reserved(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    conversation_id = re.compile(
        components["ConversationInput"]["properties"]["external_id"]["pattern"]
    )
    message_id = re.compile(components["MessageInput"]["properties"]["external_id"]["pattern"])
    for reserved in ("batch", " batch ", ".", ".."):
        assert not conversation_id.search(reserved), reserved
        assert message_id.search(reserved), "only a conversation's id is part of a URL"
    for allowed in ("conv-1", "Batch", "batch-2", "...", ".hidden"):
        assert conversation_id.search(allowed), allowed
    assert not conversation_id.search("a/b")


def test_the_url_external_id_parameter_states_its_rule(schema: dict[str, Any]) -> None:
    for url in (
        "/api/v1/conversations/{external_id}",
        "/api/v1/conversations/{external_id}/messages",
    ):
        [operation] = schema["paths"][url].values()
        [parameter] = [p for p in operation["parameters"] if p["name"] == "external_id"]
        rule = parameter["schema"]
        assert (rule["minLength"], rule["maxLength"]) == (1, 255)
        pattern = re.compile(rule["pattern"])
        assert pattern.match("conv-1")
        assert not pattern.match("a\x00b")
        assert not pattern.match("a/b")


@pytest.mark.parametrize(
    ("age", "found"),
    [("14", "a string"), ("14.0", "a string"), (True, "a boolean"), (14.5, "a number")],
)
def test_an_age_that_is_not_a_json_integer_is_refused_naming_what_came(
    acme_api: APIClient, conversation_payload: Payload, age: Any, found: str
) -> None:
    payload = conversation_payload()
    payload["participants"][1]["declared_age"] = age

    answer = assert_error_shape(post(acme_api, "/api/v1/conversations", payload), 400)

    assert answer["fields"] == {
        "participants[1].declared_age": [f"must be a whole number, not {found}."]
    }
    assert not Conversation.objects.exists()


def test_an_age_written_as_a_number_without_a_fraction_is_an_integer(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    payload = conversation_payload()
    payload["participants"][1]["declared_age"] = 14.0  # JSON Schema's integer allows it

    assert post(acme_api, "/api/v1/conversations", payload).status_code == 201
    assert (
        Conversation.objects.get()
        .participants.get(external_id=payload["participants"][1]["external_id"])
        .declared_age
        == 14
    )
