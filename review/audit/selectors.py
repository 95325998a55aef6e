"""Audit reads: the events of one action on one target, and the audit trail's pages."""

from __future__ import annotations

from datetime import datetime

from review.models import (
    AuditEvent,
    Tenant,
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
