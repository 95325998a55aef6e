"""Reads of appeals, each taking the tenant: one appeal (by id or the platform's id), the
decision a statement of reasons is asked for, the appeals queue's figures, the overdue list
and overturn rates on appeal per moderator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from review.models import (
    ACCOUNT_ACTIONS,
    Appeal,
    AppealOutcome,
    AppealStatus,
    Decision,
    Tenant,
)


def appeal_get(*, tenant: Tenant, pk: int) -> Appeal:
    """Raises Appeal.DoesNotExist for an unknown id and for another tenant's."""
    return Appeal.objects.select_related(
        "decision", "decision__moderator", "conversation", "new_decision", "tenant"
    ).get(tenant=tenant, pk=pk)


def appeal_get_by_platform_id(*, tenant: Tenant, external_id: str) -> Appeal:
    """Raises Appeal.DoesNotExist for an unknown id and for another tenant's."""
    return Appeal.objects.select_related("decision", "conversation", "new_decision").get(
        tenant=tenant, external_id=external_id
    )


def decision_with_statement(*, tenant: Tenant, pk: int) -> Decision:
    """A decision the platform was told about (an account action, or the new decision of an
    appeal's outcome). Raises Decision.DoesNotExist for any other, and for another tenant's."""
    return (
        Decision.objects.select_related("conversation", "queue_item__assessment")
        .filter(Q(verdict__in=ACCOUNT_ACTIONS) | Q(appeal_answered__isnull=False))
        .get(tenant=tenant, pk=pk)
    )


def appeal_held(*, tenant: Tenant, reviewer: object) -> Appeal | None:
    """The appeal this member holds under a live lease, if any."""
    return (
        Appeal.objects.filter(
            tenant=tenant,
            claimed_by=reviewer,
            status=AppealStatus.CLAIMED,
            lease_expires_at__gt=timezone.now(),
        )
        .select_related("decision", "conversation")
        .first()
    )


def appeals_open(*, tenant: Tenant) -> QuerySet[Appeal]:
    """Every appeal not yet decided, oldest first."""
    return (
        Appeal.objects.filter(tenant=tenant)
        .exclude(status=AppealStatus.DONE)
        .select_related(
            "decision", "decision__moderator", "conversation", "claimed_by", "referred_by"
        )
        .order_by("received_at", "pk")
    )


def appeals_overdue(*, tenant: Tenant, now: datetime | None = None) -> QuerySet[Appeal]:
    """Open appeals received longer ago than the tenant's target: the supervisors' inbox."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=tenant.appeal_target_days)
    return appeals_open(tenant=tenant).filter(received_at__lt=cutoff)


def appeals_decided_by(*, tenant: Tenant, reviewer: object, limit: int = 20) -> list[Appeal]:
    return list(
        Appeal.objects.filter(tenant=tenant, reviewer=reviewer, status=AppealStatus.DONE)
        .select_related("decision", "conversation", "new_decision")
        .order_by("-decided_at")[:limit]
    )


def appeal_age_days(appeal: Appeal, *, now: datetime | None = None) -> float:
    now = now or timezone.now()
    return (now - appeal.received_at).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class AppealRate:
    moderator_id: int
    appealed: int  # decisions of theirs decided on appeal
    overturned: int

    @property
    def rate(self) -> float | None:
        return self.overturned / self.appealed if self.appealed else None


def appeal_overturn_rates(
    *, tenant: Tenant, start: datetime | None = None, end: datetime | None = None
) -> dict[int, AppealRate]:
    """Per member whose decisions were appealed: appeals decided in [start, end) and how
    many of them overturned the decision.

    Only appeals a reviewer upheld or overturned count. One closed as ``superseded`` (the
    decision was replaced by a later one before anyone reviewed the appeal) is neither: the
    moderator's decision was not judged on appeal. Its replacement, if with another verdict,
    counts in the agreement page's "Overturned" (a decision superseded by someone else)."""
    period = Q()
    if start is not None:
        period &= Q(decided_at__gte=start)
    if end is not None:
        period &= Q(decided_at__lt=end)
    rows = (
        Appeal.objects.filter(
            period,
            tenant=tenant,
            status=AppealStatus.DONE,
            outcome__in=(AppealOutcome.UPHELD, AppealOutcome.OVERTURNED),
        )
        .values("decision__moderator_id")
        .annotate(
            appealed=Count("pk"),
            overturned=Count("pk", filter=Q(outcome=AppealOutcome.OVERTURNED)),
        )
        .order_by()
    )
    return {
        row["decision__moderator_id"]: AppealRate(
            moderator_id=row["decision__moderator_id"],
            appealed=row["appealed"],
            overturned=row["overturned"],
        )
        for row in rows
    }
