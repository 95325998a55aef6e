"""Account data at ingest: what a platform knows about each participant (screen name, date of
birth, email, IP events, device ids, estimated location), validated field by field, stored,
updated on resend, and copied into a case when one is opened."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from review.decisions.services import decision_create
from review.models import Participant, Tenant
from review.queue.services import queue_item_claim_next
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db

Payload = Callable[..., dict[str, Any]]

JAY_ACCOUNT = {
    "external_id": "u-stranger",
    "display_name": "Jay",
    "screen_name": "jay_gamer",
    "date_of_birth": "1990-04-02",
    "email": "jay@example.org",
    "ip_events": [
        {"ip": "203.0.113.7", "at": "2026-11-01T17:55:00+01:00", "event": "login"},
        {"ip": "2001:db8::1", "at": "2026-11-01T18:00:00Z", "event": "message"},
    ],
    "device_ids": ["android-4f2a"],
    "estimated_location": {"country": "us", "region": "CA", "city": "Fresno"},
}


def post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def with_jay(payload: Payload, **account: Any) -> dict[str, Any]:
    body = payload()
    body["participants"][1] = {**JAY_ACCOUNT, **account}
    return body


def fields_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.json()
    return response.json()["fields"]


def test_account_data_is_stored_with_each_ip_events_offset(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload
) -> None:
    response = post(acme_api, "/api/v1/conversations", with_jay(conversation_payload))

    assert response.status_code == 201, response.json()
    jay = Participant.objects.get(tenant=acme, external_id="u-stranger")
    assert (jay.screen_name, jay.email, jay.date_of_birth.isoformat()) == (
        "jay_gamer",
        "jay@example.org",
        "1990-04-02",
    )
    assert jay.ip_events == [
        {"ip": "203.0.113.7", "at": "2026-11-01T17:55:00+01:00", "event": "login"},
        {"ip": "2001:db8::1", "at": "2026-11-01T18:00:00+00:00", "event": "message"},
    ]
    assert jay.device_ids == ["android-4f2a"]
    assert jay.estimated_location == {"country": "US", "region": "CA", "city": "Fresno"}


@pytest.mark.parametrize(
    ("account", "field"),
    [
        (
            {
                "ip_events": [
                    *JAY_ACCOUNT["ip_events"],
                    {"ip": "999.1.2.3", "at": "2026-11-01T18:00Z"},
                ]
            },
            "participants[1].ip_events[2].ip",
        ),
        (
            {"ip_events": [{"ip": "203.0.113.7", "at": "2026-11-01T18:00:00"}]},
            "participants[1].ip_events[0].at",
        ),
        (
            {"ip_events": [{"ip": "203.0.113.7", "at": "2026-11-01T18:00Z", "event": "dance"}]},
            "participants[1].ip_events[0].event",
        ),
        ({"estimated_location": {"country": "XX"}}, "participants[1].estimated_location.country"),
        ({"date_of_birth": "02/04/1990"}, "participants[1].date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "participants[1].date_of_birth"),
        ({"email": "not an email"}, "participants[1].email"),
        ({"device_ids": ["x" * 256]}, "participants[1].device_ids[0]"),
    ],
)
def test_a_bad_account_value_answers_400_naming_its_field(
    acme_api: APIClient, conversation_payload: Payload, account: dict[str, Any], field: str
) -> None:
    response = post(acme_api, "/api/v1/conversations", with_jay(conversation_payload, **account))

    assert field in fields_of(response)
    assert Participant.objects.count() == 0, "nothing half-written stays"


def test_more_than_a_thousand_ip_events_are_refused(
    acme_api: APIClient, conversation_payload: Payload
) -> None:
    events = [{"ip": "203.0.113.7", "at": "2026-11-01T18:00:00Z"}] * 1001

    response = post(
        acme_api, "/api/v1/conversations", with_jay(conversation_payload, ip_events=events)
    )

    assert "participants[1].ip_events" in fields_of(response)


def test_resending_a_participant_replaces_the_account_data_it_sends_and_keeps_the_rest(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload
) -> None:
    post(acme_api, "/api/v1/conversations", with_jay(conversation_payload))
    again = post(acme_api, "/api/v1/conversations", with_jay(conversation_payload))
    assert again.status_code == 200, "the same payload twice changes nothing"

    later = {
        "participants": [
            {
                "external_id": "u-stranger",
                "screen_name": "jay_2",
                "ip_events": [{"ip": "198.51.100.4", "at": "2026-11-02T09:00:00-05:00"}],
            }
        ],
        "messages": [
            {
                "external_id": "m-4",
                "sender": "u-stranger",
                "sent_at": "2026-11-02T09:01:00-05:00",
                "text": "you there?",
            }
        ],
    }
    response = post(acme_api, "/api/v1/conversations/conv-1/messages", later)

    assert response.status_code in (200, 201), response.json()
    jay = Participant.objects.get(tenant=acme, external_id="u-stranger")
    assert jay.screen_name == "jay_2"
    assert jay.ip_events == [
        {"ip": "198.51.100.4", "at": "2026-11-02T09:00:00-05:00", "event": "unknown"}
    ]
    assert jay.email == "jay@example.org", "a field left out keeps its value"
    assert jay.device_ids == ["android-4f2a"]


# README: "a field left out or `null` keeps it".
ACCOUNT_FIELDS = (
    "screen_name",
    "date_of_birth",
    "email",
    "ip_events",
    "device_ids",
    "estimated_location",
)


def test_an_account_field_sent_as_null_keeps_its_stored_value_as_readme_says(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload
) -> None:
    post(acme_api, "/api/v1/conversations", with_jay(conversation_payload))
    before = Participant.objects.get(tenant=acme, external_id="u-stranger")
    nulls = dict.fromkeys(ACCOUNT_FIELDS)

    response = post(acme_api, "/api/v1/conversations", with_jay(conversation_payload, **nulls))

    assert response.status_code == 200, response.json()
    after = Participant.objects.get(tenant=acme, external_id="u-stranger")
    assert [getattr(after, name) for name in ACCOUNT_FIELDS] == [
        getattr(before, name) for name in ACCOUNT_FIELDS
    ]


def test_a_new_participant_sent_with_null_account_fields_is_stored_without_them(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload
) -> None:
    body = conversation_payload()
    body["participants"][1] = {"external_id": "u-stranger", **dict.fromkeys(ACCOUNT_FIELDS)}

    response = post(acme_api, "/api/v1/conversations", body)

    assert response.status_code == 201, response.json()
    jay = Participant.objects.get(tenant=acme, external_id="u-stranger")
    assert (jay.screen_name, jay.ip_events, jay.estimated_location) == ("", [], {})


def test_a_null_age_in_a_later_conversation_of_a_batch_keeps_the_age_an_earlier_one_gave(
    acme: Tenant, acme_api: APIClient, conversation_payload: Payload
) -> None:
    later = conversation_payload("conv-2")
    later["participants"][0] = {"external_id": "u-mia", "declared_age": None}
    batch = {"conversations": [conversation_payload("conv-1"), later]}

    response = post(acme_api, "/api/v1/conversations/batch", batch)

    assert response.status_code == 200, response.json()
    assert Participant.objects.get(tenant=acme, external_id="u-mia").declared_age == 13


def test_a_case_copies_the_account_data_and_keeps_it_when_the_platform_changes_it(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    flagged_item(acme)  # conversation c-0: kid-0 and adult-0
    account = {**JAY_ACCOUNT, "external_id": "adult-0"}
    sent = post(
        acme_api, "/api/v1/conversations", {"external_id": "c-0", "participants": [account]}
    )
    assert sent.status_code == 200, sent.json()
    item = queue_item_claim_next(tenant=acme, moderator=alice)
    assert item is not None
    case = decision_create(
        item=item, moderator=alice, verdict="escalate_ncmec", reason_code="grooming_indicators"
    ).case

    assert case.reported_details["screen_name"] == "jay_gamer"
    assert case.reported_details["ip_events"][0] == JAY_ACCOUNT["ip_events"][0]
    assert case.reported_details["estimated_location"]["country"] == "US"

    renamed = {
        "external_id": "c-0",
        "participants": [{"external_id": "adult-0", "screen_name": "x"}],
    }
    assert post(acme_api, "/api/v1/conversations", renamed).status_code == 200
    case.refresh_from_db()
    assert Participant.objects.get(tenant=acme, external_id="adult-0").screen_name == "x"
    assert case.reported_details["screen_name"] == "jay_gamer", "the case keeps what it copied"


def test_the_openapi_schema_describes_the_account_fields(client: Any) -> None:
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()

    participant = schema["components"]["schemas"]["ParticipantInput"]["properties"]
    assert {"screen_name", "date_of_birth", "email", "ip_events", "device_ids"} <= set(participant)
    assert "estimated_location" in participant
    assert "at most 1000" in participant["ip_events"]["description"]
    ip_event = schema["components"]["schemas"]["IpEventInput"]
    assert set(ip_event["required"]) == {"ip", "at"}
