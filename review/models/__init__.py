"""Review domain models, one topic module each; import them from ``review.models`` (which
also re-exports the domain error, ``review.errors.ReviewError``)."""

from __future__ import annotations

from review.errors import ReviewError
from review.models.audit import AuditAction, AuditChainHead, AuditEvent
from review.models.cases import CASE_ANNOTATIONS, CASE_HELD_STATUSES, Case, CaseStatus
from review.models.core import (
    ApiKey,
    Assessment,
    Conversation,
    ConversationStatus,
    Membership,
    Message,
    Participant,
    QueueCount,
    QueueItem,
    QueueStatus,
    Role,
    Tenant,
    default_severity_weights,
)
from review.models.decisions import Decision
from review.models.invitations import Invitation, InvitationStatus
from review.models.ncmec import NcmecState, NcmecSubmission
from review.models.outbox import OutboxMessage
from review.models.policy import PolicyVersion, QueueWithdrawal, RetentionRun
from review.models.second_review import Resolution, SecondReview, SecondReviewStatus
from review.models.training import RUNNING_STATUSES, TrainingRun, TrainingStatus
from review.models.verdicts import ACCOUNT_ACTIONS, ESCALATIONS, REASON_CODES, Verdict
from review.models.webhooks import DeliveryStatus, WebhookDelivery

__all__ = [
    "ACCOUNT_ACTIONS",
    "CASE_ANNOTATIONS",
    "CASE_HELD_STATUSES",
    "ESCALATIONS",
    "REASON_CODES",
    "RUNNING_STATUSES",
    "ApiKey",
    "Assessment",
    "AuditAction",
    "AuditChainHead",
    "AuditEvent",
    "Case",
    "CaseStatus",
    "Conversation",
    "ConversationStatus",
    "Decision",
    "DeliveryStatus",
    "Invitation",
    "InvitationStatus",
    "Membership",
    "Message",
    "NcmecState",
    "NcmecSubmission",
    "OutboxMessage",
    "Participant",
    "PolicyVersion",
    "QueueCount",
    "QueueItem",
    "QueueStatus",
    "QueueWithdrawal",
    "Resolution",
    "RetentionRun",
    "ReviewError",
    "Role",
    "SecondReview",
    "SecondReviewStatus",
    "Tenant",
    "TrainingRun",
    "TrainingStatus",
    "Verdict",
    "WebhookDelivery",
    "default_severity_weights",
]
