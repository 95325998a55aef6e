"""Actors and helpers for the second-review and supervisor tests."""

from __future__ import annotations

from typing import Any

from review.decisions.services import decision_create
from review.models import Decision, Role, Tenant
from review.queue.services import queue_item_claim_next
from tests.factories import MembershipFactory
from tests.review_support import flagged_item

_counter = iter(range(1000, 100_000))


def member(tenant: Tenant, username: str, role: str = Role.MODERATOR) -> Any:
    return MembershipFactory(tenant=tenant, role=role, user__username=username).user


def decide(
    tenant: Tenant,
    moderator: Any,
    verdict: str = "ban",
    reason_code: str = "grooming_indicators",
    notes: str = "",
) -> Decision:
    """A fresh flagged conversation, taken from the queue by ``moderator`` and decided."""
    item = flagged_item(tenant, next(_counter))
    claimed = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert claimed == item, "the helper expects an otherwise empty queue"
    return decision_create(
        item=item, moderator=moderator, verdict=verdict, reason_code=reason_code, notes=notes
    )


def sample_every_decision(tenant: Tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(second_review_share=1.0)
    tenant.refresh_from_db()
