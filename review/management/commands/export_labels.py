"""Export a tenant's decisions as labelled conversations in the project's JSONL format.

manage.py export_labels --tenant acme                 # to stdout
manage.py export_labels --tenant acme --out acme.jsonl

The file holds the conversations' message text: keep it where only admins can read it
(``--out`` creates it readable by its owner only). Every export is audited with its counts.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.policy.feedback import labels_export
from review.policy.feedback_selectors import tenant_by_slug
from scoring.dataset import conversation_to_dict


class Command(BaseCommand):
    help = "Export a tenant's decided conversations as labelled JSONL (sensitive: holds text)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--out", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"no tenant with slug {options['tenant']!r}")
        out = Path(options["out"]) if options["out"] else None
        if out is not None and not out.parent.is_dir():
            raise CommandError(f"--out: directory {out.parent} does not exist")
        labels = labels_export(tenant=tenant, actor=None, actor_label="manage.py export_labels")
        lines = (
            json.dumps(conversation_to_dict(c), ensure_ascii=False) + "\n"
            for c in labels.conversations
        )
        if out is None:
            for line in lines:
                self.stdout.write(line, ending="")
        else:
            # Owner-only from the first byte, and complete or absent: written aside, then moved.
            fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=".labels-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.writelines(lines)
                os.replace(temporary, out)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        counts = labels.counts()
        self.stderr.write(
            f"exported {counts['conversations']} labelled conversations of {tenant.slug} "
            f"({counts['grooming']} grooming, {counts['benign']} benign, "
            f"{counts['messages']} messages); {counts['awaiting_supervisor']} await a "
            f"supervisor and are left out"
            + (f"; written to {out} (holds message text: keep it private)" if out else "")
        )
