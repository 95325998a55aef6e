"""Case reads: the case list, one case, and what a case holds. Every selector takes the
tenant.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from review.models import (
    CASE_HELD_STATUSES,
    AuditEvent,
    Case,
    CaseStatus,
    Membership,
    Tenant,
)
from review.tenancy.capabilities import Capability, member_can


def case_list(*, tenant: Tenant) -> QuerySet[Case]:
    return (
        Case.objects.filter(tenant=tenant)
        .select_related("tenant", "conversation", "author", "approved_by", "decision")
        .order_by("-created_at")
    )


def case_get(*, tenant: Tenant, pk: int) -> Case:
    """Raises Case.DoesNotExist for an unknown id and for another tenant's."""
    return case_list(tenant=tenant).get(pk=pk)


def conversation_ids_held(*, tenant: Tenant) -> QuerySet[Case, int]:
    """Ids of the tenant's conversations that a case holds back from any purge: a case not
    yet closed, or one whose preservation date has not passed."""
    today = timezone.localdate()
    return (
        Case.objects.filter(tenant=tenant)
        .filter(Q(status__in=CASE_HELD_STATUSES) | Q(preserve_until__gte=today))
        .values_list("conversation_id", flat=True)
    )


def _sees_all(membership: Membership) -> bool:
    return member_can(membership, Capability.READ_ALL_CASES)


def case_list_visible(*, tenant: Tenant, membership: Membership) -> QuerySet[Case]:
    cases = case_list(tenant=tenant).select_related("reported_participant")
    if not _sees_all(membership):
        cases = cases.filter(author_id=membership.user_id)
    return cases


def case_get_visible(*, tenant: Tenant, membership: Membership, pk: int) -> Case:
    """Raises Case.DoesNotExist for an unknown id, another tenant's case, and (for a
    moderator) a case someone else wrote."""
    return case_list_visible(tenant=tenant, membership=membership).get(pk=pk)


def case_inbox(*, tenant: Tenant) -> QuerySet[Case]:
    """Cases awaiting a supervisor's approval, oldest first."""
    return (
        case_list(tenant=tenant)
        .filter(status=CaseStatus.AWAITING_APPROVAL)
        .order_by("created_at", "pk")
    )


def case_inbox_count(*, tenant: Tenant) -> int:
    return Case.objects.filter(tenant=tenant, status=CaseStatus.AWAITING_APPROVAL).count()


def case_history(*, tenant: Tenant, case: Case) -> QuerySet[AuditEvent]:
    """The case's own audit events (open, edits, views, moves), oldest first."""
    return (
        AuditEvent.objects.filter(tenant=tenant, target_type="case", target_id=str(case.pk))
        .select_related("actor")
        .order_by("sequence")
    )
