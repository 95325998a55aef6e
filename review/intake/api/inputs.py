"""Request shapes of the ingestion API, validated field by field.

The serializers only check shape and limits; cross-record rules (a sender must be a
participant, a message id may not change content) live in ``review.services.ingest``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from review.intake.account_data import IP_EVENTS, ISO_3166_ALPHA2, MAX_DEVICE_IDS, MAX_IP_EVENTS

# Each rule below is a validator the OpenAPI schema also states (drf-spectacular turns a
# RegexValidator into "pattern", \A and \Z into ^ and $), so a request the schema allows is
# one the API accepts. The patterns are linear: no two adjacent parts can match the same
# character, so a long hostile value cannot make them backtrack.


class _Pattern(RegexValidator):
    """A fullmatch pattern, skipped past ``max_length`` (the length rule names that)."""

    def __init__(self, regex: str, message: str, max_length: int | None = None) -> None:
        super().__init__(regex, message)
        self.max_length = max_length

    def __call__(self, value: Any) -> None:
        if self.max_length is None or len(str(value)) <= self.max_length:
            super().__call__(value)


# Characters that are not seen but change what is: C1 controls, bidi embeddings, overrides
# and isolates, zero-width spaces and joiners, the byte-order mark. "rtl\u202eabc" shows as
# "rtlcba" in the console, a CSV and a referral package.
INVISIBLE = r"\x80-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# External ids travel in URLs: no '/', no control or invisible characters, not only
# whitespace.
EXTERNAL_ID = re.compile(
    rf"\A[^\S\x00-\x1f\x7f{INVISIBLE}]*[^/\s\x00-\x1f\x7f{INVISIBLE}][^/\x00-\x1f\x7f{INVISIBLE}]*\Z"
)
EXTERNAL_ID_RULE = (
    "must be 1-255 characters with no '/', no control characters and no invisible ones "
    "(bidi overrides, zero-width spaces)."
)
# A conversation's id is also a URL of its own: /conversations/batch is the batch endpoint,
# and clients that normalise paths never send "." or ".." as a segment. Checked after the
# value is trimmed, as the other rules are.
CONVERSATION_ID_RESERVED = ("batch", ".", "..")
CONVERSATION_ID = re.compile(
    r"\A(?!\s*(?:batch|\.\.?)\s*\Z)" + EXTERNAL_ID.pattern.removeprefix(r"\A")
)
CONVERSATION_ID_RULE = (
    "may not be 'batch', '.' or '..': a conversation's id is part of its URL, and those "
    "URLs mean something else."
)
_DEVICE_ID = (
    rf"\A[^\S\x00-\x1f\x7f{INVISIBLE}]*[^\s\x00-\x1f\x7f{INVISIBLE}][^\x00-\x1f\x7f{INVISIBLE}]*\Z"
)
_NO_NUL = r"\A[^\x00]+\Z"  # blank is allowed (or not) before this rule runs
_NOT_BLANK = r"\A\s*[^\s\x00][^\x00]*\Z"

# Timestamps from before the platform era or from the future are mistakes (or attempts to
# overflow date arithmetic: 0001-01-01T00:00:00+14:00 is before the first UTC instant). The
# first year is read as written (the year of the local date), as the schema's pattern says.
FIRST_YEAR = 1990
LATEST_AHEAD = timedelta(days=1)
FIRST_BIRTH_YEAR = 1900


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField turns 0 or 1.5 into "0" and "1.5", so a number
    where the schema says string would be stored as if the platform had sent it as text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, not {type(data).__name__}.")
        return super().to_internal_value(data)


# JSON's names for what a parsed body holds, for messages the platform's developer reads.
JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    float: "a number",
    list: "an array",
    dict: "an object",
}


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, and only that: DRF's IntegerField takes "14" and "14.0" too, more than
    the schema's ``integer`` says, so a platform's client built from the schema and one
    written by hand would disagree on what is an age. A number without a fraction (14.0)
    is an integer, as JSON Schema has it."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if type(data) is not int:
            found = JSON_TYPES.get(type(data), type(data).__name__)
            raise serializers.ValidationError(f"must be a whole number, not {found}.")
        return super().to_internal_value(data)


class ExternalIdField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=255, **kwargs)
        self.validators.append(_Pattern(EXTERNAL_ID.pattern, EXTERNAL_ID_RULE, 255))


class ConversationIdField(ExternalIdField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Replaces the general rule (the same rule, with the reserved ids left out), so the
        # schema states one pattern and an id that breaks both gets one message.
        self.validators[-1] = _Pattern(CONVERSATION_ID.pattern, EXTERNAL_ID_RULE, 255)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value in CONVERSATION_ID_RESERVED:
            raise serializers.ValidationError(CONVERSATION_ID_RULE)
        return value


class DeviceIdField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=255, **kwargs)
        self.validators.append(
            _Pattern(_DEVICE_ID, "must be 1-255 characters with no control characters.", 255)
        )


class TextLineField(StrictCharField):
    """Free text other than a message (a name, a platform): no NUL, as PostgreSQL requires."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(_Pattern(_NO_NUL, "may not contain NUL characters."))


@extend_schema_field({"type": "string", "enum": ["", *sorted(ISO_3166_ALPHA2)]})
class CountryField(StrictCharField):
    pass


@extend_schema_field({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
class IpField(serializers.IPAddressField):
    pass


def external_id_check(value: str, *, field: str = "external_id") -> str:
    """An external id from a URL, checked and trimmed as the body's ids are (400 naming the
    field); returns the id to look up. Untrimmed, " chat-1 " was stored as "chat-1" when
    posted and then not found at its own URL."""
    value = value.strip()
    if len(value) > 255 or not EXTERNAL_ID.match(value):
        raise serializers.ValidationError({field: [EXTERNAL_ID_RULE]})
    return value


def _alternatives(first: int, last: int) -> str:
    return "|".join(f"{n:02d}" for n in range(first, last + 1))


def dates_until(first_year: int, last: date) -> str:
    """A pattern for the date at the start of an ISO string, from ``first_year`` to ``last``:
    the part of a date range JSON Schema can state (``format`` has no minimum or maximum).
    Full years by decade (``199[0-9]``), then the last year's months, then the last month's
    days. ASCII digits only: ``\\d`` would also match other scripts' digits in Python."""
    years = []
    for decade in range(first_year - first_year % 10, last.year, 10):
        low, high = max(first_year, decade) % 10, min(last.year - 1, decade + 9) % 10
        years.append(f"{decade // 10}[{low}-{high}]")
    parts = [f"(?:{'|'.join(years)})-[0-9]{{2}}-[0-9]{{2}}"] if years else []
    if last.month > 1:
        parts.append(f"{last.year}-(?:{_alternatives(1, last.month - 1)})-[0-9]{{2}}")
    parts.append(f"{last:%Y-%m}-(?:{_alternatives(1, last.day)})")
    return f"^(?:{'|'.join(parts)})"


# UTC offsets: whole minutes, as a message's offset is stored (seconds would be rounded away
# unseen), and at most 14:00 either way, as NCMEC's xs:dateTime allows (Kiribati is +14:00).
# Past a day, an offset also broke every later use of the time (scoring, the review page).
MAX_OFFSET = timedelta(hours=14)
# The same for the schema, which cannot compare: the time, then Z or an offset up to 14:00
# (format date-time already allows only hours and minutes).
_OFFSET_LAST = r"[^Zz+-]*(?:[Zz]|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"


def offset_is_valid(offset: timedelta) -> bool:
    return -MAX_OFFSET <= offset <= MAX_OFFSET and not offset % timedelta(minutes=1)


class OffsetDateTimeField(serializers.Field):
    """An ISO 8601 timestamp that must carry its UTC offset; the offset is kept, because the
    time zone is part of what a report must state (18 U.S.C. 2258A(b)(2)). Its year must be
    1990 or later, and it must be at most one day after now."""

    default_error_messages = {
        "invalid": "is not an ISO 8601 timestamp (expected e.g. 2026-03-01T18:02:11+01:00).",
        "naive": "has no UTC offset; send e.g. 2026-03-01T18:02:11+01:00 or ...Z for UTC.",
        "range": "must be from the year 1990 to one day after now ({latest}).",
        "offset": "has a UTC offset that is not whole minutes from -14:00 to +14:00; send "
        "hours and minutes, e.g. +05:45 or -03:30.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        offset = value.utcoffset()
        if offset is None:  # also None without a tzinfo
            self.fail("naive")
        if not offset_is_valid(offset):
            self.fail("offset")
        latest = timezone.now() + LATEST_AHEAD
        # The year comes first: converting year 1 or 9999 to UTC can overflow.
        if not FIRST_YEAR <= value.year <= latest.year + 1 or value > latest:
            self.fail("range", latest=latest.isoformat(timespec="seconds"))
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class OffsetDateTimeSchema(OpenApiSerializerFieldExtension):
    target_class = OffsetDateTimeField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        # Up to tomorrow's date (UTC): later on that day is refused, which no pattern can say.
        # The offset last: date-time's is hours and minutes, and this keeps it within 14:00.
        tomorrow = (timezone.now() + LATEST_AHEAD).date()
        return {
            "type": "string",
            "format": "date-time",
            "pattern": dates_until(FIRST_YEAR, tomorrow) + "T" + _OFFSET_LAST,
        }


class BirthDateField(serializers.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value: Any) -> date:
        born = super().to_internal_value(value)
        if born.year < FIRST_BIRTH_YEAR:
            raise serializers.ValidationError(f"is before {FIRST_BIRTH_YEAR}.")
        if born > timezone.localdate():
            raise serializers.ValidationError("is in the future.")
        return born


class BirthDateSchema(OpenApiSerializerFieldExtension):
    target_class = BirthDateField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "type": "string",
            "format": "date",
            "pattern": dates_until(FIRST_BIRTH_YEAR, today) + "$",
        }


class MessageTextField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            min_length=1,
            max_length=settings.ARTEMIS_MAX_MESSAGE_CHARS,
            trim_whitespace=False,  # keep the text exactly as sent: it may become evidence
            error_messages={"blank": "may not be empty."},
            **kwargs,
        )
        self.validators.append(
            _Pattern(
                _NOT_BLANK,
                "must hold a character other than whitespace, and no NUL.",
                settings.ARTEMIS_MAX_MESSAGE_CHARS,
            )
        )

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value.strip():
            raise serializers.ValidationError("may not be empty.")
        return value


# The longest key name an error repeats: a key is the client's text, not ours to echo whole.
SHOWN_KEY = 64


# How an undeclared key's error begins (the metrics count it without the key's name).
UNDECLARED = "is not a field here"


# A request shape that refuses a key it does not declare, naming it and the field it was
# most likely meant to be. Ignoring it, as DRF does, turned a misspelt ``declared_age`` into
# a child's stated age silently dropped, and a misspelt ``messages`` into a conversation
# stored without them, each answered 201. (A comment, not a docstring: the OpenAPI schema
# describes each request shape by its own docstring, and would inherit this one.)
class Input(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        unknown = self._unknown(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def _unknown(self, data: Any) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}
        known = list(self.fields)
        found = {}
        for key in data:
            if key in self.fields:
                continue
            name = str(key)
            shown = name if len(name) <= SHOWN_KEY else name[:SHOWN_KEY] + "…"
            nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{nearest[0]}'?"
                if nearest
                else f"the fields are {', '.join(known)}."
            )
            found[shown] = [f"{UNDECLARED} ({hint})"]
        return found


@cache
def declared_field_names() -> frozenset[str]:
    """Every field name a request shape declares (``participants``, ``declared_age``, ...):
    what a path may name without quoting a client's own key."""
    names: set[str] = set()
    todo: list[type[Input]] = [Input]
    while todo:
        shape = todo.pop()
        names.update(shape._declared_fields)
        todo.extend(shape.__subclasses__())
    return frozenset(names)


class IpEventInput(Input):
    """An IP address the account used, when, and in what event (login, message, ...)."""

    ip = IpField(protocol="both", help_text="IPv4 or IPv6 address")
    at = OffsetDateTimeField(
        help_text="when the address was seen: ISO 8601 with UTC offset, from the year "
        "1990 to one day after now"
    )
    event = serializers.ChoiceField(
        choices=IP_EVENTS, required=False, default="unknown", help_text="what the user did"
    )


class EstimatedLocationInput(Input):
    """Where the platform estimates the account is: a country (ISO 3166-1 alpha-2), a region
    and a city."""

    country = CountryField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2, e.g. US"
    )
    region = TextLineField(max_length=100, required=False, allow_blank=True)
    city = TextLineField(max_length=100, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        code = value.upper()
        if code and code not in ISO_3166_ALPHA2:
            raise serializers.ValidationError(
                f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)."
            )
        return code


# Stored by review.intake.services. Null keeps an account field as leaving it out does
# (README, "API quick start"): many platforms' JSON writers send an unknown value as null,
# and refusing it refused the whole conversation. This docstring is the public schema's
# description of a participant.
class ParticipantInput(Input):
    """A participant and, optionally, what the platform knows about the account. The account
    fields are not message content: a later payload that sends one replaces the stored
    value; one left out or null keeps it."""

    external_id = ExternalIdField()
    display_name = TextLineField(max_length=255, required=False, allow_blank=True)
    declared_age = StrictIntegerField(min_value=0, max_value=120, required=False, allow_null=True)
    account_created_at = OffsetDateTimeField(required=False, allow_null=True)
    screen_name = TextLineField(max_length=255, required=False, allow_blank=True, allow_null=True)
    date_of_birth = BirthDateField(
        required=False, allow_null=True, help_text="YYYY-MM-DD, from 1900-01-01 to today"
    )
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )
    ip_events = IpEventInput(
        many=True,
        required=False,
        max_length=MAX_IP_EVENTS,
        allow_null=True,
        help_text=f"at most {MAX_IP_EVENTS}; replaces the stored list when sent",
    )
    device_ids = serializers.ListField(
        child=DeviceIdField(allow_blank=False),
        required=False,
        max_length=MAX_DEVICE_IDS,
        allow_null=True,
        help_text=f"at most {MAX_DEVICE_IDS} ids of up to 255 characters",
    )
    estimated_location = EstimatedLocationInput(required=False, allow_null=True)


class MessageInput(Input):
    """One message: your id for it, the sender's participant id, when it was sent (with its UTC
    offset) and its text, exactly as sent."""

    external_id = ExternalIdField()
    sender = ExternalIdField(help_text="external_id of one of the conversation's participants")
    sent_at = OffsetDateTimeField(
        help_text="ISO 8601 with UTC offset, from the year 1990 to one day after now"
    )
    text = MessageTextField()


class ConversationInput(Input):
    """A conversation: your id for it, its participants and its messages. Sent again, it adds
    the messages not yet stored; a message already stored must be sent as it was."""

    external_id = ConversationIdField()
    platform = TextLineField(max_length=100, required=False, allow_blank=True)
    channel = TextLineField(max_length=255, required=False, allow_blank=True)
    participants = ParticipantInput(many=True, allow_empty=False)
    messages = MessageInput(many=True, allow_empty=True, required=False, default=list)


class ConversationBatchInput(Input):
    """Up to the batch limit of conversations, stored all or none."""

    conversations = ConversationInput(
        many=True, allow_empty=False, max_length=settings.ARTEMIS_MAX_BATCH
    )

    def to_internal_value(self, data: Any) -> Any:
        # Check the count before validating a thousand nested records one by one.
        items = data.get("conversations") if isinstance(data, dict) else None
        limit = settings.ARTEMIS_MAX_BATCH
        if isinstance(items, list) and len(items) > limit:
            raise serializers.ValidationError(
                {"conversations": [f"at most {limit} conversations per request; got {len(items)}."]}
            )
        return super().to_internal_value(data)


class MessagesAppendInput(Input):
    """New messages of a stored conversation, and any participants they bring."""

    participants = ParticipantInput(many=True, required=False, default=list)
    messages = MessageInput(many=True, allow_empty=False)


def list_limits(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: state each nested list's item limits (allow_empty,
    max_length), which it leaves out for a serializer with ``many=True``."""
    schemas = result.get("components", {}).get("schemas", {})
    for serializer in (
        ConversationBatchInput,
        ConversationInput,
        ParticipantInput,
        MessagesAppendInput,
    ):
        properties = schemas.get(serializer.__name__, {}).get("properties", {})
        for name, field in serializer().fields.items():
            if not isinstance(field, serializers.ListSerializer) or name not in properties:
                continue
            if not field.allow_empty:
                properties[name]["minItems"] = 1
            if field.max_length is not None:
                properties[name]["maxItems"] = field.max_length
    return result


def closed_shapes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every ``Input`` shape says it takes no other key
    (``additionalProperties: false``), as the API refuses one."""
    schemas = result.get("components", {}).get("schemas", {})
    pending = list(Input.__subclasses__())
    while pending:
        shape = pending.pop()
        pending += shape.__subclasses__()
        if shape.__name__ in schemas:
            schemas[shape.__name__]["additionalProperties"] = False
    return result
