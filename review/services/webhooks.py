"""Telling the platform about account actions: a signed POST, retried until it lands.

Signature: ``X-Artemis-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
tenant's webhook secret, and ``X-Artemis-Timestamp``, so a receiver can refuse replays. The
payload carries ids, the verdict and the reason code, never message text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from django.db import transaction
from django.utils import timezone

from review import outbound
from review.models import Decision, DeliveryStatus, WebhookDelivery

logger = logging.getLogger("artemis.webhooks")

MAX_ATTEMPTS = 8


class DeliveryFailed(Exception):
    """One attempt did not get a 2xx; the task retries with backoff."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_enqueue(*, decision: Decision) -> WebhookDelivery:
    """Record the delivery owed for an account action and send it after the commit."""
    assessment = decision.queue_item.assessment
    suspects = assessment.suspect_scores or {}
    account = max(suspects, key=suspects.get) if suspects else None
    delivery = WebhookDelivery.objects.create(
        tenant=decision.tenant,
        decision=decision,
        url=decision.tenant.webhook_url,
        payload={
            "event": "decision",
            "delivery": None,
            "decision": decision.pk,
            "conversation": decision.conversation.external_id,
            "account": account,
            "action": decision.verdict,
            "reason_code": decision.reason_code,
            "decided_at": decision.created_at.isoformat(),
        },
    )
    delivery.payload["delivery"] = delivery.pk
    delivery.save(update_fields=["payload"])

    def send() -> None:
        from review.tasks import deliver_webhook

        deliver_webhook.delay(delivery.pk)

    transaction.on_commit(send)
    return delivery


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery:
    """One attempt. Raises DeliveryFailed (after recording it) when the platform did not
    answer 2xx (a redirect, a refused URL and a network error included), so the task can
    retry."""
    delivery = WebhookDelivery.objects.select_related("tenant").get(pk=delivery_id)
    if delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED):
        return delivery
    if not delivery.url:
        delivery.status = DeliveryStatus.SKIPPED
        delivery.save(update_fields=["status"])
        return delivery
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Artemis-Webhook/1",
        "X-Artemis-Delivery": str(delivery.pk),
        "X-Artemis-Timestamp": timestamp,
        "X-Artemis-Signature": sign(delivery.tenant.webhook_secret, timestamp, body),
    }
    delivery.attempts += 1
    try:
        answer = outbound.post(delivery.url, body=body, headers=headers)
    except outbound.Refused as exc:
        # Nothing was sent. The rule is logged for the operator (ids and the rule only).
        logger.warning(
            "webhook refused delivery=%s tenant=%s: %s", delivery.pk, delivery.tenant_id, exc
        )
        answer = outbound.Answer(None, f"refused: webhook URL {exc}")
    delivery.last_status_code = answer.status
    delivery.last_error = answer.error[:300]
    ok = answer.ok
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    delivery.save()
    if not ok and delivery.status != DeliveryStatus.FAILED:
        raise DeliveryFailed(f"delivery {delivery.pk}: {delivery.last_error}")
    return delivery
