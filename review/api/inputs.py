"""Request shapes of the ingestion API, validated field by field.

The serializers only check shape and limits; cross-record rules (a sender must be a
participant, a message id may not change content) live in ``review.services.ingest``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from review.account_data import IP_EVENTS, ISO_3166_ALPHA2, MAX_DEVICE_IDS, MAX_IP_EVENTS

# External ids travel in URLs, so "/" and control characters are refused up front.
_EXTERNAL_ID = re.compile(r"^[^/\x00-\x1f\x7f]{1,255}$")


class ExternalIdField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=255, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _EXTERNAL_ID.match(value):
            raise serializers.ValidationError(
                "must be 1-255 characters with no '/' and no control characters."
            )
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class OffsetDateTimeField(serializers.Field):
    """An ISO 8601 timestamp that must carry its UTC offset; the offset is kept, because the
    time zone is part of what a report must state (18 U.S.C. 2258A(b)(2))."""

    default_error_messages = {
        "invalid": "is not an ISO 8601 timestamp (expected e.g. 2026-03-01T18:02:11+01:00).",
        "naive": "has no UTC offset; send e.g. 2026-03-01T18:02:11+01:00 or ...Z for UTC.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class MessageTextField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=settings.ARTEMIS_MAX_MESSAGE_CHARS,
            trim_whitespace=False,  # keep the text exactly as sent: it may become evidence
            error_messages={"blank": "may not be empty."},
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value.strip():
            raise serializers.ValidationError("may not be empty.")
        return value


class IpEventInput(serializers.Serializer):
    ip = serializers.IPAddressField(protocol="both", help_text="IPv4 or IPv6 address")
    at = OffsetDateTimeField(help_text="when the address was seen, ISO 8601 with UTC offset")
    event = serializers.ChoiceField(
        choices=IP_EVENTS, required=False, default="unknown", help_text="what the user did"
    )


class EstimatedLocationInput(serializers.Serializer):
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2, e.g. US"
    )
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        code = value.upper()
        if code and code not in ISO_3166_ALPHA2:
            raise serializers.ValidationError(
                f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)."
            )
        return code


class ParticipantInput(serializers.Serializer):
    """A participant and, optionally, what the platform knows about the account. The account
    fields are not message content: a later payload that sends one replaces the stored value
    (see ``review.services.ingest``)."""

    external_id = ExternalIdField()
    display_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    declared_age = serializers.IntegerField(
        min_value=0, max_value=120, required=False, allow_null=True
    )
    account_created_at = OffsetDateTimeField(required=False, allow_null=True)
    screen_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, input_formats=["iso-8601"], help_text="YYYY-MM-DD"
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    ip_events = IpEventInput(
        many=True,
        required=False,
        max_length=MAX_IP_EVENTS,
        help_text=f"at most {MAX_IP_EVENTS}; replaces the stored list when sent",
    )
    device_ids = serializers.ListField(
        child=serializers.CharField(max_length=255, allow_blank=False),
        required=False,
        max_length=MAX_DEVICE_IDS,
        help_text=f"at most {MAX_DEVICE_IDS} ids of up to 255 characters",
    )
    estimated_location = EstimatedLocationInput(required=False)

    def validate_date_of_birth(self, value: date | None) -> date | None:
        if value is not None and value > timezone.localdate():
            raise serializers.ValidationError("is in the future.")
        return value


class MessageInput(serializers.Serializer):
    external_id = ExternalIdField()
    sender = ExternalIdField(help_text="external_id of one of the conversation's participants")
    sent_at = OffsetDateTimeField(help_text="ISO 8601 with UTC offset")
    text = MessageTextField()


class ConversationInput(serializers.Serializer):
    external_id = ExternalIdField()
    platform = serializers.CharField(max_length=100, required=False, allow_blank=True)
    channel = serializers.CharField(max_length=255, required=False, allow_blank=True)
    participants = ParticipantInput(many=True, allow_empty=False)
    messages = MessageInput(many=True, allow_empty=True, required=False, default=list)


class ConversationBatchInput(serializers.Serializer):
    conversations = ConversationInput(many=True, allow_empty=False)

    def to_internal_value(self, data: Any) -> Any:
        # Check the count before validating a thousand nested records one by one.
        items = data.get("conversations") if isinstance(data, dict) else None
        limit = settings.ARTEMIS_MAX_BATCH
        if isinstance(items, list) and len(items) > limit:
            raise serializers.ValidationError(
                {"conversations": [f"at most {limit} conversations per request; got {len(items)}."]}
            )
        return super().to_internal_value(data)


class MessagesAppendInput(serializers.Serializer):
    participants = ParticipantInput(many=True, required=False, default=list)
    messages = MessageInput(many=True, allow_empty=False)
