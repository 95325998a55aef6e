"""Seed a demo tenant: three people (moderator, supervisor, admin), an API key, and
generated conversations sent through the same ingest service the API uses, so the worker
scores them and the risky ones reach the queue. Idempotent: run it as often as you like."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from review.intake.services import conversations_upsert
from review.models import Role, Tenant
from review.tenancy.services import api_key_create, membership_set
from scoring.dataset import LabelledConversation
from scoring.generator import generate_conversations

PEOPLE = (
    ("alice", Role.MODERATOR),
    # A second moderator, so blind second reviews of alice's decisions have someone to go to.
    ("bob", Role.MODERATOR),
    ("sam", Role.SUPERVISOR),
    ("ada", Role.ADMIN),
)


# The demo shows chats in progress, cut at these shares of their messages in turn: a chat
# caught early holds a line or two that reads like grooming, one caught late the whole
# pattern, so their scores differ and a threshold between them means something.
IN_PROGRESS = (0.2, 0.35, 0.5, 0.7, 1.0)


def in_progress(conversation: LabelledConversation, index: int) -> LabelledConversation:
    keep = max(2, int(len(conversation.messages) * IN_PROGRESS[index % len(IN_PROGRESS)]))
    return replace(
        conversation,
        messages=conversation.messages[:keep],
        message_labels=conversation.message_labels[:keep],
    )


def ingest_record(conversation: LabelledConversation) -> dict[str, Any]:
    """A generated conversation as a validated ingest record (labels dropped)."""
    return {
        "external_id": conversation.external_id,
        "platform": conversation.platform,
        "channel": "",
        "participants": [
            {
                "external_id": p.external_id,
                "declared_age": p.declared_age,
                "account_created_at": p.account_created_at,
            }
            for p in conversation.participants
        ],
        "messages": [
            {"external_id": m.external_id, "sender": m.sender, "sent_at": m.sent_at, "text": m.text}
            for m in conversation.messages
        ],
    }


class Command(BaseCommand):
    help = "Create the demo tenant, its users and API key, and ingest demo conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--conversations", type=int, default=40)
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        secrets_file = Path(settings.VAR_DIR) / "demo-logins.json"
        stored: dict[str, str] = {}
        if secrets_file.exists():
            stored = json.loads(secrets_file.read_text())
        with transaction.atomic():
            tenant, _ = Tenant.objects.get_or_create(
                slug="demo", defaults={"name": "Demo Platform"}
            )
            users = get_user_model().objects
            for username, role in PEOPLE:
                user = users.filter(username=username).first()
                if user is None or username not in stored:
                    # Random per machine, written under var/ (git-ignored): no password in the repo.
                    stored[username] = secrets.token_urlsafe(9)
                    user = user or users.create_user(username=username)
                    user.set_password(stored[username])
                    user.save()
                membership_set(tenant=tenant, user=user, role=role)
            if (
                "api_key" not in stored
                or not tenant.api_keys.filter(revoked_at__isnull=True).exists()
            ):
                _, stored["api_key"] = api_key_create(tenant=tenant, name="demo")
            conversations = [
                in_progress(c, i)
                for i, c in enumerate(generate_conversations(options["conversations"], seed=2026))
            ]
            records = [ingest_record(c) for c in conversations]
            results = conversations_upsert(tenant=tenant, records=records)
        secrets_file.parent.mkdir(parents=True, exist_ok=True)
        secrets_file.write_text(json.dumps(stored, indent=2))
        secrets_file.chmod(0o600)
        created = sum(r.messages_created for r in results)
        self.stdout.write(
            f"Demo tenant 'demo': {len(results)} conversations "
            f"({created} new messages) sent for scoring."
        )
        self.stdout.write("")
        self.stdout.write(f"  Open {options['url']}/  and sign in as:")
        for username, role in PEOPLE:
            self.stdout.write(f"    {username:<6} {stored[username]:<14} ({role.label})")
        self.stdout.write(
            "  Supervisors and admins also use a second factor: at their first sign-in they set\n"
            "  up an authenticator app (FreeOTP, Aegis, Google Authenticator...) from the key or\n"
            "  QR code shown, and get recovery codes. An admin can reset it on Admin > Sign-in."
        )
        self.stdout.write(f"  API key (tenant 'demo'): {stored['api_key']}")
        self.stdout.write(f"  API docs: {options['url']}/api/docs")
        self.stdout.write(f"  (kept in {secrets_file})")
        self.stdout.write("")
