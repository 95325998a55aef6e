"""The queue page's counts and totals come from one grouped pass: they must equal what a
plain count of the same open items says, for every combination of filters."""

from __future__ import annotations

import itertools
from typing import Any

from review import selectors
from review.models import QueueItem, QueueStatus, Tenant
from review.services.queue import queue_item_claim_next
from scoring import characteristics
from tests.review_support import flagged_item


def _items_of(acme: Tenant, globex: Tenant, alice: Any, bob: Any) -> None:
    """Open items across bands, characteristic sets and statuses, plus noise that must not
    count: another tenant's item and a decided one."""
    media = 1 << characteristics.KEYS.index("media_request")
    secrecy = 1 << characteristics.KEYS.index("secrecy_request")
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
