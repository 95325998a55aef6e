from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.audit.checkpoints import CheckpointReport
from review.audit.services import audit_check
from review.cases.referral import signing
from review.models import Tenant


class Command(BaseCommand):
    help = (
        "Verify each tenant's audit hash chain and its signed checkpoints; name the first "
        "broken link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")
        parser.add_argument(
            "--public-key",
            action="append",
            type=Path,
            default=[],
            metavar="PEM",
            help="check checkpoint signatures with this published public key (repeat for "
            "keys used before a rotation); default: the configured signing key",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant with slug {options['tenant']!r}")
        keys = [self._public_key(path) for path in options["public_key"]] or None
        broken = []
        for tenant in tenants:
            check = audit_check(tenant=tenant, public_keys=keys)
            if check.broken is None:
                line = f"{tenant.slug}: OK, {check.count} events"
                if check.checkpoints is not None:
                    line += f"; {_checkpoints(check.checkpoints)}"
                self.stdout.write(line)
            else:
                self.stdout.write(
                    f"{tenant.slug}: BROKEN after {check.count} good events: {check.broken}"
                )
                broken.append(check.broken)
        if broken:
            raise CommandError(f"first broken link: {broken[0]}")

    @staticmethod
    def _public_key(path: Path) -> Ed25519PublicKey:
        try:
            return signing.public_key_from_pem(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"--public-key {path}: {exc.strerror}") from None
        except signing.BadKey as exc:
            raise CommandError(f"--public-key {path}: {exc}") from None


def _checkpoints(report: CheckpointReport) -> str:
    if report.newest is None:
        return "no signed checkpoint yet"
    newest = report.newest
    said = (
        f"{report.count} signed checkpoint(s), the newest covering #{newest.sequence} "
        f"({newest.signed_at:%Y-%m-%d %H:%M} UTC, key {newest.key_fingerprint})"
    )
    if not report.signatures_checked:
        said += (
            "; signatures NOT checked: no key (set ARTEMIS_PACKAGE_SIGNING_KEY or pass "
            "--public-key)"
        )
    return said
