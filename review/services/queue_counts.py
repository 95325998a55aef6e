"""Folding the queue's count deltas (``review.models.QueueCount``) into one row per group."""

from __future__ import annotations

from collections import Counter

from django.db import connection, transaction

from review.models import QueueCount

GroupKey = tuple[int, str, int, str]


@transaction.atomic
def queue_counts_compact() -> int:
    """Replace every tenant's count deltas with their sums, one row per group that is not
    zero; returns how many rows were folded.

    DELETE ... RETURNING takes exactly the rows it removes, so a delta that a concurrent
    transaction appends meanwhile (and commits after this one has read) is neither lost
    nor counted twice: it stays behind for the next run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM review_queuecount"
            " RETURNING tenant_id, status, characteristic_bits, band, n"
        )
        rows = cursor.fetchall()
    sums: Counter[GroupKey] = Counter()
    for tenant_id, status, bits, band, n in rows:
        sums[(tenant_id, status, bits, band)] += n
    QueueCount.objects.bulk_create(
        [
            QueueCount(tenant_id=tenant_id, status=status, characteristic_bits=bits, band=band, n=n)
            for (tenant_id, status, bits, band), n in sums.items()
            if n
        ],
        batch_size=1000,
    )
    return len(rows)
