"""Account-action webhooks against a real local HTTP receiver: signed, retried, recorded.
The receiver listens on 127.0.0.1, so each test that expects it to be reached trusts it as an
operator would (ARTEMIS_OUTBOUND_TRUSTED_HOSTS); an address a tenant may not reach is refused
at every attempt and the delivery is recorded failed, never delivered."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from review import tasks
from review.decisions.services import decision_create
from review.models import DeliveryStatus, Role, Tenant, WebhookDelivery
from review.outbound.webhooks import DeliveryFailed, webhook_attempt
from review.queue.services import queue_item_claim_next
from tests.factories import MembershipFactory
from tests.listeners import Listener, trust
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db
SECRET = "platform-shared-secret"


class Receiver:
    """A platform's webhook endpoint on 127.0.0.1 that checks each signature and can be
    told to fail the first N requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Artemis-Timestamp"]
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers["X-Artemis-Signature"])
                receiver.received.append({"valid": valid, "body": json.loads(body)})
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(500 if failing or not valid else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/artemis"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """Acme's platform endpoint on 127.0.0.1, which the operator trusts (host and port)."""
    r = Receiver(fail_first=2)
    trust(settings, r.url)
    yield r
    r.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk: ids.append(pk))
    return ids


def ban(
    tenant: Tenant,
    django_capture_on_commit_callbacks: Any,
    suspect_scores: dict[str, float] | None = None,
    responsibility: dict[str, float] | None = None,
    kid_age: int | None = 13,
) -> Any:
    """A ban on flagged_item's conversation, scored as given (by default the adult alone is
    held responsible), kid-0 declared ``kid_age``."""
    alice = MembershipFactory(tenant=tenant, role=Role.MODERATOR, user__username="alice").user
    item = flagged_item(tenant)
    item.conversation.participants.filter(external_id="kid-0").update(declared_age=kid_age)
    item.assessment.suspect_scores = suspect_scores or {"adult-0": 0.9, "kid-0": 0.0}
    item.assessment.responsibility = responsibility or {}
    item.assessment.save()
    queue_item_claim_next(tenant=tenant, moderator=alice)
    with django_capture_on_commit_callbacks(execute=True):
        return decision_create(item=item, moderator=alice, verdict="ban", reason_code="sextortion")


def test_a_ban_is_delivered_signed_after_two_failures_with_every_attempt_recorded(
    acme: Tenant, receiver: Receiver, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    acme.webhook_url, acme.webhook_secret = receiver.url, SECRET
    acme.save()
    decision = ban(acme, django_capture_on_commit_callbacks)

    tasks.deliver_webhook.apply(args=[sent[0]]).get()

    delivery = WebhookDelivery.objects.get(decision=decision)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        3,
        204,
    )
    assert [r["valid"] for r in receiver.received] == [True, True, True]
    body = receiver.received[-1]["body"]
    assert (body["action"], body["account"], body["conversation"]) == ("ban", "adult-0", "c-0")
    assert "dont tell" not in json.dumps(body)


def test_a_webhook_without_a_secret_is_never_sent_unsigned(
    acme: Tenant, receiver: Receiver, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    # Configured before the policy refused a URL without a secret.
    acme.webhook_url, acme.webhook_secret = receiver.url, ""
    acme.save()
    decision = ban(acme, django_capture_on_commit_callbacks)

    tasks.deliver_webhook.apply(args=[sent[0]]).get()

    delivery = WebhookDelivery.objects.get(decision=decision)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SKIPPED, 0)
    assert delivery.last_error == "not sent: the tenant's webhook has no secret to sign it with"
    assert receiver.received == []


def test_a_wrong_secret_fails_the_signature_check(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    strict = Receiver(fail_first=0)
    trust(settings, strict.url)
    try:
        acme.webhook_url, acme.webhook_secret = strict.url, "not-the-shared-secret"
        acme.save()
        decision = ban(acme, django_capture_on_commit_callbacks)

        tasks.deliver_webhook.apply(args=[sent[0]])

        delivery = WebhookDelivery.objects.get(decision=decision)
        assert strict.received[0]["valid"] is False
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempts == 8
    finally:
        strict.close()


def test_a_tenant_without_a_webhook_url_records_a_skipped_delivery(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    decision = ban(acme, django_capture_on_commit_callbacks)

    tasks.deliver_webhook.apply(args=[sent[0]]).get()

    assert WebhookDelivery.objects.get(decision=decision).status == DeliveryStatus.SKIPPED


def test_a_retry_goes_where_the_webhook_points_now(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    old, new = Receiver(fail_first=1), Receiver(fail_first=0)
    trust(settings, old.url, new.url)
    try:
        acme.webhook_url, acme.webhook_secret = old.url, SECRET
        acme.save()
        decision = ban(acme, django_capture_on_commit_callbacks)
        with pytest.raises(DeliveryFailed):
            webhook_attempt(delivery_id=sent[0])  # the old endpoint answers 500

        acme.webhook_url = new.url  # the admin moves the webhook before the retry
        acme.save()
        webhook_attempt(delivery_id=sent[0])

        delivery = WebhookDelivery.objects.get(decision=decision)
        assert (delivery.status, delivery.url, delivery.attempts) == (
            DeliveryStatus.DELIVERED,
            new.url,
            2,
        )
        assert len(old.received) == 1
        assert [r["body"]["decision"] for r in new.received] == [decision.pk]
    finally:
        old.close()
        new.close()


def test_a_delivery_queued_before_the_webhook_was_removed_is_not_sent(
    acme: Tenant, receiver: Receiver, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    acme.webhook_url, acme.webhook_secret = receiver.url, SECRET
    acme.save()
    decision = ban(acme, django_capture_on_commit_callbacks)
    acme.webhook_url = ""  # the admin turns webhooks off (a retired endpoint, say)
    acme.save()

    tasks.deliver_webhook.apply(args=[sent[0]]).get()

    delivery = WebhookDelivery.objects.get(decision=decision)
    assert (delivery.status, delivery.url) == (DeliveryStatus.SKIPPED, "")
    assert receiver.received == []


def test_no_violation_sends_no_webhook(acme: Tenant, sent: list[int]) -> None:
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR).user
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)

    decision_create(
        item=item, moderator=alice, verdict="no_violation", reason_code="benign_context"
    )

    assert not WebhookDelivery.objects.exists()
    assert sent == []


def test_a_local_receiver_the_operator_does_not_trust_gets_nothing_and_the_ban_is_not_delivered(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    inside = Receiver()
    try:
        acme.webhook_url, acme.webhook_secret = inside.url, SECRET
        acme.save()
        decision = ban(acme, django_capture_on_commit_callbacks)

        tasks.deliver_webhook.apply(args=[sent[0]])

        delivery = WebhookDelivery.objects.get(decision=decision)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.FAILED,
            8,
            None,
        )
        assert delivery.last_error == "refused: webhook URL must use https"
        assert inside.received == []
    finally:
        inside.close()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://127.0.0.1/hooks", "points to a loopback address 127.0.0.1"),
        ("https://127.0.0.1:6379/", "points to a loopback address 127.0.0.1"),
        ("https://localhost/hooks", "localhost resolves to a loopback address"),
        ("https://[::1]/hooks", "points to a loopback address ::1"),
        ("https://[::ffff:127.0.0.1]/hooks", "which is a loopback address 127.0.0.1"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 (cloud metadata)"),
        ("https://10.0.0.1/hooks", "points to a private address 10.0.0.1"),
        ("https://192.168.1.1/hooks", "points to a private address 192.168.1.1"),
        ("http://hooks.example.org/artemis", "must use https"),
    ],
)
def test_a_ban_for_a_webhook_at_an_address_acme_may_not_reach_is_refused_and_recorded_failed(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any, url: str, rule: str
) -> None:
    # Set on the row directly, as a URL saved before the rule existed, or whose name has
    # since moved, would be: the send-time check is what stands in the way.
    acme.webhook_url, acme.webhook_secret = url, SECRET
    acme.save()
    decision = ban(acme, django_capture_on_commit_callbacks)

    tasks.deliver_webhook.apply(args=[sent[0]])

    delivery = WebhookDelivery.objects.get(decision=decision)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        8,
        None,
    )
    assert delivery.delivered_at is None
    assert delivery.last_error.startswith("refused: webhook URL ")
    assert rule in delivery.last_error


def test_a_302_to_another_address_is_not_followed_and_the_ban_is_recorded_failed(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    inside = Listener()
    redirecting = Listener(status=302, location=inside.url("/internal/admin"))
    try:
        # The operator trusts both, so only the no-redirect rule keeps the worker from going on.
        trust(settings, redirecting.url(), inside.url())
        acme.webhook_url, acme.webhook_secret = redirecting.url(), SECRET
        acme.save()
        decision = ban(acme, django_capture_on_commit_callbacks)

        tasks.deliver_webhook.apply(args=[sent[0]])

        delivery = WebhookDelivery.objects.get(decision=decision)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.FAILED,
            8,
            302,
        )
        assert delivery.last_error == "HTTP 302: redirect not followed"
        assert delivery.delivered_at is None
        assert len(redirecting.heard) == 8
        assert all(h.headers["X-Artemis-Signature"] for h in redirecting.heard)
        assert inside.heard == [], "the signed request never reaches the redirect's target"
    finally:
        redirecting.close()
        inside.close()


def test_a_second_copy_of_the_task_leaves_a_delivery_another_attempt_is_sending(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # A broker may hand one task to two workers; the platform must not get the ban twice.
    platform = Listener()
    try:
        trust(settings, platform.url())
        acme.webhook_url, acme.webhook_secret = platform.url(), SECRET
        acme.save()
        decision = ban(acme, django_capture_on_commit_callbacks)
        in_flight = timezone.now() + timedelta(seconds=30)
        WebhookDelivery.objects.filter(decision=decision).update(sending_until=in_flight)

        tasks.deliver_webhook.apply(args=[sent[0]]).get()

        delivery = WebhookDelivery.objects.get(decision=decision)
        assert (delivery.status, delivery.attempts, platform.heard) == (
            DeliveryStatus.PENDING,
            0,
            [],
        )
        # An attempt that never finished (its worker died) holds it only until the lease ends.
        WebhookDelivery.objects.filter(decision=decision).update(
            sending_until=timezone.now() - timedelta(seconds=1)
        )
        tasks.deliver_webhook.apply(args=[sent[0]]).get()

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.sending_until) == (
            DeliveryStatus.DELIVERED,
            1,
            None,
        )
        assert len(platform.heard) == 1
    finally:
        platform.close()


def test_a_ban_never_names_a_child_even_when_the_model_rated_her_replies_highest(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    """A decoy or a child answering in kind can out-score the adult; the platform must never
    be told to ban the declared 13-year-old's account."""
    decision = ban(acme, django_capture_on_commit_callbacks, {"kid-0": 0.95, "adult-0": 0.4})

    assert WebhookDelivery.objects.get(decision=decision).payload["account"] == "adult-0"


def test_a_ban_names_who_wrote_the_evidence_when_no_age_is_declared(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    """Most platforms declare no ages: the child's replies can then score as high as the
    adult, and what each wrote decides whose account the platform is told to act on."""
    decision = ban(
        acme,
        django_capture_on_commit_callbacks,
        {"kid-0": 0.95, "adult-0": 0.9},
        {"kid-0": 0.6, "adult-0": 1.7},
        kid_age=None,
    )

    assert WebhookDelivery.objects.get(decision=decision).payload["account"] == "adult-0"


def test_a_ban_names_no_account_when_the_model_held_no_adult_responsible(
    acme: Tenant, sent: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    decision = ban(acme, django_capture_on_commit_callbacks, {"kid-0": 0.95, "adult-0": 0.0})

    assert WebhookDelivery.objects.get(decision=decision).payload["account"] is None
