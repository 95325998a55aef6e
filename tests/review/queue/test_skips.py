"""Skip means skip: an item a moderator skips goes to the back of her line for one lease
period, while the other moderators take it as usual (review/queue/services.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from review.models import QueueItem, QueueSkip, Tenant
from review.queue.leases import QUEUE_ITEM
from review.queue.services import queue_item_claim_next
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def taken_next(client: Any) -> int:
    """Press "take next" on the queue page; the id of the item it opens."""
    response = client.post("/t/acme/next")
    assert response.status_code == 302, response.status_code
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def skip(client: Any, item: QueueItem) -> None:
    response = client.post(f"/t/acme/items/{item.pk}/release")
    assert response.status_code == 302, response.status_code


def test_alice_skips_the_first_item_and_takes_next_she_gets_the_second(
    acme: Tenant, alice: Any
) -> None:
    first = flagged_item(acme, 1, probability=0.95)
    second = flagged_item(acme, 2, probability=0.7)
    client = signed_in(alice)
    assert taken_next(client) == first.pk

    skip(client, first)

    assert taken_next(client) == second.pk


def test_bob_still_takes_the_item_alice_skipped(acme: Tenant, alice: Any, bob: Any) -> None:
    first = flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.7)
    alices = signed_in(alice)
    taken_next(alices)
    skip(alices, first)

    assert taken_next(signed_in(bob)) == first.pk, "her skip puts nothing back in his line"


def test_the_only_item_left_is_offered_again_rather_than_an_empty_queue(
    acme: Tenant, alice: Any
) -> None:
    only = flagged_item(acme, 1)
    client = signed_in(alice)
    taken_next(client)
    skip(client, only)

    assert taken_next(client) == only.pk


def test_her_skipped_items_come_back_the_one_skipped_longest_ago_first(
    acme: Tenant, alice: Any
) -> None:
    first = flagged_item(acme, 1, probability=0.95)
    second = flagged_item(acme, 2, probability=0.7)
    client = signed_in(alice)
    taken_next(client)
    skip(client, first)
    taken_next(client)
    skip(client, second)

    assert taken_next(client) == first.pk


def test_after_the_lease_period_alice_gets_the_skipped_item_again(acme: Tenant, alice: Any) -> None:
    first = flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.7)
    client = signed_in(alice)
    taken_next(client)
    skip(client, first)

    later = timezone.now() + QUEUE_ITEM.duration + timedelta(seconds=1)
    with mock.patch.object(timezone, "now", return_value=later):
        item = queue_item_claim_next(tenant=acme, moderator=alice)

    assert item is not None
    assert item.pk == first.pk


def test_a_skip_is_one_row_per_item_and_moderator_and_old_ones_are_cleared(
    acme: Tenant, alice: Any
) -> None:
    first = flagged_item(acme, 1, probability=0.95)
    client = signed_in(alice)
    for _ in range(2):
        taken_next(client)
        skip(client, first)
    assert QueueSkip.objects.filter(item=first, moderator=alice).count() == 1

    QueueSkip.objects.update(until=timezone.now() - timedelta(seconds=1))
    second = flagged_item(acme, 2, probability=0.7)
    assert taken_next(client) == first.pk
    skip(client, first)
    taken_next(client)
    skip(client, second)

    live = QueueSkip.objects.filter(moderator=alice, until__gt=timezone.now())
    assert sorted(live.values_list("item_id", flat=True)) == sorted([first.pk, second.pk])
    assert QueueSkip.objects.count() == 2, "the expired row was replaced, none left over"
