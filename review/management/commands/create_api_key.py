from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.models import Tenant
from review.tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a tenant and print its secret (shown once, never stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'chat-prod'")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = Tenant.objects.get(slug=options["tenant"])
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant with slug {options['tenant']!r}") from None
        _, raw = api_key_create(tenant=tenant, name=options["name"])
        self.stdout.write(raw)
