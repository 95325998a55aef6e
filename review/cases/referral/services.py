"""Handing out a referral package: build it and record who took which bytes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from review.audit.services import audit_record
from review.cases.referral import signing
from review.cases.referral.package import referral_package_build
from review.models import AuditAction, Case


@transaction.atomic
def referral_package_download(
    *, case: Case, actor: Any, ip: str | None = None
) -> tuple[bytes, str]:
    """Build the package for a supervisor or admin and audit the download with the ZIP's
    SHA-256 and size (never its content), so the copy a recipient holds can be matched to
    the person who took it. Raises ReviewError like ``referral_package_build``."""
    data, sha256 = referral_package_build(case=case, actor=actor)
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.PACKAGE_DOWNLOAD,
        target_type="case",
        target_id=str(case.pk),
        detail={
            "sha256": sha256,
            "bytes": len(data),
            "key": signing.fingerprint(signing.signing_key().public_key()),
            "status": case.status,
        },
        ip=ip,
    )
    return data, sha256
