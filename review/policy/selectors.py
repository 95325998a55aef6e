"""Policy reads for the admin pages; each takes the tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from review.models import (
    PolicyVersion,
    RetentionRun,
    Tenant,
)


def policy_version_list(*, tenant: Tenant) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.filter(tenant=tenant)
        .select_related("created_by", "restores")
        .order_by("-number")
    )


def retention_run_list(*, tenant: Tenant) -> QuerySet[RetentionRun]:
    return RetentionRun.objects.filter(tenant=tenant).order_by("-ran_at")
