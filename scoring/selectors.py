"""Reads of the model registry on behalf of a tenant: the default models and the tenant's
own, never another tenant's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from scoring.models import ModelVersion

if TYPE_CHECKING:
    from review.models import Tenant


def model_version_list(*, tenant: Tenant) -> QuerySet[ModelVersion]:
    """Versions the tenant may use, newest first, without the artifact bytes."""
    return (
        ModelVersion.objects.filter(Q(tenant=tenant) | Q(tenant__isnull=True))
        .defer("artifact")
        .order_by("-created_at", "-pk")
    )


def model_version_get(*, tenant: Tenant, pk: int) -> ModelVersion:
    """Raises ModelVersion.DoesNotExist for an unknown id and for another tenant's version."""
    return model_version_list(tenant=tenant).get(pk=pk)
