"""A broker outage loses nothing: requests commit what they owe and answer as usual, and once
the broker is back a real worker scores every conversation and delivers every webhook, once.

The broker is a Redis of the test's own on port 6391 (never the shared one), stopped and
started again by the test; the platform's webhook endpoint is a real listener on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from review.models import (
    Assessment,
    Conversation,
    DeliveryStatus,
    NcmecState,
    NcmecSubmission,
    OutboxMessage,
    Tenant,
    TrainingRun,
    WebhookDelivery,
)
from review.outbound.outbox import outbox_send
from tests.brokers import RedisServer, publishing_to
from tests.conftest import api_client_for, wait_for, worker_start, worker_stop
from tests.listeners import Listener
from tests.review.cases.test_ncmec import approved_case
from tests.review_support import flagged_item, signed_in
from tests.scoring_support import (
    benign_conversation,
    grooming_conversation,
    grooming_conversations,
    ingest_payload,
)
from tests.threads import Threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OUTAGE_PORT = 6391


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """The deployment's broker: a Redis on its own port that this process sends tasks to."""
    server = RedisServer(port=OUTAGE_PORT, folder=tmp_path)
    server.start()
    try:
        with publishing_to(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture
def platform(acme: Tenant) -> Iterator[Listener]:
    """Acme's webhook endpoint, a real listener on 127.0.0.1 that answers 204."""
    listener = Listener(status=204)
    acme.webhook_url, acme.webhook_secret = listener.url(), "acme-shared-secret"
    acme.save()
    yield listener
    listener.close()


def worker_env(platform: Listener) -> dict[str, str]:
    # The operator trusts the local receiver, by host and port.
    return {"ARTEMIS_OUTBOUND_TRUSTED_HOSTS": f"127.0.0.1:{platform.port}"}


def post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@dataclass
class Outage:
    """What was sent while the broker was down."""

    conversations: list[str]
    delivery: WebhookDelivery


def platform_and_alice_work_through_the_outage(acme: Tenant, alice: Any) -> Outage:
    """The platform sends, resends and extends conversations and alice bans an account; each
    request answers as it would with the broker up."""
    api = api_client_for(acme)
    grooming = ingest_payload(grooming_conversation())
    first_part = {**grooming, "messages": grooming["messages"][:8]}
    assert post(api, "/api/v1/conversations", first_part).status_code == 201
    assert post(api, "/api/v1/conversations", first_part).status_code == 200
    appended = post(
        api,
        f"/api/v1/conversations/{grooming['external_id']}/messages",
        {"messages": grooming["messages"][8:]},
    )
    assert appended.status_code == 201
    benign = ingest_payload(benign_conversation())
    assert post(api, "/api/v1/conversations", benign).status_code == 201
    batch = [ingest_payload(c) for c in grooming_conversations(3)[1:]]
    batch_answer = post(api, "/api/v1/conversations/batch", {"conversations": batch})
    assert batch_answer.status_code == 200

    item = flagged_item(acme)
    console = signed_in(alice)
    assert console.post("/t/acme/next").status_code == 302
    decided = console.post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "ban", "reason_code": "grooming_indicators"},
    )
    assert decided.status_code == 302
    delivery = WebhookDelivery.objects.get(decision__queue_item=item)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    return Outage(
        conversations=[grooming["external_id"], benign["external_id"]]
        + [c["external_id"] for c in batch],
        delivery=delivery,
    )


def every_conversation_is_scored_once(acme: Tenant, external_ids: list[str]) -> bool:
    conversations = Conversation.objects.filter(tenant=acme, external_id__in=external_ids)
    return len(conversations) == len(external_ids) and all(
        c.score_requested_at is None
        and Assessment.objects.filter(conversation=c, message_count=c.message_count).exists()
        for c in conversations
    )


def assert_nothing_was_done_twice(acme: Tenant, outage: Outage, platform: Listener) -> None:
    for conversation in Conversation.objects.filter(
        tenant=acme, external_id__in=outage.conversations
    ):
        assert Assessment.objects.filter(conversation=conversation).count() == 1
    assert [h.headers["X-Artemis-Delivery"] for h in platform.heard] == [str(outage.delivery.pk)]
    delivery = WebhookDelivery.objects.get(pk=outage.delivery.pk)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.celery_worker
def test_what_was_owed_while_the_broker_was_down_is_sent_when_a_worker_starts(
    acme: Tenant,
    alice: Any,
    active_model: Any,
    broker: RedisServer,
    platform: Listener,
    tmp_path: Path,
) -> None:
    broker.stop()

    outage = platform_and_alice_work_through_the_outage(acme, alice)

    broker.start()
    worker = worker_start(broker=broker.url, log=tmp_path / "worker.log", env=worker_env(platform))
    try:
        wait_for(lambda: every_conversation_is_scored_once(acme, outage.conversations))
        wait_for(lambda: len(platform.heard) >= 1)
    finally:
        worker_stop(worker)
    assert_nothing_was_done_twice(acme, outage, platform)


@pytest.mark.celery_worker
def test_what_was_owed_while_the_broker_was_down_is_sent_by_the_beat_sweep(
    acme: Tenant,
    alice: Any,
    active_model: Any,
    broker: RedisServer,
    platform: Listener,
    tmp_path: Path,
) -> None:
    # A worker with its beat already running, sweeping every second.
    worker = worker_start(
        broker=broker.url,
        log=tmp_path / "worker.log",
        env={**worker_env(platform), "ARTEMIS_SWEEP_SECONDS": "1"},
        args=("--beat", "--schedule", str(tmp_path / "beat-schedule")),
    )
    try:
        broker.stop()

        outage = platform_and_alice_work_through_the_outage(acme, alice)

        broker.start()
        wait_for(lambda: every_conversation_is_scored_once(acme, outage.conversations))
        wait_for(lambda: len(platform.heard) >= 1)
        # A few more sweeps find nothing left to send.
        log = tmp_path / "worker.log"
        sweeps = log.read_text().count("review.tasks.send_outbox")
        wait_for(lambda: log.read_text().count("review.tasks.send_outbox") >= sweeps + 6)
    finally:
        worker_stop(worker)
    assert_nothing_was_done_twice(acme, outage, platform)


def queued_tasks(url: str) -> list[tuple[str, list[Any]]]:
    """The tasks waiting on a Redis broker's queues (each task's own, README "Scaling"):
    (name, positional arguments)."""
    found = []
    client = redis.Redis.from_url(url)
    raws = [raw for queue in settings.ARTEMIS_TASK_QUEUES for raw in client.lrange(queue, 0, -1)]
    for raw in raws:
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def test_a_report_to_ncmec_and_a_training_asked_for_in_an_outage_are_sent_when_it_ends(
    acme: Tenant, alice: Any, sam: Any, ada: Any, broker: RedisServer, settings: Any
) -> None:
    settings.NCMEC_REPORTER_EMAIL = "safety@acme.example"
    case = approved_case(acme, alice, sam)
    broker.stop()

    reported = signed_in(sam).post(f"/t/acme/cases/{case.pk}/ncmec", {"confirm": "yes"})
    trained = signed_in(ada).post("/t/acme/admin/models/train", {"reason": "during the outage"})

    assert (reported.status_code, trained.status_code) == (302, 302)
    assert NcmecSubmission.objects.get(case=case).state == NcmecState.QUEUED
    run = TrainingRun.objects.get(tenant=acme)
    assert OutboxMessage.objects.count() == 2
    broker.start()

    assert outbox_send() == 2

    assert sorted(queued_tasks(broker.url)) == [
        ("review.tasks.submit_ncmec", [acme.pk, case.pk, sam.pk]),
        ("review.tasks.train_challenger", [acme.pk, run.pk, ada.pk]),
    ]
    assert not OutboxMessage.objects.exists()


def test_two_sweeps_at_once_send_each_owed_task_once(broker: RedisServer) -> None:
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task="review.tasks.score_conversations", args=[[n]]) for n in range(400)
    )
    start = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        start.wait(timeout=30)
        counts.append(outbox_send())

    threads = Threads()
    threads.start(sweep)
    threads.start(sweep)
    threads.join()

    assert threads.errors == []
    assert sum(counts) == 400
    sent = [args[0][0] for _name, args in queued_tasks(broker.url)]
    assert sorted(sent) == list(range(400))
    assert not OutboxMessage.objects.exists()
