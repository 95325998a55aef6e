"""The console's shared test helpers: the demo password, a signed-in client (past the second
factor), and a flagged queue item with one highlighted secrecy request and one hidden media
request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.models import Assessment, Conversation, Message, Participant, QueueItem, Tenant
from review.queue.services import characteristic_bits, characteristic_tags

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


def authenticator(user: Any) -> TOTPDevice:
    """The user's authenticator app, set up (a confirmed TOTP device)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """What the app shows now; the next step's code if this one was used already (a code
    verifies once), so two sign-ins in the same 30 seconds both work."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    step = max(now, device.last_t + 1)
    assert step <= now + device.tolerance, "no unused code within the device's tolerance"
    return str(hotp(device.bin_key, step, digits=device.digits)).zfill(device.digits)


def pass_second_factor(client: Client, user: Any) -> None:
    """Mark the client's session as past the second factor, as the verify page does after a
    right code (django-otp's session key), with an authenticator set up for the user."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()


def password_accepted(client: Client, username: str, password: str) -> bool:
    """Client.login with the request django-axes needs to count (and refuse) sign-ins."""
    return client.login(request=HttpRequest(), username=username, password=password)


def signed_in(user: Any) -> Client:
    """A client signed in as ``user`` with the password and past the second factor."""
    client = Client()
    assert password_accepted(client, user.username, PASSWORD)
    pass_second_factor(client, user)
    return client
