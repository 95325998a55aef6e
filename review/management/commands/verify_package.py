from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.cases.referral import signing
from review.cases.referral.verify import package_verify
from review.models import ReviewError


class Command(BaseCommand):
    help = (
        "Verify a referral package: every file's SHA-256 and MD5 against the manifest, no "
        "file missing or extra, and the Ed25519 signature. Exit code 0 only when all is well."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the package ZIP")
        parser.add_argument(
            "--public-key",
            metavar="FILE",
            help=(
                "the provider's published Ed25519 public key (PEM); default: the public half "
                "of this installation's ARTEMIS_PACKAGE_SIGNING_KEY"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror})") from None
        if options["public_key"]:
            key_path = Path(options["public_key"])
            try:
                public_key = signing.public_key_from_pem(key_path.read_bytes())
            except OSError as exc:
                raise CommandError(f"--public-key {key_path}: {exc.strerror}") from None
            except signing.BadKey as exc:
                raise CommandError(f"--public-key {key_path}: {exc}") from None
        else:
            try:
                public_key = signing.signing_key().public_key()
            except ReviewError:
                public_key = None  # reported below as a problem
        check = package_verify(data, public_key=public_key)
        if check.ok:
            self.stdout.write(
                f"{path}: OK. Case {check.case}: {check.files_checked} files match the "
                f"manifest (SHA-256 and MD5), none missing or extra; the signature verifies "
                f"with key {check.key_fingerprint}."
            )
            return
        for problem in check.problems:
            self.stderr.write(f"{path}: {problem}")
        n = len(check.problems)
        raise CommandError(f"{path} does not verify: {n} problem{'s' if n != 1 else ''}")
