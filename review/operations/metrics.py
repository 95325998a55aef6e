"""The Prometheus metrics: figures read from the database at each scrape (queue depth, the
oldest waiting and oldest urgent item, scoring lag, webhook and NCMEC outcomes), and counters
kept by the processes that see the events (ingest rejects by reason, tasks by outcome).

Counters live in each process. With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` sets it;
README "Operations"), every web and worker process on a machine writes them there and
``manage.py serve_metrics`` on that machine adds them up. Names and labels never carry
message text: tenant slugs, states, task names and error codes only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from review.models import NcmecSubmission, WebhookDelivery
from review.operations import selectors

INGEST_REJECTS = Counter(
    "artemis_ingest_rejects",
    "Ingest requests refused, by the error code and the first field it names",
    ["code", "field"],
)
INGEST_CONVERSATIONS = Counter(
    "artemis_ingest_conversations", "Conversations accepted by the ingest API", ["outcome"]
)
TASKS = Counter("artemis_tasks", "Celery tasks by task and outcome", ["task", "outcome"])


class DatabaseCollector(Collector):
    """Reads the figures at scrape time, so every process (and every machine) agrees."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "artemis_queue_items",
            "Open queue items by tenant, status and urgency",
            labels=["tenant", "status", "urgent"],
        )
        for row in selectors.queue_depths():
            depth.add_metric([row.tenant, row.status, str(row.urgent).lower()], row.items)
        yield depth
        for urgent_only, name, what in (
            (False, "artemis_queue_oldest_waiting_seconds", "the oldest waiting item"),
            (True, "artemis_queue_oldest_urgent_waiting_seconds", "the oldest urgent waiting item"),
        ):
            family = GaugeMetricFamily(name, f"Age of {what}, by tenant", labels=["tenant"])
            for tenant, since in selectors.oldest_waiting(urgent_only=urgent_only).items():
                family.add_metric([tenant], (now - since).total_seconds())
            yield family
        lag = GaugeMetricFamily(
            "artemis_scoring_lag_seconds",
            "How long the oldest conversation has waited for its score, by tenant (0: none)",
            labels=["tenant"],
        )
        waiting = selectors.oldest_score_request()
        for tenant in selectors.tenant_slugs():
            since = waiting.get(tenant)
            lag.add_metric([tenant], (now - since).total_seconds() if since else 0.0)
        yield lag
        for model, field, name, what in (
            (WebhookDelivery, "status", "artemis_webhook_deliveries", "Webhook deliveries"),
            (NcmecSubmission, "state", "artemis_ncmec_submissions", "NCMEC submissions"),
        ):
            family = GaugeMetricFamily(
                name, f"{what} by tenant and state", labels=["tenant", "state"]
            )
            for tenant, state, rows in selectors.outcome_counts(model, field):
                family.add_metric([tenant, state], rows)
            yield family


def registry() -> CollectorRegistry:
    """What ``serve_metrics`` exposes: the database figures, and the counters of every
    process on this machine (multiprocess mode) or of this process."""
    collected = CollectorRegistry()
    collected.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(collected)
    else:
        for counter in (INGEST_REJECTS, INGEST_CONVERSATIONS, TASKS):
            collected.register(counter)
    return collected
