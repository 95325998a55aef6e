"""Reads of escalation cases for the case pages. Each takes the tenant; what a member may see
depends on their capabilities: a moderator sees the cases they wrote, a member who may read
every case (supervisor, admin, auditor) sees every case of the tenant. A case the member may
not see answers as if it did not exist."""

from __future__ import annotations

from django.db.models import QuerySet

from review.capabilities import Capability, member_can
from review.models import AuditEvent, Case, CaseStatus, Membership, Tenant
from review.selectors import case_list


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
