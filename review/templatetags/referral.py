"""What the referral panel on a case page needs: may this user download, is the case ready,
can packages be signed, who downloaded before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse

from review.cases.referral import signing
from review.cases.referral.package import package_unavailable
from review.cases.referral.selectors import package_downloads
from review.models import AuditEvent, Case, ReviewError
from review.tenancy.capabilities import Capability, member_can

register = template.Library()


@dataclass(frozen=True)
class PanelState:
    may_download: bool
    unavailable: str
    key_problem: str
    key_fingerprint: str
    url: str
    downloads: list[AuditEvent]


@register.simple_tag
def referral_panel_state(case: Case, membership: Any) -> PanelState:
    may = member_can(membership, Capability.DOWNLOAD_PACKAGE)
    key_problem, fingerprint = "", ""
    try:
        fingerprint = signing.fingerprint(signing.signing_key().public_key())
    except ReviewError as exc:
        key_problem = str(exc)
    return PanelState(
        may_download=may,
        unavailable=package_unavailable(case) or "",
        key_problem=key_problem,
        key_fingerprint=fingerprint,
        url=reverse("cases:case_package", args=[case.tenant.slug, case.pk]),
        downloads=package_downloads(tenant=case.tenant, case=case)[:10] if may else [],
    )
