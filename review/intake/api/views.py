"""Ingestion API, v1. Each endpoint validates its input, calls one service, and answers with
the same error shape (review.intake.api.errors). Authenticated by tenant API key; the tenant comes
from the key, never from the request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review.intake import selectors
from review.intake.api import fast_inputs, inputs
from review.intake.api.auth import PlatformClient
from review.intake.services import UpsertResult, conversations_upsert, messages_append
from review.models import Conversation, Tenant
from review.operations.metrics import INGEST_CONVERSATIONS


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class UpsertOutput(serializers.Serializer):
    external_id = serializers.CharField(source="conversation.external_id")
    status = serializers.CharField(source="conversation.status")
    message_count = serializers.IntegerField(source="conversation.message_count")
    created = serializers.BooleanField()
    messages_created = serializers.IntegerField()
    messages_unchanged = serializers.IntegerField()


def upsert_output(result: UpsertResult) -> dict[str, Any]:
    """``UpsertOutput(result).data`` without a serializer per result (a batch has up to
    1,000): the same keys in the same order, the same types."""
    conversation = result.conversation
    return {
        "external_id": str(conversation.external_id),
        "status": str(conversation.status),
        "message_count": int(conversation.message_count),
        "created": bool(result.created),
        "messages_created": int(result.messages_created),
        "messages_unchanged": int(result.messages_unchanged),
    }


ERRORS = {
    400: OpenApiResponse(description="Invalid input; `fields` names each bad field by path."),
    401: OpenApiResponse(description="Missing, unknown or revoked API key."),
    409: OpenApiResponse(description="A message id already exists with different content."),
    413: OpenApiResponse(description="Request body over 10 MB."),
}


class TenantApi(APIView):
    """Base: the tenant is the API key's; a body over the size limit is refused before it is
    read."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        limit = settings.ARTEMIS_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(
                f"request body is {length} bytes; the limit is {limit} bytes (10 MB). "
                "Split the batch."
            )

    @property
    def tenant(self) -> Tenant:
        client: PlatformClient = self.request.user  # type: ignore[assignment]
        return client.tenant

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError({"body": ["must be a JSON object."]})
        # Plain Python first; anything it is not sure of (every refusal) goes through the
        # serializer, which names the problem.
        fast = fast_inputs.FAST.get(serializer_class)
        data = fast(self.request.data) if fast is not None else None
        if data is not None:
            return data
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# The conversation's external id in the URL follows the body's rule (no control characters:
# %00 used to reach PostgreSQL, which refused it with a 500).
EXTERNAL_ID_IN_PATH = OpenApiParameter(
    "external_id",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": inputs.EXTERNAL_ID.pattern.replace("\\A", "^")
        .replace("\\Z", "$")
        .replace("\\x", "\\u00"),
    },
    OpenApiParameter.PATH,
    description="the conversation's external id: " + inputs.EXTERNAL_ID_RULE,
)


class ConversationUpsertApi(TenantApi):
    @extend_schema(
        operation_id="conversation_upsert",
        request=inputs.ConversationInput,
        responses={200: UpsertOutput, 201: UpsertOutput, **ERRORS},
        summary="Create a conversation or add to it (idempotent on external ids)",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(inputs.ConversationInput)
        [result] = conversations_upsert(tenant=self.tenant, records=[data])
        _count([result])
        return Response(UpsertOutput(result).data, status=_created_status(result))


class ConversationBatchUpsertApi(TenantApi):
    @extend_schema(
        operation_id="conversation_batch_upsert",
        request=inputs.ConversationBatchInput,
        responses={
            200: inline_serializer("BatchOutput", {"conversations": UpsertOutput(many=True)}),
            **ERRORS,
        },
        summary="Create or extend up to 1,000 conversations in one transaction",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(inputs.ConversationBatchInput)
        records = data["conversations"]
        results = conversations_upsert(
            tenant=self.tenant,
            records=records,
            paths=[f"conversations[{i}]." for i in range(len(records))],
        )
        _count(results)
        return Response({"conversations": [upsert_output(result) for result in results]})


class ConversationMessagesAppendApi(TenantApi):
    @extend_schema(
        operation_id="conversation_messages_append",
        request=inputs.MessagesAppendInput,
        parameters=[EXTERNAL_ID_IN_PATH],
        responses={200: UpsertOutput, 201: UpsertOutput, 404: OpenApiResponse(), **ERRORS},
        summary="Append messages to a conversation",
    )
    def post(self, request: Request, external_id: str) -> Response:
        inputs.external_id_check(external_id)
        data = self.validated(inputs.MessagesAppendInput)
        try:
            result = messages_append(
                tenant=self.tenant,
                external_id=external_id,
                messages=data["messages"],
                participants=data["participants"],
            )
        except Conversation.DoesNotExist:
            raise exceptions.NotFound(f"no conversation {external_id!r}.") from None
        _count([result])
        return Response(UpsertOutput(result).data, status=_created_status(result))


class AssessmentOutput(serializers.Serializer):
    probability = serializers.FloatField()
    model_version = serializers.CharField()
    characteristic_scores = serializers.DictField(child=serializers.FloatField())
    flagged_characteristics = serializers.SerializerMethodField()
    message_count = serializers.IntegerField()
    scored_at = serializers.DateTimeField()

    def get_flagged_characteristics(self, obj: Any) -> list[str]:
        return obj.flagged_characteristics


class ConversationDetailOutput(serializers.Serializer):
    external_id = serializers.CharField()
    platform = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    message_count = serializers.IntegerField()
    scoring = serializers.SerializerMethodField(help_text="'pending' while a score is owed")
    latest_assessment = serializers.SerializerMethodField()

    def get_scoring(self, obj: Conversation) -> str:
        return "pending" if obj.score_requested_at else "up_to_date"

    @extend_schema_field(AssessmentOutput(allow_null=True))
    def get_latest_assessment(self, obj: Conversation) -> dict[str, Any] | None:
        latest = self.context["latest"]
        return AssessmentOutput(latest).data if latest else None


class ConversationDetailApi(TenantApi):
    @extend_schema(
        operation_id="conversation_detail",
        parameters=[EXTERNAL_ID_IN_PATH],
        responses={
            200: ConversationDetailOutput,
            400: ERRORS[400],
            401: ERRORS[401],
            404: OpenApiResponse(),
        },
        summary="A conversation's status and latest assessment (no message text)",
    )
    def get(self, request: Request, external_id: str) -> Response:
        inputs.external_id_check(external_id)
        try:
            conversation = selectors.conversation_get(tenant=self.tenant, external_id=external_id)
        except Conversation.DoesNotExist:
            raise exceptions.NotFound(f"no conversation {external_id!r}.") from None
        latest = selectors.assessment_latest(tenant=self.tenant, conversation=conversation)
        return Response(ConversationDetailOutput(conversation, context={"latest": latest}).data)


def _count(results: list[UpsertResult]) -> None:
    """Accepted conversations for the metrics: new, given new messages, or resent as they were."""
    for result in results:
        outcome = "created" if result.created else "extended" if result.messages_created else "same"
        INGEST_CONVERSATIONS.labels(outcome=outcome).inc()


def _created_status(result: UpsertResult) -> int:
    return (
        status.HTTP_201_CREATED if result.created or result.messages_created else status.HTTP_200_OK
    )
