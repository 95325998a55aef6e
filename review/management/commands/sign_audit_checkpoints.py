from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from review.audit.checkpoints import audit_checkpoints_sign
from review.cases.referral import signing
from review.models import ReviewError


class Command(BaseCommand):
    help = (
        "Sign each tenant's audit chain head with the provider's key now (celery beat does "
        "it every ARTEMIS_AUDIT_CHECKPOINT_SECONDS)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            signing.signing_key()
        except ReviewError as exc:
            raise CommandError(str(exc)) from None
        signed = audit_checkpoints_sign()
        self.stdout.write(f"signed {signed} checkpoint(s); the other chains had not moved")
