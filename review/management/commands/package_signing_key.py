from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.cases.referral import signing
from review.models import ReviewError


class Command(BaseCommand):
    help = (
        "Create the Ed25519 key that signs referral packages (private key mode 0600, public "
        "key beside it), or with --show-public print the configured key's public half to "
        "publish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            default=None,
            help="where to write the private key (default: var/package-signing-key.pem)",
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing if the file already exists"
        )
        parser.add_argument(
            "--show-public",
            action="store_true",
            help="print the public key and fingerprint of ARTEMIS_PACKAGE_SIGNING_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["show_public"]:
            try:
                public = signing.signing_key().public_key()
            except ReviewError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(signing.public_key_pem(public), ending="")
            self.stdout.write(f"fingerprint: {signing.fingerprint(public)}")
            return
        out = Path(options["out"] or settings.VAR_DIR / "package-signing-key.pem")
        public_out = out.with_name(out.stem + ".pub.pem")
        if out.exists():
            if options["if_missing"]:
                try:
                    key = signing.private_key_from_pem(out.read_bytes())
                except signing.BadKey as exc:
                    raise CommandError(f"{out}: {exc}") from None
                self.stdout.write(f"{out} exists: {signing.fingerprint(key.public_key())}")
                return
            raise CommandError(
                f"{out} exists; it may already sign packages. Move it away first if you mean "
                "to replace it (recipients must then be given the new public key)."
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        key = signing.new_private_key()
        # O_EXCL + 0600 at creation: the key is never readable by others, not even briefly.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(signing.private_key_pem(key))
        public_out.write_text(signing.public_key_pem(key.public_key()))
        self.stdout.write(
            f"private key: {out} (mode 0600)\n"
            f"public key:  {public_out}\n"
            f"fingerprint: {signing.fingerprint(key.public_key())}\n"
            f"Use it with: export ARTEMIS_PACKAGE_SIGNING_KEY_FILE={out.resolve()}\n"
            "Publish the public key (and its fingerprint) where recipients can fetch it."
        )
