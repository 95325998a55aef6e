"""Search reads: conversations and participants by id or name, messages by text, and a
participant's page. Every selector takes the tenant, so another tenant's rows are never found.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from review.cases.selectors import case_list_visible
from review.decisions.selectors import verdicts_withheld
from review.models import (
    Assessment,
    Case,
    Conversation,
    Decision,
    Membership,
    Message,
    Participant,
    QueueItem,
    SecondReview,
    Tenant,
)
from review.tenancy.capabilities import Capability, member_can

LIMIT = 50
# The text search's dictionary: English stemming ("meeting" finds "meet"). The GIN index of
# migration 0027 is built on this same expression, so the two must change together.
TEXT_CONFIG = "english"


def conversation_rows(*, tenant: Tenant, membership: Membership) -> QuerySet[Conversation]:
    """The tenant's conversations with what a list of them shows: the latest score, the
    current verdict (none where ``verdicts_withheld`` from the member) and the latest queue
    item (the review page)."""
    withheld = verdicts_withheld(tenant=tenant, membership=membership)
    latest = Assessment.objects.filter(conversation=OuterRef("pk")).order_by("-scored_at", "-pk")
    current = (
        Decision.objects.filter(conversation=OuterRef("pk"), superseded_by__isnull=True)
        .exclude(conversation__in=withheld)
        .order_by("-created_at", "-pk")
    )
    item = QueueItem.objects.filter(conversation=OuterRef("pk")).order_by("-pk")
    return (
        Conversation.objects.filter(tenant=tenant)
        .annotate(
            latest_probability=Subquery(latest.values("probability")[:1]),
            current_verdict=Subquery(current.values("verdict")[:1]),
            latest_item_id=Subquery(item.values("pk")[:1]),
        )
        .order_by("-updated_at", "-pk")
    )


def conversation_search(
    *, tenant: Tenant, membership: Membership, query: str
) -> list[Conversation]:
    """Conversations whose platform id is ``query`` or starts with it."""
    if not query:
        return []
    rows = conversation_rows(tenant=tenant, membership=membership).filter(
        Q(external_id=query) | Q(external_id__istartswith=query)
    )
    return list(rows[:LIMIT])


def _worked_on(membership: Membership) -> Q:
    """Conversations this member has worked on: claimed, decided or second-reviewed."""
    user = membership.user_id
    return (
        Q(Exists(QueueItem.objects.filter(conversation=OuterRef("pk"), claimed_by_id=user)))
        | Q(Exists(Decision.objects.filter(conversation=OuterRef("pk"), moderator_id=user)))
        | Q(
            Exists(
                SecondReview.objects.filter(conversation=OuterRef("pk")).filter(
                    Q(reviewer_id=user) | Q(claimed_by_id=user)
                )
            )
        )
    )


def participant_list_visible(*, tenant: Tenant, membership: Membership) -> QuerySet[Participant]:
    """The participants whose page this member may open: every one of the tenant's with
    READ_ALL_PARTICIPANTS; otherwise (a moderator) those of a conversation she worked on."""
    participants = Participant.objects.filter(tenant=tenant)
    if member_can(membership, Capability.READ_ALL_PARTICIPANTS):
        return participants
    if not member_can(membership, Capability.FIND):
        return participants.none()
    worked = Conversation.objects.filter(tenant=tenant).filter(_worked_on(membership))
    return participants.filter(Exists(worked.filter(participants=OuterRef("pk"))))


def participant_get_visible(*, tenant: Tenant, membership: Membership, pk: int) -> Participant:
    """Raises Participant.DoesNotExist for an unknown id, another tenant's participant, and
    one this member may not open."""
    return participant_list_visible(tenant=tenant, membership=membership).get(pk=pk)


def participant_search(*, tenant: Tenant, membership: Membership, query: str) -> list[Participant]:
    """Participants whose platform id is ``query`` or starts with it, or whose screen or
    display name holds it; only those the member may open."""
    if not query:
        return []
    rows = participant_list_visible(tenant=tenant, membership=membership).filter(
        Q(external_id=query)
        | Q(external_id__istartswith=query)
        | Q(screen_name__icontains=query)
        | Q(display_name__icontains=query)
    )
    return list(rows.order_by("external_id")[:LIMIT])


@dataclass(frozen=True)
class TextHit:
    conversation: Conversation
    messages: int  # how many of its messages match


def message_text_matches(*, tenant: Tenant, query: str) -> QuerySet[Message]:
    """The tenant's messages whose text matches ``query``: PostgreSQL full-text search (web
    search syntax: words, "a phrase", -not, or) on the GIN index; elsewhere (SQLite, for
    development) a plain case-insensitive substring."""
    messages = Message.objects.filter(conversation__tenant=tenant)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        return messages.annotate(document=SearchVector("text", config=TEXT_CONFIG)).filter(
            document=SearchQuery(query, config=TEXT_CONFIG, search_type="websearch")
        )
    return messages.filter(text__icontains=query)


def message_text_search(*, tenant: Tenant, membership: Membership, query: str) -> list[TextHit]:
    """Conversations holding a message that matches ``query``, most matches first."""
    if not query:
        return []
    counts = list(
        message_text_matches(tenant=tenant, query=query)
        .values("conversation_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "-conversation_id")[:LIMIT]
    )
    rows = conversation_rows(tenant=tenant, membership=membership)
    by_pk = rows.in_bulk([c["conversation_id"] for c in counts])
    return [TextHit(by_pk[c["conversation_id"]], c["n"]) for c in counts]


@dataclass(frozen=True)
class ParticipantPage:
    participant: Participant
    conversations: list[Conversation]
    decisions: list[Decision]
    cases: list[Case]


def participant_page(
    *, tenant: Tenant, membership: Membership, participant: Participant
) -> ParticipantPage:
    """What the participant page shows: the account's conversations in this tenant with
    their latest scores and verdicts, the decisions on them, and the cases this member may
    read about them."""
    rows = conversation_rows(tenant=tenant, membership=membership)
    conversations = list(rows.filter(participants=participant))
    decisions = list(
        Decision.objects.filter(tenant=tenant, conversation__participants=participant)
        .exclude(conversation__in=verdicts_withheld(tenant=tenant, membership=membership))
        .select_related("conversation", "moderator")
        .order_by("-created_at", "-pk")[:200]
    )
    cases = list(
        case_list_visible(tenant=tenant, membership=membership)
        .filter(conversation__participants=participant)
        .distinct()
    )
    return ParticipantPage(participant, conversations, decisions, cases)
