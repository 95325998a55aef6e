from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.audit.services import audit_verify
from review.models import Tenant


class Command(BaseCommand):
    help = "Verify each tenant's audit hash chain; name the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant with slug {options['tenant']!r}")
        broken = []
        for tenant in tenants:
            count, problem = audit_verify(tenant=tenant)
            if problem is None:
                self.stdout.write(f"{tenant.slug}: OK, {count} events")
            else:
                self.stdout.write(f"{tenant.slug}: BROKEN after {count} good events: {problem}")
                broken.append(problem)
        if broken:
            raise CommandError(f"first broken link: {broken[0]}")
