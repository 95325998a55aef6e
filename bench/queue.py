"""Queue benchmark: 1,000,000 conversations and 100,000 queued items in PostgreSQL; the queue
page and the Next claim, timed server-side (in process, p50/p95 over many calls).

The queue page is timed as a moderator's request: a signed-in GET through Django's whole
stack (middleware, session, tenant guard, the page's queries, template), as the test client
sends it; the full page and the htmx table refresh, filters rotating, one of them a
characteristic only 1 item in 1,000 has. The selector alone is printed as a breakdown.

    .venv/bin/python bench/queue.py [--conversations 1000000] [--queued 100000]

Uses its own database (artemis_bench_queue, dropped and re-created) on the server named by
BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/artemis_bench_queue). Rows are
bulk-loaded with INSERT ... SELECT generate_series, not the ORM. Target: p95 under 50 ms each.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py, like the standard library module psycopg imports: take the
# script's own folder off the import path before anything imports `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import django_on, fresh_database

TARGET_MS = 50.0
RARE = "gifts_incentives"  # on 1 queued item in 1,000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--queued", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    django_on(fresh_database("artemis_bench_queue"))
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from review import selectors
    from review.models import Membership, QueueItem, QueueStatus, Role, Tenant
    from review.services.queue import queue_item_claim_next

    began = time.perf_counter()
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    other = Tenant.objects.create(name="Other", slug="other")
    users = [get_user_model().objects.create_user(f"mod{i}") for i in range(args.calls + 1)]
    Membership.objects.bulk_create(
        [Membership(tenant=tenant, user=user, role=Role.MODERATOR) for user in users]
    )
    n, q = args.conversations, args.queued
    keys = ["secrecy_request", "media_request", "meeting_arrangement", "trust_building"]
    from scoring.characteristics import KEYS

    bits = [1 << KEYS.index(k) for k in keys]
    with connection.cursor() as cursor:
        # Half the conversations belong to another tenant: the queries must not wade through them.
        cursor.execute(
            """INSERT INTO review_conversation (tenant_id, external_id, platform, channel, status,
                   message_count, created_at, updated_at)
               SELECT CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, 'c' || g, 'bench', '',
                   CASE WHEN g <= %s * 2 THEN 'flagged' ELSE 'scored' END, 20, now(), now()
               FROM generate_series(1, %s) g""",
            [tenant.pk, other.pk, q, n],
        )
        cursor.execute(
            """INSERT INTO review_assessment (conversation_id, model_version, probability,
                   characteristic_scores, highlights, factors, suspect_scores, message_count,
                   content_fingerprint, scored_at)
               SELECT id, 'bench', 0.5 + random() / 2, '{}',
                   '[{"message": "m1", "characteristic": "secrecy_request",
                      "score": 0.9, "spans": []}]',
                   '[]', '{}', 20, md5(id::text), now()
               FROM review_conversation WHERE tenant_id = %s AND status = 'flagged'""",
            [tenant.pk],
        )
        cursor.execute(
            """INSERT INTO review_queueitem (tenant_id, conversation_id, assessment_id, status,
                   priority, probability, rank, urgent, characteristics, characteristic_bits,
                   enqueued_at, policy_pending)
               SELECT %s, a.conversation_id, a.id, 'waiting', a.probability * 1.3, a.probability,
                   a.probability * 1.3 - 0.05 * (extract(epoch from now()) / 3600 - (a.id %% 500)),
                   (a.id %% 20 = 0), ',' || (ARRAY[%s, %s, %s, %s])[1 + a.id %% 4] || ','
                       || CASE WHEN a.id %% 1000 = 7 THEN %s || ',' ELSE '' END,
                   (ARRAY[%s, %s, %s, %s])[1 + a.id %% 4]
                       | CASE WHEN a.id %% 1000 = 7 THEN %s ELSE 0 END,
                   now() - (a.id %% 500) * interval '1 hour', false
               FROM review_assessment a JOIN review_conversation c ON c.id = a.conversation_id
               WHERE c.tenant_id = %s""",
            [tenant.pk, *keys, RARE, *bits, 1 << KEYS.index(RARE), tenant.pk],
        )
        cursor.execute("ANALYZE")
    load_s = time.perf_counter() - began
    queued = QueueItem.objects.filter(tenant=tenant, status=QueueStatus.WAITING).count()

    def timed(call: object, times: int) -> list[float]:
        out = []
        for i in range(times):
            began = time.perf_counter()
            call(i)  # type: ignore[operator]
            out.append((time.perf_counter() - began) * 1000)
        return out

    filters = [
        {},
        {"characteristic": "media_request"},
        {"band": "high"},
        {"status": "waiting"},
        {"characteristic": RARE},
    ]
    setup_test_environment()  # the test client's settings (ALLOWED_HOSTS) for this process
    client = Client()
    client.force_login(users[-1])

    def get(i: int, headers: dict[str, str] | None = None) -> None:
        response = client.get(
            f"/t/{tenant.slug}/queue", filters[i % len(filters)], secure=True, headers=headers
        )
        assert response.status_code == 200, response.status_code

    def page(i: int) -> None:
        get(i)

    def fragment(i: int) -> None:
        get(i, {"HX-Request": "true"})

    def select(i: int) -> None:
        result = selectors.queue_page(tenant=tenant, **filters[i % len(filters)])
        [(row.conversation.external_id, row.claimed_by) for row in result.items]

    def claim(i: int) -> None:
        assert queue_item_claim_next(tenant=tenant, moderator=users[i]) is not None

    timed(page, 10)  # warm the caches
    page_ms = timed(page, args.calls)
    fragment_ms = timed(fragment, args.calls)
    select_ms = timed(select, args.calls)
    claim_ms = timed(claim, args.calls)
    # The claims above appended a count delta each; the page after them, before compaction.
    after_ms = timed(page, args.calls)

    def line(name: str, ms: list[float]) -> str:
        p95 = sorted(ms)[round(0.95 * len(ms)) - 1]
        verdict = "MET" if p95 < TARGET_MS else f"NOT MET by {p95 - TARGET_MS:.1f} ms"
        return (
            f"  {name:<28} p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms "
            f"(target p95 < {TARGET_MS:.0f} ms: {verdict})"
        )

    print(
        f"queue benchmark: {n:,} conversations (half another tenant's), {queued:,} queued items "
        f"in PostgreSQL, loaded in {load_s:.0f}s; {args.calls} calls each, server-side"
    )
    print(line("queue page, full (GET)", page_ms))
    print(line("queue page, htmx refresh", fragment_ms))
    print(line("  of which the selector", select_ms))
    print(line("Next claim (SKIP LOCKED)", claim_ms))
    print(line(f"queue page after {args.calls} claims", after_ms))


if __name__ == "__main__":
    main()
