"""Building the law-enforcement referral package: a ZIP a person can hand over.

Every file is listed in ``manifest.json`` with its size, SHA-256 and MD5; ``manifest.sig`` is
an Ed25519 signature over the manifest's exact bytes. The ZIP is built in memory and never
written to disk or to a log.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from datetime import UTC
from typing import Any

from django.conf import settings
from django.utils import timezone

from review.cases.models import in_sentence
from review.cases.referral import documents, files, signing
from review.cases.referral.evidence import Evidence, evidence_gather, utc_iso
from review.models import Case, CaseStatus, ReviewError
from review.tenancy.capabilities import Capability, user_can

logger = logging.getLogger("artemis.referral")

# /2: a hand delivery's case.json says ``delivered_on`` (the date the supervisor gave) and
# ``delivery_recorded_at_utc`` where /1 said ``delivered_at_utc`` (midnight of that date).
FORMAT = "artemis-referral-package/2"
# What verify_package still checks: a package handed over before /2 must still verify.
FORMATS = frozenset({"artemis-referral-package/1", FORMAT})
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing_public_key.pem"
# The two files the manifest cannot list: itself and the signature over it.
UNLISTED = frozenset({MANIFEST, SIGNATURE})

DEFAULT_LEGAL_INSTRUCTIONS = (
    "Send preservation requests, subpoenas, court orders and search warrants to the "
    "legal-process contact above, quoting the case reference {reference}. Records beyond "
    "this package (further account data, other conversations) are disclosed only in answer "
    "to valid legal process. Emergency requests involving a risk of imminent harm to a "
    "child: say so in the subject line."
)

# The case's target says when it may be packaged: a law-enforcement case once a supervisor
# has approved it (the package is what is delivered); an NCMEC case once its report is
# submitted (police may ask for the same material). A closed case may be packaged only if
# it got that far before it was closed.
_SUBMITTED = frozenset({CaseStatus.SUBMITTED, CaseStatus.PRESERVED})


def package_unavailable(case: Case) -> str | None:
    """Why the case cannot be packaged yet, or None when it can."""
    status = CaseStatus(case.status)
    target = case.reporting_target
    if target.package_from_approval:
        ready_in, got_there = _SUBMITTED | {CaseStatus.APPROVED}, case.approved_at is not None
    else:
        ready_in, got_there = _SUBMITTED, case.submitted_at is not None
    if status in ready_in or (status == CaseStatus.CLOSED and got_there):
        return None
    return (
        f"case {case.reference} is {in_sentence(case.status_label)}: a referral package can be "
        f"built {target.package_needs}"
    )


def may_download(*, case: Case, user: Any) -> bool:
    return user_can(tenant_id=case.tenant_id, user=user, capability=Capability.DOWNLOAD_PACKAGE)


def provider_details(case: Case) -> dict[str, str]:
    """Who hands the package over and where legal process goes, from settings."""
    contact = settings.ARTEMIS_LEGAL_PROCESS_CONTACT
    if not contact:
        raise ReviewError(
            "ARTEMIS_LEGAL_PROCESS_CONTACT is not set: the cover sheet must say where to serve "
            "legal process (a name, e-mail, telephone and postal address)",
            code="not_configured",
        )
    return {
        "name": settings.ARTEMIS_PROVIDER_NAME or case.tenant.name,
        # An environment variable cannot easily hold a newline: a literal backslash-n does.
        "legal_contact": contact.replace("\\n", "\n"),
        "legal_instructions": (
            settings.ARTEMIS_LEGAL_PROCESS_INSTRUCTIONS or DEFAULT_LEGAL_INSTRUCTIONS
        ),
    }


def referral_package_build(*, case: Case, actor: Any) -> tuple[bytes, str]:
    """The signed ZIP for ``case`` and its SHA-256 (hex). Raises ReviewError when the actor
    may not have it, the case is not ready, or the signing key or legal contact is not
    configured. Reads only: whoever hands the bytes to a person audits that
    (``review.cases.referral.services.referral_package_download``)."""
    if not may_download(case=case, user=actor):
        raise ReviewError(
            "only a supervisor or an admin of this tenant can build a package", code="forbidden"
        )
    reason = package_unavailable(case)
    if reason:
        raise ReviewError(reason)
    key = signing.signing_key()
    public = key.public_key()
    fingerprint = signing.fingerprint(public)
    ev = evidence_gather(
        case=case,
        actor=actor,
        provider=provider_details(case),
        generated_at=timezone.now().astimezone(UTC).replace(microsecond=0),
    )
    contents = _contents(ev, fingerprint=fingerprint, public_pem=signing.public_key_pem(public))
    manifest = _manifest(ev, contents, fingerprint=fingerprint)
    signature = signing.sign(manifest, key)
    data = _zip(ev, [*contents.items(), (MANIFEST, manifest), (SIGNATURE, signature)])
    digest = hashlib.sha256(data).hexdigest()
    logger.info(
        "referral package built case=%s files=%d bytes=%d", case.pk, len(contents) + 2, len(data)
    )
    return data, digest


def package_filename(case: Case, sha256: str) -> str:
    return f"{case.reference}-referral-{sha256[:12]}.zip"


def _contents(ev: Evidence, *, fingerprint: str, public_pem: str) -> dict[str, bytes]:
    built = {
        "README.txt": documents.readme_txt(ev, key_fingerprint=fingerprint),
        "cover.pdf": documents.cover_pdf(ev, key_fingerprint=fingerprint),
        "narrative.pdf": documents.narrative_pdf(ev),
        "case.json": files.case_json(ev),
        "indicators.json": files.indicators_json(ev),
        "transcript.pdf": documents.transcript_pdf(ev),
        "transcript.json": files.transcript_json(ev),
        "transcript.csv": files.transcript_csv(ev),
        "participants.json": files.participants_json(ev),
        "participants.csv": files.participants_csv(ev),
        "ip_events.csv": files.ip_events_csv(ev),
        "devices.csv": files.devices_csv(ev),
        "chain_of_custody.json": files.custody_json(ev),
        "chain_of_custody.csv": files.custody_csv(ev),
        PUBLIC_KEY: public_pem.encode(),
    }
    assert list(built) == list(documents.CONTENTS), "CONTENTS and the built files disagree"
    return built


def _manifest(ev: Evidence, contents: dict[str, bytes], *, fingerprint: str) -> bytes:
    manifest = {
        "format": FORMAT,
        "case": ev.reference,
        "tenant": ev.case["tenant"]["slug"],
        "provider": ev.provider["name"],
        "generated_at": utc_iso(ev.generated_at),
        "generated_by": ev.generated_by,
        "signature": {
            "algorithm": "Ed25519",
            "file": SIGNATURE,
            "signs": f"the exact bytes of {MANIFEST}",
            "public_key_fingerprint": fingerprint,
            "public_key_file": PUBLIC_KEY,
        },
        "files": [
            {
                "name": name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "description": documents.CONTENTS[name],
            }
            for name, data in contents.items()
        ],
    }
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


def _zip(ev: Evidence, entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    stamp = ev.generated_at.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
