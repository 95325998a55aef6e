"""Reads. Every selector that returns tenant data takes the tenant: this is the one place to
check that no query forgets it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from review.models import (
    CASE_HELD_STATUSES,
    ApiKey,
    Assessment,
    AuditAction,
    AuditEvent,
    Case,
    Conversation,
    Decision,
    Invitation,
    InvitationStatus,
    Membership,
    Message,
    Participant,
    QueueCount,
    QueueItem,
    QueueStatus,
    Tenant,
)
from scoring import characteristics

# last_used_at is for humans ("is this key still in use?"); writing it on every request
# would put a row update on the ingest hot path.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    api_key = (
        ApiKey.objects.select_related("tenant")
        .filter(key_hash=api_key_hash(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is not None:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


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


def membership_list(*, user: object) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
    )


def addressed_to(user: AbstractBaseUser) -> Q:
    """Invitations for ``user``: to their username exactly, or to their e-mail address."""
    match = Q(invitee=user.get_username())
    email = (getattr(user, "email", "") or "").strip()
    if email:
        match |= Q(invitee__iexact=email)
    return match


def invitation_open_list(*, user: AbstractBaseUser) -> list[Invitation]:
    """The invitations waiting for ``user`` to accept or decline (not yet expired)."""
    return list(
        Invitation.objects.filter(
            addressed_to(user), status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("tenant", "invited_by")
        .order_by("-created_at")
    )


def membership_get(*, user: object, tenant_slug: str) -> Membership | None:
    return (
        Membership.objects.filter(user=user, tenant__slug=tenant_slug)
        .select_related("tenant")
        .first()
    )


def queue_item_list(*, tenant: Tenant) -> QuerySet[QueueItem]:
    """Open items, urgent first, then by priority, oldest first."""
    return (
        # status IN (...) matches the partial index queueitem_open, which serves the ORDER BY.
        QueueItem.objects.filter(tenant=tenant, status__in=OPEN_STATUSES)
        # Not the assessment: the item carries its probability and characteristics, and an
        # assessment's highlights can run to thousands of spans.
        .select_related("conversation", "claimed_by")
        .order_by("-urgent", "-rank")
    )


def conversation_get_by_pk(*, tenant: Tenant, pk: int) -> Conversation:
    """Raises Conversation.DoesNotExist for an unknown id and for another tenant's."""
    return conversation_list(tenant=tenant).get(pk=pk)


def queue_item_get(*, tenant: Tenant, pk: int) -> QueueItem:
    """Raises QueueItem.DoesNotExist for an unknown id and for another tenant's."""
    return (
        QueueItem.objects.filter(tenant=tenant)
        .select_related("conversation", "assessment", "claimed_by")
        .get(pk=pk)
    )


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


def decisions_about_participants(
    *, tenant: Tenant, participants: list[Participant], exclude_conversation: Conversation
) -> dict[int, list[Decision]]:
    """Earlier decisions on other conversations of the same participants, newest first."""
    out: dict[int, list[Decision]] = {}
    through = Conversation.participants.through
    links = through.objects.filter(
        participant__in=participants, conversation__tenant=tenant
    ).exclude(conversation=exclude_conversation)
    by_conversation: dict[int, list[int]] = {}
    for conversation_id, participant_id in links.values_list("conversation_id", "participant_id"):
        by_conversation.setdefault(conversation_id, []).append(participant_id)
    decisions = Decision.objects.filter(
        tenant=tenant, conversation_id__in=list(by_conversation)
    ).order_by("-created_at")[:200]
    for decision in decisions:
        for participant_id in by_conversation[decision.conversation_id]:
            out.setdefault(participant_id, []).append(decision)
    return out


@dataclass(frozen=True)
class Exposure:
    items: int
    minutes: int
    highlighted_seen: int
    suggest_break: bool


def moderator_exposure(*, tenant: Tenant, moderator: object) -> Exposure:
    """Today's exposure: items decided, minutes since the first claim, highlighted messages
    on the conversations viewed. A break is suggested past ARTEMIS_BREAK_AFTER_MINUTES.
    One pass over the member's events of the day (index auditevent_actor)."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = AuditEvent.objects.filter(tenant=tenant, actor=moderator, created_at__gte=start)
    seen = Cast(KeyTextTransform("highlighted", "detail"), IntegerField())
    day = today.aggregate(
        first_claim=Min("created_at", filter=Q(action=AuditAction.CLAIM)),
        items=Count("pk", filter=Q(action__in=(AuditAction.DECISION, AuditAction.SECOND_REVIEW))),
        highlighted=Sum(seen, filter=Q(action=AuditAction.VIEW)),
    )
    first_claim = day["first_claim"]
    minutes = int((timezone.now() - first_claim).total_seconds() // 60) if first_claim else 0
    return Exposure(
        items=day["items"],
        minutes=minutes,
        highlighted_seen=day["highlighted"] or 0,
        suggest_break=minutes >= settings.ARTEMIS_BREAK_AFTER_MINUTES,
    )


def decision_list(*, tenant: Tenant) -> QuerySet[Decision]:
    return (
        Decision.objects.filter(tenant=tenant)
        .select_related("moderator", "conversation", "supersedes")
        .order_by("-created_at")
    )


OPEN_STATUSES = (QueueStatus.WAITING, QueueStatus.CLAIMED)
SCORE_BANDS = {"high": (0.9, 1.01), "medium": (0.7, 0.9), "low": (0.0, 0.7)}


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    by_status: dict[str, int]
    by_characteristic: dict[str, int]


def queue_page(
    *, tenant: Tenant, characteristic: str = "", band: str = "", status: str = "", limit: int = 50
) -> QueuePage:
    """The queue as a moderator sees it: open items (waiting or claimed), most pressing first,
    filtered by characteristic, score band and status, with counts."""
    open_items = queue_item_list(tenant=tenant)
    # Every count and the filtered total follow from a handful of groups (status,
    # characteristic bits, score band) that the queue-count triggers keep up to date:
    # summing their deltas costs the same with a hundred open items as with a million.
    groups = (
        QueueCount.objects.filter(tenant=tenant)
        .values("status", "characteristic_bits", "band")
        .annotate(n=Sum("n"))
        .exclude(n=0)
        .order_by()
    )
    by_status = {QueueStatus.WAITING.value: 0, QueueStatus.CLAIMED.value: 0}
    counts = dict.fromkeys(characteristics.KEYS, 0)
    wanted_bit = (
        characteristics.bits([characteristic]) if characteristic in characteristics.KEYS else 0
    )
    total = 0
    for group in groups:
        n, bits = group["n"], group["characteristic_bits"]
        by_status[group["status"]] += n
        for row in characteristics.CHARACTERISTICS:
            if bits >> row.bit & 1:
                counts[row.key] += n
        if (
            (not characteristic or bits & wanted_bit)
            and (status not in by_status or group["status"] == status)
            and (band not in SCORE_BANDS or group["band"] == band)
        ):
            total += n
    by_characteristic = {key: n for key, n in counts.items() if n}
    items = open_items
    if characteristic:
        items = items.filter(characteristics__contains=f",{characteristic},")
    if band in SCORE_BANDS:
        low, high = SCORE_BANDS[band]
        items = items.filter(probability__gte=low, probability__lt=high)
    if status in (QueueStatus.WAITING, QueueStatus.CLAIMED):
        items = items.filter(status=status)
    return QueuePage(
        items=list(items[:limit]),
        total=total,
        by_status=by_status,
        by_characteristic=by_characteristic,
    )


def case_list(*, tenant: Tenant) -> QuerySet[Case]:
    return (
        Case.objects.filter(tenant=tenant)
        .select_related("tenant", "conversation", "author", "approved_by", "decision")
        .order_by("-created_at")
    )


def case_get(*, tenant: Tenant, pk: int) -> Case:
    """Raises Case.DoesNotExist for an unknown id and for another tenant's."""
    return case_list(tenant=tenant).get(pk=pk)


def conversation_ids_held(*, tenant: Tenant) -> QuerySet[Case, int]:
    """Ids of the tenant's conversations that a case holds back from any purge: a case not
    yet closed, or one whose preservation date has not passed."""
    today = timezone.localdate()
    return (
        Case.objects.filter(tenant=tenant)
        .filter(Q(status__in=CASE_HELD_STATUSES) | Q(preserve_until__gte=today))
        .values_list("conversation_id", flat=True)
    )


def audit_events_of(
    *,
    tenant: Tenant,
    action: str,
    target_type: str,
    target_id: object,
    by_people: bool = False,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """The tenant's audit events of ``action`` on one target, in chain order (oldest first,
    or newest first); ``by_people`` leaves out the system's own (no actor)."""
    events = AuditEvent.objects.filter(
        tenant=tenant, action=action, target_type=target_type, target_id=str(target_id)
    )
    if by_people:
        events = events.filter(actor__isnull=False)
    return list(events.order_by("-sequence" if newest_first else "sequence"))
