"""manage.py purge_expired [--dry-run] [--tenant SLUG]: retention, by hand (celery beat runs
it hourly). Prints counts only; the ids are in the run's record."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.models import Tenant
from review.policy.retention import retention_purge


class Command(BaseCommand):
    help = (
        "Purge conversations that never reached the queue and are older than their "
        "tenant's retention period (never one a case holds)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, purge nothing")
        parser.add_argument("--tenant", help="only this tenant (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant with slug {options['tenant']!r}")
        verb = "would purge" if options["dry_run"] else "purged"
        for tenant in tenants:
            result = retention_purge(tenant=tenant, dry_run=options["dry_run"])
            self.stdout.write(
                f"{tenant.slug}: {verb} {len(result.conversation_ids)} conversations, "
                f"{result.messages} messages, {len(result.participant_ids)} participants "
                f"(older than {tenant.retention_days} days; {result.held_by_case} kept for a case"
                f"{'; more due, run again' if result.more_due else ''})"
            )
