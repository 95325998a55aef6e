"""The console's shared test helpers: the demo password, a signed-in client, and a flagged
queue item with one highlighted secrecy request and one hidden media request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from review.models import Assessment, Conversation, Message, Participant, QueueItem, Tenant
from review.services.queue import characteristic_bits, characteristic_tags

PASSWORD = "correct horse battery staple"

# A value for each character that makes a spreadsheet cell a formula: = + - @ tab, CR.
FORMULAS = ["=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1"]


def flagged_item(tenant: Tenant, n: int = 0, *, probability: float = 0.9) -> QueueItem:
    """A conversation with one highlighted secrecy request and one hidden media request."""
    child = Participant.objects.create(tenant=tenant, external_id=f"kid-{n}", declared_age=13)
    adult = Participant.objects.create(tenant=tenant, external_id=f"adult-{n}")
    conversation = Conversation.objects.create(tenant=tenant, external_id=f"c-{n}", message_count=3)
    conversation.participants.add(child, adult)
    now = timezone.now()
    texts = ["hey how was school", "dont tell your mom we talk", "send me a pic"]
    for i, text in enumerate(texts):
        Message.objects.create(
            conversation=conversation, external_id=f"m{i}", sender=adult,
            sent_at=now + timedelta(minutes=i), utc_offset_minutes=60, text=text, position=i,
        )  # fmt: skip
    assessment = Assessment.objects.create(
        conversation=conversation, model_version="test", probability=probability,
        characteristic_scores={}, message_count=3, content_fingerprint=f"f{n}", scored_at=now,
        highlights=[
            {"message": "m1", "characteristic": "secrecy_request", "score": 0.9,
             "spans": [[0, 12]]},
            {"message": "m2", "characteristic": "media_request", "score": 0.8,
             "spans": [[0, 12]]},
        ],
        factors=["Secrecy request in 1 message"],
    )  # fmt: skip
    return QueueItem.objects.create(
        tenant=tenant, conversation=conversation, assessment=assessment, priority=probability,
        rank=probability, enqueued_at=now, characteristics=characteristic_tags(assessment),
        probability=probability,
        characteristic_bits=characteristic_bits(assessment),
    )  # fmt: skip


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client
