"""The ingestion API's fast path: the request shapes of ``inputs`` checked in plain Python.

DRF's serializers cost about 40 µs a message (a field object, its validators and error
plumbing for each of four values); a batch of 10,000 messages spent most of a second there.
These functions apply the same rules to the same JSON and return the same validated data,
or None when anything is not certainly valid. None sends the request through the
serializers, so every refusal still comes from them, with their messages and field paths:
the fast path may only be stricter than the serializers, never looser, and what it returns
for a request they accept is what they return (tests/review/intake/test_fast_inputs.py
compares the two).

Records with fields the fast path does not check itself (a participant's account data) are
validated by their own serializer, one record at a time, so they are covered too without
slowing the common case; a key no serializer declares sends the request to the serializers,
which refuse it (``inputs.Input``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from review.intake.api import inputs

# Lone surrogates (from \\ud800-style escapes) are refused by DRF's CharField validators.
_SURROGATE = re.compile("[\ud800-\udfff]")
_EXTERNAL_ID = inputs.EXTERNAL_ID.match
_NOT_BLANK = re.compile(inputs._NOT_BLANK).match
_NO_NUL = re.compile(inputs._NO_NUL).match

_MESSAGE_FIELDS = ("external_id", "sender", "sent_at", "text")
_PARTICIPANT_FAST = frozenset({"external_id", "display_name", "declared_age", "account_created_at"})
_CONVERSATION_FIELDS = frozenset({"external_id", "platform", "channel", "participants", "messages"})
_APPEND_FIELDS = frozenset({"participants", "messages"})


class _Unsure(Exception):
    """Raised inside the fast path: let the serializers decide."""


def _fields(serializer: type) -> frozenset[str]:
    return frozenset(serializer().fields)


# The fast path knows these shapes; a field added to a serializer but not here turns the fast
# path off for that shape (tests/review/intake/test_fast_inputs.py says so first).
_KNOWN = (
    _fields(inputs.MessageInput) == frozenset(_MESSAGE_FIELDS)
    and _fields(inputs.ParticipantInput) >= _PARTICIPANT_FAST
    and _fields(inputs.ConversationInput) == _CONVERSATION_FIELDS
    and _fields(inputs.ConversationBatchInput) == frozenset({"conversations"})
    and _fields(inputs.MessagesAppendInput) == _APPEND_FIELDS
)


def _has_surrogate(value: str) -> bool:
    # isascii() reads a flag of the string: most text never reaches the search.
    return not value.isascii() and _SURROGATE.search(value) is not None


def _external_id(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    value = value.strip()  # CharField trims, then checks the trimmed value
    if not 0 < len(value) <= 255 or not _EXTERNAL_ID(value) or _has_surrogate(value):
        raise _Unsure
    return value


def _text_line(value: Any, max_length: int) -> str:
    if type(value) is not str:
        raise _Unsure
    value = value.strip()
    if not value:
        return ""
    if len(value) > max_length or not _NO_NUL(value) or _has_surrogate(value):
        raise _Unsure
    return value


def _message_text(value: Any, max_length: int) -> str:
    # Kept exactly as sent (no trimming): it may become evidence.
    if (
        type(value) is not str
        or not 0 < len(value) <= max_length
        or not _NOT_BLANK(value)
        or not value.strip()
        or _has_surrogate(value)
    ):
        raise _Unsure
    return value


class _Checker:
    """One request's checks; "now" is read once, so a timestamp the fast path accepts is
    one the serializer, reading the clock later, accepts too."""

    def __init__(self) -> None:
        self.latest = timezone.now() + inputs.LATEST_AHEAD
        self.max_year = self.latest.year + 1
        self.max_text = settings.ARTEMIS_MAX_MESSAGE_CHARS
        self.participant_serializer = inputs.ParticipantInput()
        self.message_serializer = inputs.MessageInput()
        # Ids as sent -> as checked: message ids and senders repeat across a batch.
        self.ids: dict[str, str] = {}

    def external_id(self, value: Any) -> str:
        checked = self.ids.get(value) if type(value) is str else None
        if checked is None:
            checked = self.ids[value] = _external_id(value)
        return checked

    def timestamp(self, value: Any) -> datetime:
        if type(value) is not str:
            raise _Unsure
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Unsure from None
        offset = moment.utcoffset()
        if (
            offset is None  # also None without a tzinfo
            or not inputs.offset_is_valid(offset)
            or not inputs.FIRST_YEAR <= moment.year <= self.max_year
            or moment > self.latest
        ):
            raise _Unsure
        return moment

    def message(self, record: Any) -> dict[str, Any]:
        if type(record) is not dict:
            raise _Unsure
        if len(record) != 4:
            return self._by_serializer(self.message_serializer, record)
        try:
            external_id = record["external_id"]
            sender = record["sender"]
            sent_at = record["sent_at"]
            text = record["text"]
        except KeyError:
            return self._by_serializer(self.message_serializer, record)
        return {
            "external_id": self.external_id(external_id),
            "sender": self.external_id(sender),
            "sent_at": self.timestamp(sent_at),
            "text": _message_text(text, self.max_text),
        }

    def participant(self, record: Any) -> dict[str, Any]:
        if type(record) is not dict:
            raise _Unsure
        if not record.keys() <= _PARTICIPANT_FAST:
            return self._by_serializer(self.participant_serializer, record)
        out = {"external_id": self.external_id(record.get("external_id"))}
        if "display_name" in record:
            out["display_name"] = _text_line(record["display_name"], 255)
        if "declared_age" in record:
            age = record["declared_age"]
            if age is not None and (type(age) is not int or not 0 <= age <= 120):
                raise _Unsure
            out["declared_age"] = age
        if "account_created_at" in record:
            created = record["account_created_at"]
            out["account_created_at"] = None if created is None else self.timestamp(created)
        return out

    def records(self, items: Any, check: Any, *, allow_empty: bool) -> list[dict[str, Any]]:
        if type(items) is not list or (not items and not allow_empty):
            raise _Unsure
        return [check(item) for item in items]

    def conversation(self, record: Any) -> dict[str, Any]:
        if type(record) is not dict or not record.keys() <= _CONVERSATION_FIELDS:
            raise _Unsure
        external_id = self.external_id(record.get("external_id"))
        if external_id in inputs.CONVERSATION_ID_RESERVED:
            raise _Unsure
        out: dict[str, Any] = {"external_id": external_id}
        if "platform" in record:
            out["platform"] = _text_line(record["platform"], 100)
        if "channel" in record:
            out["channel"] = _text_line(record["channel"], 255)
        out["participants"] = self.records(
            record.get("participants"), self.participant, allow_empty=False
        )
        messages = record.get("messages", [])
        out["messages"] = self.records(messages, self.message, allow_empty=True)
        return out

    @staticmethod
    def _by_serializer(serializer: Any, record: Any) -> dict[str, Any]:
        from rest_framework.exceptions import ValidationError

        try:
            return serializer.run_validation(record)
        except ValidationError:
            raise _Unsure from None


def conversation_batch(data: Any) -> dict[str, Any] | None:
    """``ConversationBatchInput``'s validated data, or None: ask the serializer."""
    if not _KNOWN or type(data) is not dict or data.keys() != {"conversations"}:
        return None
    items = data.get("conversations")
    if type(items) is not list or not 0 < len(items) <= settings.ARTEMIS_MAX_BATCH:
        return None
    checker = _Checker()
    try:
        return {"conversations": [checker.conversation(item) for item in items]}
    except _Unsure:
        return None


def conversation(data: Any) -> dict[str, Any] | None:
    """``ConversationInput``'s validated data, or None: ask the serializer."""
    if not _KNOWN:
        return None
    try:
        return _Checker().conversation(data)
    except _Unsure:
        return None


def messages_append(data: Any) -> dict[str, Any] | None:
    """``MessagesAppendInput``'s validated data, or None: ask the serializer."""
    if not _KNOWN or type(data) is not dict or not data.keys() <= _APPEND_FIELDS:
        return None
    checker = _Checker()
    try:
        return {
            "participants": checker.records(
                data.get("participants", []), checker.participant, allow_empty=True
            ),
            "messages": checker.records(data.get("messages"), checker.message, allow_empty=False),
        }
    except _Unsure:
        return None


FAST = {
    inputs.ConversationBatchInput: conversation_batch,
    inputs.ConversationInput: conversation,
    inputs.MessagesAppendInput: messages_append,
}
