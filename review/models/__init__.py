"""Every model of the review app, defined in its area's ``models.py`` and re-exported here:
Django loads the app's models from this module, and ``from review.models import Case`` works
anywhere (the domain error, ``review.errors.ReviewError``, too)."""

from __future__ import annotations

from review.appeals.models import Appeal, AppealOutcome, AppealStatus
from review.audit.models import AuditAction, AuditChainHead, AuditCheckpoint, AuditEvent
from review.cases.models import CASE_ANNOTATIONS, CASE_HELD_STATUSES, Case, CaseStatus
from review.cases.ncmec.models import NcmecState, NcmecSubmission
from review.decisions.models import Decision, Resolution, SecondReview, SecondReviewStatus
from review.decisions.verdicts import ACCOUNT_ACTIONS, ESCALATIONS, REASON_CODES, Verdict
from review.errors import ReviewError
from review.intake.models import (
    Assessment,
    Conversation,
    ConversationStatus,
    Message,
    Participant,
    ScoringState,
)
from review.outbound.models import DeliveryStatus, OutboxMessage, WebhookDelivery
from review.policy.models import (
    RUNNING_STATUSES,
    PolicyVersion,
    QueueWithdrawal,
    RetentionRun,
    TrainingRun,
    TrainingStatus,
)
from review.queue.models import QueueCount, QueueItem, QueueSkip, QueueStatus
from review.tenancy.models import (
    ApiKey,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    Tenant,
    default_severity_weights,
)

__all__ = [
    "ACCOUNT_ACTIONS",
    "CASE_ANNOTATIONS",
    "CASE_HELD_STATUSES",
    "ESCALATIONS",
    "REASON_CODES",
    "RUNNING_STATUSES",
    "ApiKey",
    "Appeal",
    "AppealOutcome",
    "AppealStatus",
    "Assessment",
    "AuditAction",
    "AuditChainHead",
    "AuditCheckpoint",
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
    "QueueSkip",
    "QueueStatus",
    "QueueWithdrawal",
    "Resolution",
    "RetentionRun",
    "ReviewError",
    "Role",
    "ScoringState",
    "SecondReview",
    "SecondReviewStatus",
    "Tenant",
    "TrainingRun",
    "TrainingStatus",
    "Verdict",
    "WebhookDelivery",
    "default_severity_weights",
]
