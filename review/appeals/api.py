"""The appeals API, v1: the platform posts a user's appeal of a decision it was sent, reads
the appeal's state and outcome, and reads the statement of reasons of a decision. Same
authentication, limits and error shape as the ingestion API (review/intake/api/)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from review.appeals import selectors, statements
from review.appeals.services import MAX_STATEMENT_CHARS, appeal_receive
from review.intake.api import inputs
from review.intake.api.views import (
    ERRORS,
    LOCATION,
    READ_ERRORS,
    RETRY_AFTER,
    TenantApi,
    error,
    located,
)
from review.models import Appeal, AppealStatus, Decision


class AppealInput(inputs.Input):
    """A user's appeal of a decision the decision webhook told you of: your id for the appeal,
    the decision, the user's own statement and when they made it."""

    appeal_id = inputs.ExternalIdField(help_text="your id for this appeal (idempotency key)")
    decision = inputs.StrictIntegerField(
        min_value=1, help_text="the decision id the decision webhook carried"
    )
    statement = inputs.StrictCharField(
        min_length=1,
        max_length=MAX_STATEMENT_CHARS,
        trim_whitespace=False,
        help_text="the user's own statement, up to 5,000 characters",
        error_messages={"blank": "may not be empty."},
    )
    made_at = inputs.OffsetDateTimeField(help_text="when the user made the appeal, with offset")

    def validate_statement(self, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise serializers.ValidationError(
                "must hold a character other than whitespace, and no NUL."
            )
        return value


class StatementOutput(serializers.Serializer):
    action = serializers.CharField()
    action_text = serializers.CharField()
    facts = serializers.CharField()
    automated = serializers.CharField()
    ground = serializers.CharField()
    redress = serializers.CharField()
    decided_at = serializers.CharField()
    text = serializers.CharField()


class AppealOutput(serializers.Serializer):
    appeal_id = serializers.CharField(source="external_id")
    decision = serializers.IntegerField(source="decision_id")
    status = serializers.SerializerMethodField(help_text="waiting, in_review or decided")
    referred = serializers.BooleanField(help_text="referred to a supervisor")
    outcome = serializers.CharField(
        help_text="upheld, overturned or superseded (answered by a later decision); empty "
        "until decided"
    )
    new_decision = serializers.IntegerField(source="new_decision_id", allow_null=True)
    made_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    statement_of_reasons = serializers.SerializerMethodField()

    def get_status(self, obj: Appeal) -> str:
        return {
            AppealStatus.WAITING: "waiting",
            AppealStatus.CLAIMED: "in_review",
            AppealStatus.DONE: "decided",
        }[AppealStatus(obj.status)]

    @extend_schema_field(StatementOutput(allow_null=True))
    def get_statement_of_reasons(self, obj: Appeal) -> dict[str, Any] | None:
        statement = statements.appeal_statement(obj)
        return statement.as_dict() if statement else None


APPEAL_ID_IN_PATH = OpenApiParameter(
    "appeal_id",
    str,
    OpenApiParameter.PATH,
    description="your appeal id: " + inputs.EXTERNAL_ID_RULE,
)


class AppealCreateApi(TenantApi):
    @extend_schema(
        operation_id="appeal_create",
        request=AppealInput,
        parameters=[LOCATION, RETRY_AFTER],
        responses={
            200: AppealOutput,
            201: AppealOutput,
            404: error("No such decision of yours (another tenant's answers the same as none)."),
            **ERRORS,
            409: error(
                "The decision already has an open appeal, was replaced, or this appeal id was "
                "sent with different content."
            ),
        },
        summary="Appeal a decision on behalf of its user (idempotent on appeal_id)",
        description="201 for a new appeal, 200 for the same one sent again. Only a decision "
        "with an account action (warn, suspend, ban) can be appealed. The user's statement "
        "is never echoed back.",
    )
    def post(self, request: Request) -> Response:
        data = self.validated(AppealInput)
        received = appeal_receive(
            tenant=self.tenant,
            decision_id=data["decision"],
            external_id=data["appeal_id"],
            statement=data["statement"],
            made_at=data["made_at"],
        )
        return located(
            Response(
                AppealOutput(received.appeal).data,
                status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK,
            ),
            "api-appeal-detail",
            appeal_id=received.appeal.external_id,
        )


class AppealDetailApi(TenantApi):
    @extend_schema(
        operation_id="appeal_detail",
        parameters=[APPEAL_ID_IN_PATH, RETRY_AFTER],
        responses={200: AppealOutput, **READ_ERRORS, 404: error("No such appeal of yours.")},
        summary="An appeal's state, outcome and statement of reasons",
        description="`statement_of_reasons` is null until the appeal is decided.",
    )
    def get(self, request: Request, appeal_id: str) -> Response:
        appeal_id = inputs.external_id_check(appeal_id, field="appeal_id")
        try:
            appeal = selectors.appeal_get_by_platform_id(tenant=self.tenant, external_id=appeal_id)
        except Appeal.DoesNotExist:
            raise exceptions.NotFound(f"no appeal {appeal_id!r}.") from None
        return Response(AppealOutput(appeal).data)


class DecisionStatementApi(TenantApi):
    @extend_schema(
        operation_id="decision_statement",
        parameters=[
            OpenApiParameter(
                "decision_id",
                int,
                OpenApiParameter.PATH,
                description="the decision id a webhook carried",
            ),
            RETRY_AFTER,
        ],
        responses={
            200: StatementOutput,
            401: ERRORS[401],
            404: error("No such decision was sent to you."),
            429: ERRORS[429],
        },
        summary="The statement of reasons for a decision you were sent",
        description="Built from codes and tables only: it never quotes the chat.",
    )
    def get(self, request: Request, decision_id: str) -> Response:
        try:
            if not (decision_id.isascii() and decision_id.isdigit()) or len(decision_id) > 18:
                raise Decision.DoesNotExist
            decision = selectors.decision_with_statement(tenant=self.tenant, pk=int(decision_id))
        except Decision.DoesNotExist:
            raise exceptions.NotFound(f"no decision {decision_id} was sent to you.") from None
        return Response(StatementOutput(statements.decision_statement(decision).as_dict()).data)
