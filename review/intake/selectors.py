"""Intake reads: conversations, messages, participants and assessments. Every selector takes
the tenant.
"""

from __future__ import annotations

from django.db.models import QuerySet

from review.models import (
    Assessment,
    Conversation,
    Message,
    Participant,
    Tenant,
)


def conversation_list(*, tenant: Tenant) -> QuerySet[Conversation]:
    return Conversation.objects.filter(tenant=tenant)


def conversation_get(*, tenant: Tenant, external_id: str) -> Conversation:
    """Raises Conversation.DoesNotExist for an unknown id and for another tenant's."""
    return conversation_list(tenant=tenant).get(external_id=external_id)


def assessment_latest(*, tenant: Tenant, conversation: Conversation) -> Assessment | None:
    return (
        Assessment.objects.filter(conversation__tenant=tenant, conversation=conversation)
        .order_by("-scored_at", "-pk")
        .first()
    )


def conversation_get_by_pk(*, tenant: Tenant, pk: int) -> Conversation:
    """Raises Conversation.DoesNotExist for an unknown id and for another tenant's."""
    return conversation_list(tenant=tenant).get(pk=pk)


def message_list(*, tenant: Tenant, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(conversation__tenant=tenant, conversation=conversation)
        .select_related("sender")
        .order_by("position")
    )


def assessment_history(*, tenant: Tenant, conversation: Conversation) -> list[Assessment]:
    """Every scoring of the conversation, oldest first: how the score moved as messages came."""
    return list(
        Assessment.objects.filter(conversation__tenant=tenant, conversation=conversation)
        .order_by("scored_at", "pk")
        .only("probability", "message_count", "model_version", "scored_at")
    )


def participant_list(*, tenant: Tenant, conversation: Conversation) -> list[Participant]:
    return list(
        Participant.objects.filter(tenant=tenant, conversations=conversation).order_by(
            "external_id"
        )
    )
