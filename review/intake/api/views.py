"""Ingestion API, v1. Each endpoint validates its input, calls one service, and answers with
the same error shape (review.intake.api.errors). Authenticated by tenant API key; the tenant comes
from the key, never from the request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
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


# Built by review.intake.api.errors. A serializer's docstring is its description in the
# public schema, so this one is written for the platform's developers.
class ErrorOutput(serializers.Serializer):
    """The one error shape of every answer under /api/: a code, a sentence, and each bad
    field by its path in the request."""

    error = serializers.CharField(help_text="a code: invalid, conflict, not_found, throttled...")
    detail = serializers.CharField(help_text="the problem in a sentence, naming its field")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="each bad field by its path in the request (messages[1].sent_at) and what "
        "is wrong with it",
    )


def error(description: str) -> OpenApiResponse:
    """An error answer in the schema, with its body: a client generated from the schema
    reads the error and its fields (without one, a 404 read "No response body")."""
    return OpenApiResponse(ErrorOutput, description=description)


# The error answers of a write: a refused key or body, a conflict with what is stored.
ERRORS = {
    400: error("Invalid input; `fields` names each bad field by path."),
    401: error("Missing, unknown or revoked API key."),
    409: error(
        "A conflict with what was sent before: a message id with different content, or a "
        "conversation's platform or channel changed."
    ),
    413: error("Request body over 10 MB."),
    415: error("The body is not JSON: send `Content-Type: application/json`."),
    429: error("Too many wrong API keys from this address: retry after `Retry-After` seconds."),
}
READ_ERRORS = {code: ERRORS[code] for code in (400, 401, 429)}
# Headers of some answers, in the schema (an operation lists them in ``parameters``).
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="seconds to wait before the next try",
)
LOCATION = OpenApiParameter(
    "Location",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description="the URL of what was created (relative to this server)",
)
NOT_FOUND = error("No such conversation of yours (another tenant's answers the same as none).")


EMPTY_BODY = (
    "is empty: send a JSON object with a Content-Length header (a chunked body is not read)."
)


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
        if self.request.stream is None:
            # DRF reads no body as {}, whose answer was "external_id: This field is
            # required": a client that streamed its JSON chunked (Django reads only a body
            # with a Content-Length) was told its conversation had no id.
            raise exceptions.ValidationError({"body": [EMPTY_BODY]})
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
        parameters=[LOCATION, RETRY_AFTER],
        responses={200: UpsertOutput, 201: UpsertOutput, **ERRORS},
        summary="Create a conversation or add to it (idempotent on external ids)",
        description="201 when the conversation or any message is new, 200 when all of it was "
        "already stored. Messages are never overwritten: a message id resent with other "
        "content is 409. The whole request is written or none of it.",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(inputs.ConversationInput)
        [result] = conversations_upsert(tenant=self.tenant, records=[data])
        _count([result])
        return located(
            Response(UpsertOutput(result).data, status=_created_status(result)),
            "api-conversation-detail",
            external_id=result.conversation.external_id,
        )


class ConversationBatchUpsertApi(TenantApi):
    @extend_schema(
        operation_id="conversation_batch_upsert",
        request=inputs.ConversationBatchInput,
        parameters=[RETRY_AFTER],
        responses={
            200: inline_serializer("BatchOutput", {"conversations": UpsertOutput(many=True)}),
            **ERRORS,
        },
        summary="Create or extend up to 1,000 conversations in one transaction",
        description="Each conversation as in `conversation_upsert`; one bad conversation "
        "refuses the whole batch, naming it by its position (`conversations[2].…`).",
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
        parameters=[EXTERNAL_ID_IN_PATH, RETRY_AFTER],
        responses={200: UpsertOutput, 201: UpsertOutput, 404: NOT_FOUND, **ERRORS},
        summary="Append messages to a conversation",
        description="A sender must be one of the conversation's participants, or be listed "
        "under `participants` in this request. 201 when a message is new, 200 when all were "
        "already stored.",
    )
    def post(self, request: Request, external_id: str) -> Response:
        external_id = inputs.external_id_check(external_id)
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
        parameters=[EXTERNAL_ID_IN_PATH, RETRY_AFTER],
        responses={
            200: ConversationDetailOutput,
            **READ_ERRORS,
            404: NOT_FOUND,
        },
        summary="A conversation's status and latest assessment (no message text)",
        description="`scoring` is `pending` while a score is owed; `latest_assessment` is null "
        "until the first score.",
    )
    def get(self, request: Request, external_id: str) -> Response:
        external_id = inputs.external_id_check(external_id)
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


def located(response: Response, url_name: str, **kwargs: str) -> Response:
    """A 201 names what it created in ``Location`` (RFC 9110, 15.3.2), so a client can read
    it back without building the URL, and quoting the id, itself. Relative: behind a proxy
    this host's name is not the one the client called."""
    if response.status_code == status.HTTP_201_CREATED:
        response["Location"] = reverse(url_name, kwargs=kwargs)
    return response


def _created_status(result: UpsertResult) -> int:
    return (
        status.HTTP_201_CREATED if result.created or result.messages_created else status.HTTP_200_OK
    )
