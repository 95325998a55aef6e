"""The ingestion API's fast path gives what the serializers give, and never accepts what they
refuse: a request it is not sure of goes through them, so their messages stay the answer."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from review.intake.api import fast_inputs, inputs
from review.intake.api.views import UpsertOutput, upsert_output
from review.intake.services import conversations_upsert
from review.models import Tenant
from tests.review.intake.test_api_account_data import JAY_ACCOUNT

Payload = Callable[..., dict[str, Any]]


def by_serializer(serializer: type, data: Any) -> Any:
    checked = serializer(data=data)
    return checked.validated_data if checked.is_valid() else None


def test_every_field_of_the_request_shapes_is_known_to_the_fast_path() -> None:
    # A field added to a serializer turns the fast path off until it is taught the field.
    assert fast_inputs._KNOWN


def test_a_batch_of_plain_conversations_validates_to_the_serializers_data(
    conversation_payload: Payload,
) -> None:
    body = {"conversations": [conversation_payload(f"c-{i}") for i in range(3)]}

    fast = fast_inputs.conversation_batch(copy.deepcopy(body))

    assert fast is not None
    assert fast == by_serializer(inputs.ConversationBatchInput, body)


def test_account_data_is_checked_by_its_own_serializer(conversation_payload: Payload) -> None:
    body = conversation_payload(channel="  dm  ")
    body["participants"][1] = dict(JAY_ACCOUNT)
    body["messages"].append(
        {"external_id": "m-4", "sender": "u-mia", "sent_at": "2026-11-01T17:00:00Z", "text": "ok"}
    )

    fast = fast_inputs.conversation(copy.deepcopy(body))

    assert fast is not None
    assert fast == by_serializer(inputs.ConversationInput, body)
    assert fast["participants"][1]["estimated_location"]["country"] == "US"


def test_values_at_the_edges_of_each_rule_validate_alike(conversation_payload: Payload) -> None:
    latest = datetime.now(UTC) + timedelta(hours=23)
    body = conversation_payload(external_id="  padded id  ", platform="", messages=[])
    body["participants"] = [
        {"external_id": "u-1", "display_name": "   ", "declared_age": None},
        {"external_id": "u-2", "display_name": "x" * 255, "declared_age": 120},
        {"external_id": " u-3", "declared_age": 0},
        {"external_id": "u-4", "account_created_at": "1990-01-01T00:00:00+14:00"},
        {"external_id": "u-5", "account_created_at": latest.isoformat(), "declared_age": 13},
        {"external_id": "u-6", "account_created_at": None},
    ]
    for i, (sent_at, text) in enumerate(
        [
            ("1990-01-01T00:00:00+14:00", "  kept with its spaces  "),
            (latest.isoformat(), "x" * settings.ARTEMIS_MAX_MESSAGE_CHARS),
            ("2026-11-01T18:00:00.123456-09:30", "emoji \U0001f600 and \u00e9"),
            ("2026-11-01T18:00:00-14:00", "the widest offset west"),
            ("2026-11-01T18:00:00+05:45:00", "whole minutes, written with seconds"),
        ]
    ):
        body["messages"].append(
            {"external_id": f"m-{i}", "sender": "u-1", "sent_at": sent_at, "text": text}
        )

    fast = fast_inputs.conversation(copy.deepcopy(body))

    assert fast is not None
    assert fast == by_serializer(inputs.ConversationInput, body)
    assert fast["external_id"] == "padded id"
    assert fast["messages"][0]["text"] == "  kept with its spaces  "
    assert fast["participants"][3]["account_created_at"].utcoffset() == timedelta(hours=14)


def test_an_append_validates_to_the_serializers_data(conversation_payload: Payload) -> None:
    body = {"messages": conversation_payload()["messages"]}

    fast = fast_inputs.messages_append(copy.deepcopy(body))

    assert fast is not None
    assert fast == by_serializer(inputs.MessagesAppendInput, body)
    assert fast["participants"] == []


def test_a_value_only_the_serializer_accepts_is_left_to_it(conversation_payload: Payload) -> None:
    body = conversation_payload()
    body["participants"][0]["declared_age"] = 13.0  # an integer to JSON Schema, a float here

    assert fast_inputs.conversation(copy.deepcopy(body)) is None
    assert by_serializer(inputs.ConversationInput, body)["participants"][0]["declared_age"] == 13


def _far() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


# Each a change that makes a valid conversation invalid: the fast path must hand it over.
BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "id missing": lambda b: b.pop("external_id"),
    "id blank": lambda b: b.update(external_id="   "),
    "id with a slash": lambda b: b.update(external_id="a/b"),
    "id too long": lambda b: b.update(external_id="x" * 256),
    "id a number": lambda b: b.update(external_id=7),
    "id a lone surrogate": lambda b: b.update(external_id="a\ud800"),
    "id batch": lambda b: b.update(external_id="batch"),
    "id batch padded": lambda b: b.update(external_id=" batch "),
    "id a dot": lambda b: b.update(external_id="."),
    "id two dots": lambda b: b.update(external_id=".."),
    "platform null": lambda b: b.update(platform=None),
    "platform too long": lambda b: b.update(platform="p" * 101),
    "platform with NUL": lambda b: b.update(platform="a\x00b"),
    "no participants": lambda b: b.update(participants=[]),
    "participants an object": lambda b: b.update(participants={}),
    "participant a string": lambda b: b["participants"].__setitem__(0, "u-mia"),
    "age a word": lambda b: b["participants"][0].update(declared_age="thirteen"),
    "age true": lambda b: b["participants"][0].update(declared_age=True),
    "age 121": lambda b: b["participants"][0].update(declared_age=121),
    "age -1": lambda b: b["participants"][0].update(declared_age=-1),
    "age 13.5": lambda b: b["participants"][0].update(declared_age=13.5),
    "display name null": lambda b: b["participants"][0].update(display_name=None),
    "account date without offset": lambda b: b["participants"][0].update(
        account_created_at="2026-01-01T10:00:00"
    ),
    "account date a word": lambda b: b["participants"][0].update(account_created_at="last year"),
    "account date a number": lambda b: b["participants"][0].update(account_created_at=2026),
    "account date before 1990": lambda b: b["participants"][0].update(
        account_created_at="1989-12-31T23:59:59Z"
    ),
    "account date two days ahead": lambda b: b["participants"][0].update(account_created_at=_far()),
    "bad email": lambda b: b["participants"][1].update(email="not-an-email"),
    "messages null": lambda b: b.update(messages=None),
    "message a list": lambda b: b["messages"].__setitem__(0, []),
    "message without text": lambda b: b["messages"][0].pop("text"),
    "text empty": lambda b: b["messages"][0].update(text=""),
    "text blank": lambda b: b["messages"][0].update(text=" \n\t "),
    "text with NUL": lambda b: b["messages"][0].update(text="hi\x00"),
    "text too long": lambda b: b["messages"][0].update(
        text="x" * (settings.ARTEMIS_MAX_MESSAGE_CHARS + 1)
    ),
    "text a number": lambda b: b["messages"][0].update(text=5),
    "text a lone surrogate": lambda b: b["messages"][0].update(text="hi \udc00"),
    "sender with a control character": lambda b: b["messages"][0].update(sender="u\x01"),
    "sent_at without offset": lambda b: b["messages"][0].update(sent_at="2026-11-01T18:00:00"),
    "sent_at not a date": lambda b: b["messages"][0].update(sent_at="yesterday"),
    "sent_at a number": lambda b: b["messages"][0].update(sent_at=1767225600),
    "sent_at before 1990": lambda b: b["messages"][0].update(sent_at="1989-12-31T23:59:59Z"),
    "sent_at two days ahead": lambda b: b["messages"][0].update(sent_at=_far()),
    "sent_at offset past a day": lambda b: b["messages"][0].update(
        sent_at="2026-11-01T18:00:00-23:59:59.999999"
    ),
    "sent_at offset with seconds": lambda b: b["messages"][0].update(
        sent_at="2026-11-01T18:00:00+01:00:30"
    ),
    "sent_at offset past 14 hours": lambda b: b["messages"][0].update(
        sent_at="2026-11-01T18:00:00+14:01"
    ),
    "account date offset with seconds": lambda b: b["participants"][0].update(
        account_created_at="2026-01-01T10:00:00-00:00:01"
    ),
    "account date offset past 14 hours": lambda b: b["participants"][0].update(
        account_created_at="2026-01-01T10:00:00-15:00"
    ),
    "extra key and bad text": lambda b: b["messages"][0].update(mood="x", text=""),
    # A key no shape declares is refused (inputs.Input), at every level.
    "a message's undeclared key": lambda b: b["messages"][0].update(mood="x"),
    "a participant's undeclared key": lambda b: b["participants"][1].update(nickname="x"),
    "an account's undeclared key": lambda b: b["participants"][0].update(
        estimated_location={"country": "US", "town": "x"}
    ),
    "a conversation's undeclared key": lambda b: b.update(mesages=[]),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_an_invalid_conversation_is_left_to_the_serializer(
    breakage: str, conversation_payload: Payload
) -> None:
    body = conversation_payload()
    BREAKAGES[breakage](body)

    assert by_serializer(inputs.ConversationInput, body) is None, "the serializer refuses it"
    assert fast_inputs.conversation(copy.deepcopy(body)) is None
    assert fast_inputs.conversation_batch({"conversations": [body]}) is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"conversations": []},
        {"conversations": {}},
        {"conversations": None},
        {"conversations": ["x"]},
    ],
)
def test_an_invalid_batch_is_left_to_the_serializer(body: dict[str, Any]) -> None:
    assert by_serializer(inputs.ConversationBatchInput, body) is None
    assert fast_inputs.conversation_batch(body) is None


def test_a_batch_over_the_limit_is_left_to_the_serializer(conversation_payload: Payload) -> None:
    one = conversation_payload()
    body = {"conversations": [one] * (settings.ARTEMIS_MAX_BATCH + 1)}

    assert fast_inputs.conversation_batch(body) is None


def test_an_append_without_messages_is_left_to_the_serializer() -> None:
    for body in ({}, {"messages": []}, {"messages": None}, {"participants": None}):
        assert by_serializer(inputs.MessagesAppendInput, body) is None
        assert fast_inputs.messages_append(body) is None


@pytest.mark.django_db
def test_the_batch_answer_per_conversation_is_what_the_output_serializer_gives(
    acme: Tenant, conversation_payload: Payload
) -> None:
    records = [by_serializer(inputs.ConversationInput, conversation_payload())]
    [result] = conversations_upsert(tenant=acme, records=records)

    assert upsert_output(result) == UpsertOutput(result).data
    assert list(upsert_output(result)) == list(UpsertOutput(result).data)
