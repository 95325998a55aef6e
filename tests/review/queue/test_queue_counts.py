"""The queue page's counts and totals come from the count deltas that triggers append on
every change to a queue item: they must equal what a plain count of the same open items
says, for every combination of filters and after every kind of change."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction

from review.decisions.services import decision_create
from review.models import QueueCount, QueueItem, QueueStatus, Role, Tenant
from review.policy.services import policy_change
from review.queue import selectors
from review.queue.services import (
    queue_counts_compact,
    queue_item_claim_next,
    queue_item_release,
    queue_item_renew,
)
from scoring import characteristics
from tests.factories import MembershipFactory
from tests.review_support import flagged_item
from tests.threads import Threads

Groups = Counter[tuple[str, int, str]]


def counted(tenant: Tenant) -> Groups:
    """What the queue page sums: the tenant's count deltas, by group."""
    out: Groups = Counter()
    for row in QueueCount.objects.filter(tenant=tenant):
        out[(row.status, row.characteristic_bits, row.band)] += row.n
    return +out  # drops the groups that net to zero


def recounted(tenant: Tenant) -> Groups:
    """The same groups counted from the open items themselves, bands as the selector has them."""
    out: Groups = Counter()
    open_items = QueueItem.objects.filter(tenant=tenant, status__in=selectors.OPEN_STATUSES)
    for status, bits, probability in open_items.values_list(
        "status", "characteristic_bits", "probability"
    ):
        band = next(
            name for name, (low, high) in selectors.SCORE_BANDS.items() if low <= probability < high
        )
        out[(status, bits, band)] += 1
    return out


def _items_of(acme: Tenant, globex: Tenant, alice: Any, bob: Any) -> None:
    """Open items across bands, characteristic sets and statuses, plus noise that must not
    count: another tenant's item and a decided one."""
    media = characteristics.bits(["media_request"])
    secrecy = characteristics.bits(["secrecy_request"])
    for n, probability in enumerate([0.95, 0.92, 0.85, 0.75, 0.72, 0.5, 0.3, 0.99]):
        flagged_item(acme, n, probability=probability)
    # Highlights vary: secrecy only, media only, both (the default), none.
    QueueItem.objects.filter(conversation__external_id__in=["c-1", "c-3"]).update(
        characteristics=",secrecy_request,", characteristic_bits=secrecy
    )
    QueueItem.objects.filter(conversation__external_id__in=["c-2", "c-6"]).update(
        characteristics=",media_request,", characteristic_bits=media
    )
    QueueItem.objects.filter(conversation__external_id="c-5").update(
        characteristics="", characteristic_bits=0
    )
    QueueItem.objects.filter(conversation__external_id="c-4").update(status=QueueStatus.DECIDED)
    queue_item_claim_next(tenant=acme, moderator=alice)  # the 0.99 one
    queue_item_claim_next(tenant=acme, moderator=bob)  # the 0.95 one
    flagged_item(globex, 100, probability=0.95)


def test_the_queue_totals_equal_a_plain_count_for_every_combination_of_filters(
    acme: Tenant, globex: Tenant, alice: Any, bob: Any
) -> None:
    _items_of(acme, globex, alice, bob)
    open_items = QueueItem.objects.filter(tenant=acme, status__in=["waiting", "claimed"])
    checked = 0

    for characteristic, band, status in itertools.product(
        ["", "secrecy_request", "media_request", "meeting_arrangement"],
        ["", *selectors.SCORE_BANDS],
        ["", "waiting", "claimed"],
    ):
        expected = open_items
        if characteristic:
            expected = expected.filter(characteristics__contains=f",{characteristic},")
        if band:
            low, high = selectors.SCORE_BANDS[band]
            expected = expected.filter(probability__gte=low, probability__lt=high)
        if status:
            expected = expected.filter(status=status)

        page = selectors.queue_page(
            tenant=acme, characteristic=characteristic, band=band, status=status
        )

        assert page.total == expected.count() == len(page.items), (characteristic, band, status)
        assert {i.pk for i in page.items} == set(expected.values_list("pk", flat=True))
        checked += expected.count()
    assert checked > 0


def test_the_queue_counts_by_status_and_characteristic_ignore_other_tenants_and_decided_items(
    acme: Tenant, globex: Tenant, alice: Any, bob: Any
) -> None:
    _items_of(acme, globex, alice, bob)

    page = selectors.queue_page(tenant=acme, band="high", status="claimed")

    # The side counts describe the whole open queue, whatever the filters.
    assert page.by_status == {"waiting": 5, "claimed": 2}
    assert page.by_characteristic == {"secrecy_request": 4, "media_request": 4}
    assert page.total == 2


def test_the_counts_follow_every_change_to_queue_items_whoever_makes_it(
    acme: Tenant, globex: Tenant, alice: Any, ada: Any
) -> None:
    items = [flagged_item(acme, n, probability=p) for n, p in enumerate([0.95, 0.8, 0.75, 0.6])]
    flagged_item(globex, 100, probability=0.95)
    assert counted(acme) == recounted(acme) != Counter()

    def still_exact() -> None:
        assert counted(acme) == recounted(acme)
        assert counted(globex) == recounted(globex)

    claimed = queue_item_claim_next(tenant=acme, moderator=alice)
    assert claimed is not None
    still_exact()
    queue_item_release(item=claimed, moderator=alice, reason="skip")
    still_exact()
    claimed = queue_item_claim_next(tenant=acme, moderator=alice)
    assert claimed is not None
    decision_create(
        item=claimed, moderator=alice, verdict="no_violation", reason_code="benign_context"
    )
    still_exact()
    # A bulk update across a band boundary and to other characteristics, as a rescore or a
    # script would make it.
    QueueItem.objects.filter(pk=items[1].pk).update(
        probability=0.91, characteristics=",media_request,", characteristic_bits=1 << 7
    )
    still_exact()
    # bulk_update, as the policy re-evaluation writes items.
    items[2].probability = 0.5
    QueueItem.objects.bulk_update([items[2]], ["probability"])
    still_exact()
    # A threshold above some items withdraws them from the queue.
    policy_change(tenant=acme, actor=ada, reason="fewer items", changes={"flag_threshold": 0.7})
    still_exact()
    # A delete outside the services.
    QueueItem.objects.filter(pk=items[1].pk).delete()
    still_exact()


def test_the_triggers_put_every_probability_in_the_selectors_score_band(acme: Tenant) -> None:
    # The bands are written into the triggers' SQL: a change to SCORE_BANDS without a
    # migration that reinstalls them fails here.
    item = flagged_item(acme)
    edges = [edge for low, high in selectors.SCORE_BANDS.values() for edge in (low, high)]
    probabilities = {n / 100 for n in range(101)} | {e for e in edges if e <= 1}
    probabilities |= {e - 1e-9 for e in edges if 0 < e <= 1}

    for probability in sorted(probabilities):
        QueueItem.objects.filter(pk=item.pk).update(probability=probability)
        assert counted(acme) == recounted(acme), probability


def test_a_lease_renewal_appends_no_count(acme: Tenant, alice: Any) -> None:
    flagged_item(acme)
    claimed = queue_item_claim_next(tenant=acme, moderator=alice)
    assert claimed is not None
    rows = QueueCount.objects.count()

    queue_item_renew(item=claimed, moderator=alice)

    assert QueueCount.objects.count() == rows


def test_compacting_keeps_every_count_and_leaves_one_row_per_group(
    acme: Tenant, globex: Tenant, alice: Any
) -> None:
    for n in range(6):
        flagged_item(acme, n, probability=0.5 + n / 12)
    flagged_item(globex, 100)
    for _ in range(3):
        claimed = queue_item_claim_next(tenant=acme, moderator=alice)
        assert claimed is not None
        queue_item_release(item=claimed, moderator=alice, reason="skip")
    before = counted(acme), counted(globex)
    assert QueueCount.objects.count() > len(before[0]) + len(before[1])

    folded = queue_counts_compact()

    assert (counted(acme), counted(globex)) == before
    assert QueueCount.objects.count() == len(before[0]) + len(before[1]) < folded
    assert queue_counts_compact() == QueueCount.objects.count(), "a second run changes nothing"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_compacting_beside_parallel_claims_and_decisions_loses_no_count(acme: Tenant) -> None:
    moderators = [MembershipFactory(tenant=acme, role=Role.MODERATOR).user for _ in range(4)]
    for n in range(120):
        flagged_item(acme, n, probability=0.6 + (n % 40) / 100)
    done = threading.Event()

    def moderate(moderator: Any) -> None:
        while (item := queue_item_claim_next(tenant=acme, moderator=moderator)) is not None:
            if item.pk % 3:
                decision_create(
                    item=item, moderator=moderator, verdict="no_violation",
                    reason_code="benign_context",
                )  # fmt: skip
            else:
                QueueItem.objects.filter(pk=item.pk).update(status=QueueStatus.DECIDED)

    def compact() -> None:
        while not done.is_set():
            queue_counts_compact()

    compactor, moderators_at_work = Threads(), Threads()
    compactor.start(compact)
    for moderator in moderators:
        moderators_at_work.start(moderate, moderator)
    moderators_at_work.join()
    done.set()
    compactor.join()

    assert moderators_at_work.errors == compactor.errors == []
    assert recounted(acme) == Counter(), "every item was decided"
    assert counted(acme) == Counter()


@pytest.mark.postgres
def test_filtering_by_a_characteristic_can_read_that_characteristics_own_index(
    acme: Tenant,
) -> None:
    # The index's condition must be the filter the selector writes, or PostgreSQL cannot
    # use it and a rare characteristic's filter walks the whole queue again.
    flagged_item(acme)
    items = selectors.queue_item_list(tenant=acme).filter(
        characteristics__contains=",media_request,"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = items[:50].explain()

    assert "qi_media_request" in plan


TABLES = ["review_queuecount", "review_queueitem", "review_tenant"]


@pytest.mark.parametrize("order", list(itertools.permutations(TABLES)))
def test_emptying_the_tables_in_any_order_leaves_no_count_behind_on_sqlite(
    acme: Tenant, order: tuple[str, ...]
) -> None:
    # Django's test runner empties SQLite tables with DELETE, in no set order (PostgreSQL's
    # TRUNCATE fires no row triggers).
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL empties tables with TRUNCATE")
    flagged_item(acme)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in order:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (names from the list above)
        cursor.execute("SELECT count(*) FROM review_queuecount")
        left = cursor.fetchone()
        transaction.set_rollback(True)  # the test's other rows still name the tenant
    assert left == (0,)
