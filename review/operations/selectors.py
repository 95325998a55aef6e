"""What the metrics read: one grouped query per figure, across every tenant (an operator's
view, labelled by tenant slug). Counts and ages only, never content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from review.models import (
    Conversation,
    NcmecSubmission,
    QueueItem,
    QueueStatus,
    Tenant,
    WebhookDelivery,
)


@dataclass(frozen=True, slots=True)
class Depth:
    tenant: str
    status: str
    urgent: bool
    items: int


def queue_depths() -> list[Depth]:
    """Open items (waiting and claimed) by tenant, status and urgency; decided items only
    grow, so they are not a depth."""
    rows = (
        QueueItem.objects.filter(status__in=(QueueStatus.WAITING, QueueStatus.CLAIMED))
        .values("tenant__slug", "status", "urgent")
        .annotate(items=Count("id"))
        .order_by()
    )
    return [Depth(r["tenant__slug"], r["status"], r["urgent"], r["items"]) for r in rows]


def oldest_waiting(*, urgent_only: bool) -> dict[str, datetime]:
    """Per tenant, when its oldest waiting item (urgent ones only, if asked) entered."""
    rows = QueueItem.objects.filter(status=QueueStatus.WAITING)
    if urgent_only:
        rows = rows.filter(urgent=True)
    grouped = rows.values("tenant__slug").annotate(oldest=Min("enqueued_at")).order_by()
    return {r["tenant__slug"]: r["oldest"] for r in grouped}


def oldest_score_request() -> dict[str, datetime]:
    """Per tenant, the oldest conversation still waiting for its score (scoring lag)."""
    grouped = (
        Conversation.objects.filter(score_requested_at__isnull=False)
        .values("tenant__slug")
        .annotate(oldest=Min("score_requested_at"))
        .order_by()
    )
    return {r["tenant__slug"]: r["oldest"] for r in grouped}


def outcome_counts(
    model: type[WebhookDelivery] | type[NcmecSubmission], field: str
) -> list[tuple[str, str, int]]:
    """(tenant slug, state, rows) for webhook deliveries or NCMEC submissions."""
    rows = model._default_manager.values("tenant__slug", field).annotate(rows=Count("id"))
    rows = rows.order_by()
    return [(r["tenant__slug"], r[field], r["rows"]) for r in rows]


def tenant_slugs() -> list[str]:
    return list(Tenant.objects.order_by("slug").values_list("slug", flat=True))
