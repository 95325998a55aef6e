"""The operator's view: Prometheus metrics read after real actions, and the probes."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from review import tasks
from review.models import Conversation, QueueItem, Tenant
from review.operations.metrics import registry
from tests.conftest import api_client_for
from tests.review_support import flagged_item


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The exposition text as the Prometheus server parses it: (sample, labels) -> value."""
    text = generate_latest(registry()).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_queue_depth_and_the_oldest_waiting_and_urgent_items_by_tenant(acme: Tenant) -> None:
    old, new = flagged_item(acme, 1), flagged_item(acme, 2)
    QueueItem.objects.filter(pk=old.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=30), urgent=True
    )
    QueueItem.objects.filter(pk=new.pk).update(enqueued_at=timezone.now() - timedelta(minutes=5))

    samples = scrape()

    labels = {"tenant": "acme", "status": "waiting"}
    assert value(samples, "artemis_queue_items", **labels, urgent="true") == 1
    assert value(samples, "artemis_queue_items", **labels, urgent="false") == 1
    oldest = value(samples, "artemis_queue_oldest_waiting_seconds", tenant="acme")
    urgent = value(samples, "artemis_queue_oldest_urgent_waiting_seconds", tenant="acme")
    assert 30 * 60 <= oldest < 31 * 60
    assert urgent == pytest.approx(oldest, abs=1)


def test_scoring_lag_is_the_age_of_the_oldest_unscored_request(acme: Tenant) -> None:
    assert value(scrape(), "artemis_scoring_lag_seconds", tenant="acme") == 0
    conversation = Conversation.objects.create(tenant=acme, external_id="c-lag")
    Conversation.objects.filter(pk=conversation.pk).update(
        score_requested_at=timezone.now() - timedelta(seconds=90)
    )
    assert 90 <= value(scrape(), "artemis_scoring_lag_seconds", tenant="acme") < 120


def test_ingest_counts_what_it_accepts_and_what_it_refuses_by_code_and_field(
    acme: Tenant,
) -> None:
    client = api_client_for(acme)
    before = scrape()
    good = {
        "external_id": "c-metrics",
        "participants": [{"external_id": "p1"}, {"external_id": "p2"}],
        "messages": [
            {"external_id": "m1", "sender": "p1", "sent_at": "2026-11-01T18:00:00Z", "text": "hi"}
        ],
    }
    bad = {**good, "messages": [{**good["messages"][0], "sent_at": "yesterday"}]}
    for payload in (good, good, bad):
        client.post(
            "/api/v1/conversations", data=json.dumps(payload), content_type="application/json"
        )

    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("artemis_ingest_conversations_total", outcome="created") == 1
    assert grew("artemis_ingest_conversations_total", outcome="same") == 1
    assert grew("artemis_ingest_rejects_total", code="invalid", field="messages[].sent_at") == 1


def test_tasks_are_counted_by_name_and_outcome(acme: Tenant) -> None:
    name = "review.tasks.compact_queue_counts"
    before = value(scrape(), "artemis_tasks_total", task=name, outcome="success")
    tasks.compact_queue_counts.apply()
    assert value(scrape(), "artemis_tasks_total", task=name, outcome="success") == before + 1


def test_no_label_or_value_carries_message_text(acme: Tenant) -> None:
    flagged_item(acme, 1)  # its messages say "dont tell your mom we talk"
    text = generate_latest(registry()).decode()
    assert "tell your mom" not in text
    assert "school" not in text


def test_healthz_answers_and_readyz_names_what_is_missing(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
    answer = Client().get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] == "ok"
    assert checks["model"].startswith("failed (no active default model")


def test_readyz_is_ready_with_the_database_the_broker_and_an_intact_model(
    active_model: Any,
) -> None:
    answer = Client().get("/readyz")
    assert (answer.status_code, answer.json()["status"]) == (200, "ready")


def test_serve_metrics_names_a_port_that_is_taken() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            call_command("serve_metrics", "--port", str(port))


def test_the_example_alert_rules_use_only_series_that_exist(acme: Tenant) -> None:
    import re
    from pathlib import Path

    tasks.compact_queue_counts.apply()
    text = generate_latest(registry()).decode()
    families = {family.name for family in text_string_to_metric_families(text)}
    names = families | {f"{name}_total" for name in families}
    rules = (Path(__file__).resolve().parents[3] / "ops" / "alerts.yml").read_text()
    used = set(re.findall(r"\bartemis_[a-z_]+", rules))
    assert used, "the rules name no series"
    assert used <= names, used - names


def test_an_undeclared_key_is_counted_without_its_name(acme: Tenant) -> None:
    # A key is the client's text (it could be chat): never a label, never a series per key.
    client = api_client_for(acme)
    before = scrape()
    for key in ("meet me after school", "another made up key"):
        payload = {
            "external_id": "c-keys",
            "participants": [{"external_id": "p1", key: 1}],
            "messages": [],
        }
        client.post(
            "/api/v1/conversations", data=json.dumps(payload), content_type="application/json"
        )

    after = scrape()

    field = "participants[].<undeclared>"
    counted = value(after, "artemis_ingest_rejects_total", code="invalid", field=field)
    assert counted - value(before, "artemis_ingest_rejects_total", code="invalid", field=field) == 2
    assert "meet me" not in after
    assert "made up" not in after


def test_an_undeclared_key_with_dots_is_not_read_as_a_path(acme: Tenant) -> None:
    # "meet.me after school" would otherwise leave "meet" in the label as if it were a field.
    client = api_client_for(acme)
    payload = {
        "external_id": "c-dotted",
        "participants": [{"external_id": "p1", "meet.me after school": 1}],
        "messages": [],
    }
    client.post("/api/v1/conversations", data=json.dumps(payload), content_type="application/json")

    after = scrape()

    assert "meet" not in after
    assert (
        value(
            after,
            "artemis_ingest_rejects_total",
            code="invalid",
            field="participants[].<undeclared>",
        )
        >= 1
    )
