"""Queue reads: the queue page, its counts by band, one item. Every selector takes the
tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from review.models import (
    QueueCount,
    QueueItem,
    QueueStatus,
    Tenant,
)
from scoring import characteristics


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


def queue_item_get(*, tenant: Tenant, pk: int) -> QueueItem:
    """Raises QueueItem.DoesNotExist for an unknown id and for another tenant's."""
    return (
        QueueItem.objects.filter(tenant=tenant)
        .select_related("conversation", "assessment", "claimed_by")
        .get(pk=pk)
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
