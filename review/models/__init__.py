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

__all__ = [
    "ApiKey",
    "Assessment",
    "AuditAction",
    "AuditChainHead",
    "AuditEvent",
    "Conversation",
    "ConversationStatus",
    "Membership",
    "Message",
    "Participant",
    "QueueItem",
    "QueueStatus",
    "ReviewError",
    "Role",
    "Tenant",
    "default_severity_weights",
]
