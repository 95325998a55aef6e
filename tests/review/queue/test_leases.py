"""The one lease helper (review/queue/leases.py), on its own: takers in parallel threads
on PostgreSQL, expired leases first, and renewals refused to anyone but the holder."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.models import AuditAction, AuditEvent, NcmecSubmission, QueueItem, Tenant
from review.queue.leases import (
    NCMEC_SUBMISSION,
    QUEUE_ITEM,
    LeaseExpired,
    LeaseNotHeld,
    lease_next,
    lease_renew,
    lease_take,
)
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.supervision_support import member
from tests.review_support import flagged_item
from tests.threads import Threads

pytestmark = pytest.mark.postgres


def take(tenant: Tenant, moderator: Any) -> QueueItem | None:
    """One more item for ``moderator``, however many they already hold."""
    return lease_next(
        QueueItem.objects.filter(tenant=tenant),
        lease=QUEUE_ITEM,
        holder=moderator,
        order_by=("-urgent", "-rank"),
        tenant=tenant,
        own=QueueItem.objects.none(),
    )


@pytest.mark.django_db(transaction=True)
def test_moderators_taking_at_the_same_moment_never_get_the_same_item(acme: Tenant) -> None:
    items = {flagged_item(acme, n).pk for n in range(24)}
    moderators = [member(acme, f"moderator{n}") for n in range(4)]
    taken: dict[int, list[int]] = {user.pk: [] for user in moderators}
    start = threading.Barrier(len(moderators))

    def moderator(user: Any) -> None:
        start.wait()
        while (item := take(acme, user)) is not None:
            taken[user.pk].append(item.pk)

    threads = Threads()
    for user in moderators:
        threads.start(moderator, user)
    threads.join()

    assert threads.errors == []
    every_take = [pk for pks in taken.values() for pk in pks]
    assert sorted(every_take) == sorted(items), "each item handed out once, none lost"
    for user in moderators:
        held = QueueItem.objects.filter(claimed_by=user, status="claimed")
        assert sorted(held.values_list("pk", flat=True)) == sorted(taken[user.pk])


@pytest.mark.django_db(transaction=True)
def test_an_expired_lease_is_taken_before_a_more_pressing_waiting_item(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    waiting = flagged_item(acme, 0, probability=0.95)
    abandoned = flagged_item(acme, 1, probability=0.6)
    QueueItem.objects.filter(pk=abandoned.pk).update(
        status="claimed", claimed_by=bob, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    item = take(acme, alice)

    assert item is not None
    assert item.pk == abandoned.pk, "bob's run-out lease goes first"
    assert item.claimed_by == alice
    assert item.lease_expires_at > timezone.now()
    claim = AuditEvent.objects.get(action=AuditAction.CLAIM, target_id=str(abandoned.pk))
    assert claim.detail["expired_lease_of"] == bob.pk
    assert take(acme, alice).pk == waiting.pk


@pytest.mark.django_db(transaction=True)
def test_only_the_holder_can_renew_a_lease(acme: Tenant, alice: Any, bob: Any) -> None:
    flagged_item(acme)
    item = take(acme, alice)
    assert item is not None
    until = item.lease_expires_at

    with pytest.raises(LeaseNotHeld, match="this item is not leased to you; take it from"):
        lease_renew(QueueItem.objects.filter(pk=item.pk), lease=QUEUE_ITEM, holder=bob)

    item.refresh_from_db()
    assert item.lease_expires_at == until, "bob's attempt changed nothing"
    renewed = lease_renew(QueueItem.objects.filter(pk=item.pk), lease=QUEUE_ITEM, holder=alice)
    assert renewed.lease_expires_at > until


@pytest.mark.django_db(transaction=True)
def test_a_lease_that_ran_out_cannot_be_renewed(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    QueueItem.objects.filter(pk=item.pk).update(
        status="claimed", claimed_by=alice, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(LeaseExpired, match="your lease on this item ran out"):
        lease_renew(QueueItem.objects.filter(pk=item.pk), lease=QUEUE_ITEM, holder=alice)


@pytest.mark.django_db(transaction=True)
def test_a_run_named_by_a_token_keeps_its_lease_until_another_run_takes_it(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    submission = NcmecSubmission.objects.create(tenant=acme, case=case, requested_by=sam)
    lease_take(submission, lease=NCMEC_SUBMISSION, holder="first-run")
    rows = NcmecSubmission.objects.filter(pk=submission.pk)

    with pytest.raises(LeaseNotHeld, match="leased to someone else"):
        lease_take(rows.get(), lease=NCMEC_SUBMISSION, holder="second-run")

    rows.update(lease_until=timezone.now() - timedelta(seconds=1))
    still_mine = lease_renew(rows, lease=NCMEC_SUBMISSION, holder="first-run", live=False)
    assert still_mine.lease_until > timezone.now(), "nobody took it: the first run carries on"
    rows.update(lease_until=timezone.now() - timedelta(seconds=1))
    lease_take(rows.get(), lease=NCMEC_SUBMISSION, holder="second-run")
    with pytest.raises(LeaseNotHeld, match="not leased to you"):
        lease_renew(rows, lease=NCMEC_SUBMISSION, holder="first-run", live=False)
