"""Audit reads: the events of one action on one target, and the audit trail's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.urls import reverse

from review.models import (
    AuditEvent,
    Membership,
    Tenant,
)
from review.tenancy.capabilities import Capability, member_can


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


def audit_event_page(
    *,
    tenant: Tenant,
    action: str = "",
    actor: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The tenant's audit trail, newest first, ``limit`` events older than sequence
    ``before`` (keyset paging: stable while new events are appended), recorded in [``start``,
    ``end``) when given."""
    events = AuditEvent.objects.filter(tenant=tenant)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label=actor)
    if start is not None:
        events = events.filter(created_at__gte=start)
    if end is not None:
        events = events.filter(created_at__lt=end)
    if before is not None:
        events = events.filter(sequence__lt=before)
    return list(events.order_by("-sequence")[:limit])


@dataclass(frozen=True)
class Target:
    """An audit event's target as a reader sees it: words and, where a page shows it, the
    page's address."""

    label: str
    url: str | None = None


def audit_targets(
    *, tenant: Tenant, membership: Membership, events: list[AuditEvent]
) -> dict[int, Target]:
    """Each event's target (by event pk) in words ("case acme-C000001", "user alice") with
    a link to its page where this member may open one; a few queries for the whole page."""
    from review.models import Case, Conversation, Decision, Participant, QueueItem

    def ids(kind: str) -> set[int]:
        return {int(e.target_id) for e in events if e.target_type == kind and e.target_id.isdigit()}

    slug = tenant.slug
    User = get_user_model()
    cases = Case.objects.filter(tenant=tenant).in_bulk(ids("case"))
    items = QueueItem.objects.filter(tenant=tenant).in_bulk(ids("queue_item"))
    participants = Participant.objects.filter(tenant=tenant).in_bulk(ids("participant"))
    conversation_ids = ids("conversation") | {i.conversation_id for i in items.values()}
    conversations = Conversation.objects.filter(tenant=tenant).in_bulk(conversation_ids)
    decided = set(
        Decision.objects.filter(tenant=tenant, conversation_id__in=conversation_ids).values_list(
            "conversation_id", flat=True
        )
    )
    # Not filtered by membership: a removed member's events still name them. The ids come
    # from this tenant's own events only.
    users = User.objects.in_bulk(ids("user"))
    can = {c: member_can(membership, c) for c in Capability}

    def conversation(pk: int) -> Target | None:
        found = conversations.get(pk)
        if found is None:
            return None
        label = f"conversation {found.external_id}"
        if can[Capability.READ_DECISIONS] and pk in decided:
            return Target(label, reverse("decisions:supervisor_review", args=[slug, pk]))
        return Target(label)

    targets: dict[int, Target] = {}
    for event in events:
        kind, raw = event.target_type, event.target_id
        pk = int(raw) if raw.isdigit() else None
        target: Target | None = None
        if kind == "case" and pk in cases:
            url = reverse("cases:case", args=[slug, pk]) if can[Capability.READ_CASES] else None
            target = Target(f"case {cases[pk].reference}", url)
        elif kind == "conversation" and pk is not None:
            target = conversation(pk)
        elif kind == "queue_item" and pk in items:
            url = reverse("decisions:review", args=[slug, pk]) if can[Capability.DECIDE] else None
            external = conversations[items[pk].conversation_id].external_id
            target = Target(f"queue item of conversation {external}", url)
        elif kind == "participant" and pk in participants:
            url = reverse("search:participant", args=[slug, pk]) if can[Capability.FIND] else None
            target = Target(f"participant {participants[pk].external_id}", url)
        elif kind == "user" and pk in users:
            target = Target(f"user {users[pk].get_username()}")
        if target is None and kind:
            target = Target(f"{kind.replace('_', ' ')} {raw}".strip())
        if target is not None:
            targets[event.pk] = target
    return targets
