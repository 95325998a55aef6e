"""Telling the platform about account actions: a signed POST, retried until it lands.

Signature: ``X-Artemis-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
tenant's webhook secret, and ``X-Artemis-Timestamp``, so a receiver can refuse replays. The
payload carries ids, the verdict, the reason code and the statement of reasons (built from
codes and tables: review/appeals/statements.py), never message text. A delivery is about a
decision (``event: decision``) or an appeal's outcome (``event: appeal``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from review.appeals import statements
from review.decisions import verdicts
from review.decisions.selectors import decision_concerns
from review.models import Appeal, Decision, DeliveryStatus, WebhookDelivery
from review.outbound import addresses
from review.outbound.outbox import outbox_add

logger = logging.getLogger("artemis.webhooks")

MAX_ATTEMPTS = 8
# How long one attempt may hold a delivery: well past the outbound timeouts, so it is only
# reached when a worker died mid-attempt.
SENDING_LEASE = timedelta(seconds=5 * (addresses.CONNECT_SECONDS + addresses.READ_SECONDS))


class DeliveryFailed(Exception):
    """One attempt did not get a 2xx; the task retries with backoff."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _account(decision: Decision) -> str | None:
    """The platform's id of the account the decision is about: never a participant declared
    under 18, even when the model rated a child's replies higher than the adult's
    (decision_concerns)."""
    assessment = decision.queue_item.assessment
    members = list(
        decision.conversation.participants.values_list("pk", "external_id", "declared_age")
    )
    concerned = decision_concerns(assessment.suspects_ranked(), members)
    return next((external_id for pk, external_id, _ in members if pk in concerned), None)


def _owe(delivery: WebhookDelivery) -> WebhookDelivery:
    """Number the delivery in its own payload and owe the task that sends it (the outbox
    sends it after the commit, or later if the broker is down)."""
    delivery.payload["delivery"] = delivery.pk
    delivery.save(update_fields=["payload"])

    from review.tasks import deliver_webhook  # tasks import services, not the reverse

    outbox_add(task=deliver_webhook, calls=[[delivery.pk]])
    return delivery


def webhook_enqueue(*, decision: Decision) -> WebhookDelivery:
    """Record the delivery owed for an account action, with its statement of reasons, and owe
    the task that sends it."""
    delivery = WebhookDelivery.objects.create(
        tenant=decision.tenant,
        decision=decision,
        url=decision.tenant.webhook_url,
        payload={
            "event": "decision",
            "delivery": None,
            "decision": decision.pk,
            "conversation": decision.conversation.external_id,
            "account": _account(decision),
            # The table's account action, which today spells like the verdict it comes from.
            "action": verdicts.get(decision.verdict).account_action.value,
            "reason_code": decision.reason_code,
            "decided_at": decision.created_at.isoformat(),
            "statement_of_reasons": statements.decision_statement(decision).as_dict(),
        },
    )
    return _owe(delivery)


def appeal_webhook_enqueue(*, appeal: Appeal) -> WebhookDelivery:
    """Record the delivery owed for an appeal's outcome: upheld (the action stands),
    overturned (the new decision and its account action, ``none`` to lift the old one) or
    superseded (answered by a later decision: its account action), with the statement of
    reasons. Never the user's statement, nor the reviewer's notes."""
    statement = statements.appeal_statement(appeal)
    assert statement is not None, "only a decided appeal is sent"
    new = appeal.new_decision
    delivery = WebhookDelivery.objects.create(
        tenant=appeal.tenant,
        appeal=appeal,
        url=appeal.tenant.webhook_url,
        payload={
            "event": "appeal",
            "delivery": None,
            "appeal": appeal.pk,
            "appeal_id": appeal.external_id,
            "decision": appeal.decision_id,
            "conversation": appeal.conversation.external_id,
            "account": _account(appeal.decision),
            "outcome": appeal.outcome,
            "new_decision": new.pk if new else None,
            "action": statement.action,
            "reason_code": (new or appeal.decision).reason_code,
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
            "statement_of_reasons": statement.as_dict(),
        },
    )
    return _owe(delivery)


def _claim(delivery_id: int) -> bool:
    """Mark the delivery as being sent, unless another attempt holds it: a broker may hand a
    task to two workers, and the platform must not get the same delivery twice at once."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))
        .update(sending_until=now + SENDING_LEASE)
    )
    return claimed == 1


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery:
    """One attempt. Raises DeliveryFailed (after recording it) when the platform did not
    answer 2xx (a redirect, a refused URL and a network error included), so the task can
    retry. A delivery already delivered, skipped, failed or being sent by another attempt is
    left as it is."""
    if not _claim(delivery_id):
        return WebhookDelivery.objects.get(pk=delivery_id)
    delivery = WebhookDelivery.objects.select_related("tenant").get(pk=delivery_id)
    delivery.sending_until = None
    # Sent where the tenant's webhook points now, not where it pointed when the delivery was
    # queued: an admin who moves or removes it (a retired or compromised endpoint) stops
    # every pending retry from going there. The delivery records where it went.
    delivery.url = delivery.tenant.webhook_url
    if not delivery.url:
        delivery.status = DeliveryStatus.SKIPPED
        delivery.save(update_fields=["status", "sending_until", "url"])
        return delivery
    if not delivery.tenant.webhook_secret:
        # Never sent unsigned (an empty key signs what anyone can sign); the policy refuses
        # a URL without a secret, so only a tenant configured before that rule gets here.
        delivery.status = DeliveryStatus.SKIPPED
        delivery.last_error = "not sent: the tenant's webhook has no secret to sign it with"
        delivery.save(update_fields=["status", "sending_until", "url", "last_error"])
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
        answer = addresses.post(delivery.url, body=body, headers=headers)
    except addresses.Refused as exc:
        # Nothing was sent. The rule is logged for the operator (ids and the rule only).
        logger.warning(
            "webhook refused delivery=%s tenant=%s: %s", delivery.pk, delivery.tenant_id, exc
        )
        answer = addresses.Answer(None, f"refused: webhook URL {exc}")
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
