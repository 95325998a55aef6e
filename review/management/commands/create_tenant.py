from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.models import ReviewError
from review.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (a platform whose conversations Artemis reviews)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="short name used in URLs, e.g. acme")
        parser.add_argument("--name", required=True, help="display name, e.g. 'Acme Chat'")
        parser.add_argument("--flag-threshold", type=float, default=0.5)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["flag_threshold"] <= 1:
            raise CommandError("--flag-threshold must be between 0 and 1")
        try:
            tenant = tenant_create(
                name=options["name"], slug=options["slug"], flag_threshold=options["flag_threshold"]
            )
        except ReviewError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created tenant {tenant.slug!r} ({tenant.name})")
