"""Review domain models, one topic module each; import them from ``review.models``."""

from __future__ import annotations

from review.models.audit import AuditAction, AuditChainHead, AuditEvent
from review.models.core import (
    ApiKey,
    Assessment,
    Conversation,
    ConversationStatus,
    Membership,
    Message,
    Participant,
    QueueItem,
    QueueStatus,
    ReviewError,
    Role,
    Tenant,
    default_severity_weights,
)
from review.models.decisions import (
    ACCOUNT_ACTIONS,
    ESCALATIONS,
    REASON_CODES,
    Decision,
    Verdict,
)
from review.models.second_review import Resolution, SecondReview, SecondReviewStatus
from review.models.webhooks import DeliveryStatus, WebhookDelivery

__all__ = [
    "ACCOUNT_ACTIONS",
    "ESCALATIONS",
    "REASON_CODES",
    "ApiKey",
    "Assessment",
    "AuditAction",
    "AuditChainHead",
    "AuditEvent",
    "Conversation",
    "ConversationStatus",
    "Decision",
    "DeliveryStatus",
    "Membership",
    "Message",
    "Participant",
    "QueueItem",
    "QueueStatus",
    "Resolution",
    "ReviewError",
    "Role",
    "SecondReview",
    "SecondReviewStatus",
    "Tenant",
    "Verdict",
    "WebhookDelivery",
    "default_severity_weights",
]
