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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import django_on, fresh_database

TARGET_MS = 50.0
RARE = "gifts_incentives"  # on 1 queued item in 1,000
TEAM = 50  # moderators whose earlier work is loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--queued", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument(
        "--decided", type=int, default=300_000, help="decisions already made (half a year)"
    )
    args = parser.parse_args()
    django_on(fresh_database("artemis_bench_queue"))
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from review.models import Membership, QueueItem, QueueStatus, Role, Tenant
    from review.queue import selectors
    from review.queue.services import queue_item_claim_next

    began = time.perf_counter()
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    other = Tenant.objects.create(name="Other", slug="other")
    users = [get_user_model().objects.create_user(f"mod{i}") for i in range(args.calls + 1)]
    supervisor = get_user_model().objects.create_user("sup")
    Membership.objects.bulk_create(
        [Membership(tenant=tenant, user=user, role=Role.MODERATOR) for user in users]
        + [Membership(tenant=tenant, user=supervisor, role=Role.SUPERVISOR)]
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
        history(
            cursor,
            tenant=tenant.pk,
            moderators=[u.pk for u in users[-TEAM:]],
            supervisor=supervisor.pk,
            decided=args.decided,
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
    client, supervisor_client = Client(), Client()
    client.force_login(users[-1])  # one of the team whose history was loaded
    supervisor_client.force_login(supervisor)

    def get(i: int, headers: dict[str, str] | None = None, as_: Client = client) -> None:
        response = as_.get(
            f"/t/{tenant.slug}/queue", filters[i % len(filters)], secure=True, headers=headers
        )
        assert response.status_code == 200, response.status_code

    def page(i: int) -> None:
        get(i)

    def fragment(i: int) -> None:
        get(i, {"HX-Request": "true"})

    def supervisor_page(i: int) -> None:
        get(i, as_=supervisor_client)

    def select(i: int) -> None:
        result = selectors.queue_page(tenant=tenant, **filters[i % len(filters)])
        [(row.conversation.external_id, row.claimed_by) for row in result.items]

    def claim(i: int) -> None:
        assert queue_item_claim_next(tenant=tenant, moderator=users[i]) is not None

    timed(page, 10)  # warm the caches
    page_ms = timed(page, args.calls)
    fragment_ms = timed(fragment, args.calls)
    supervisor_ms = timed(supervisor_page, args.calls)
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
        f"and {args.decided:,} earlier decisions by a team of {TEAM} (with their audit trail and "
        f"second reviews) in PostgreSQL, loaded in {load_s:.0f}s; {args.calls} calls each, "
        "server-side"
    )
    print(line("queue page, full (GET)", page_ms))
    print(line("queue page, htmx refresh", fragment_ms))
    print(line("queue page, a supervisor's", supervisor_ms))
    print(line("  of which the selector", select_ms))
    print(line("Next claim (SKIP LOCKED)", claim_ms))
    print(line(f"queue page after {args.calls} claims", after_ms))


def history(
    cursor: Any, *, tenant: int, moderators: list[int], supervisor: int, decided: int
) -> None:
    """Half a year of a team's work on the tenant's other conversations, newest first:
    decided items and their decisions (1 in 50 asks a supervisor, answered but for the last
    20), a claim, view and decision audit event each, and a second review of 1 in 20 (the
    last 10 waiting, the 30 before them open disagreements)."""
    p = {"t": tenant, "mods": moderators, "m": len(moderators), "sup": supervisor, "d": decided}
    cursor.execute(
        """INSERT INTO review_queueitem (tenant_id, conversation_id, assessment_id, status,
               priority, probability, rank, urgent, characteristics, characteristic_bits,
               enqueued_at, closed_at, policy_pending)
           SELECT %(t)s, c.id, (SELECT min(id) FROM review_assessment), 'decided', 1, 0.8, 0,
               false, ',trust_building,', 4, at - interval '1 hour', at, false
           FROM (SELECT id, now() - row_number() OVER (ORDER BY id) * interval '180 days' / %(d)s
                     AS at
                 FROM review_conversation WHERE tenant_id = %(t)s AND status = 'scored'
                 ORDER BY id LIMIT %(d)s) c""",
        p,
    )
    cursor.execute(
        """INSERT INTO review_decision (tenant_id, queue_item_id, conversation_id, moderator_id,
               verdict, reason_code, notes, created_at)
           SELECT tenant_id, id, conversation_id, (%(mods)s::int[])[1 + id %% %(m)s],
               CASE WHEN id %% 50 = 0 THEN 'ask_supervisor' ELSE 'no_violation' END,
               CASE WHEN id %% 50 = 0 THEN 'second_opinion' ELSE 'benign_context' END, '',
               closed_at
           FROM review_queueitem WHERE tenant_id = %(t)s AND status = 'decided'""",
        p,
    )
    cursor.execute(
        """INSERT INTO review_decision (tenant_id, queue_item_id, conversation_id, moderator_id,
               verdict, reason_code, notes, supersedes_id, created_at)
           SELECT tenant_id, queue_item_id, conversation_id, %(sup)s, 'no_violation',
               'benign_context', '', id, created_at + interval '1 minute'
           FROM review_decision WHERE tenant_id = %(t)s AND verdict = 'ask_supervisor'
           ORDER BY created_at DESC OFFSET 20""",
        p,
    )
    cursor.execute(
        """INSERT INTO review_auditevent (tenant_id, sequence, actor_id, actor_label, action,
               target_type, target_id, detail, created_at, prev_hash, hash)
           SELECT %(t)s, row_number() OVER (ORDER BY at, kind), moderator_id, 'moderator',
               action, 'queue_item', queue_item_id::text, detail::jsonb, at,
               md5(queue_item_id || '-' || kind), md5(kind || '-' || queue_item_id)
           FROM (SELECT d.moderator_id, d.queue_item_id, k.kind, k.action, k.detail,
                     d.created_at - k.before AS at
                 FROM review_decision d CROSS JOIN (VALUES
                     (1, 'claim', '{}', interval '5 minutes'),
                     (2, 'view', '{"highlighted": 4}', interval '4 minutes'),
                     (3, 'decision', '{}', interval '0 minutes')) AS k(kind, action, detail, before)
                 WHERE d.tenant_id = %(t)s) AS e""",
        p,
    )
    cursor.execute(
        """INSERT INTO review_auditchainhead (tenant_id, sequence, hash)
           SELECT %(t)s, count(*), md5('head') FROM review_auditevent WHERE tenant_id = %(t)s""",
        p,
    )
    cursor.execute(
        """INSERT INTO review_secondreview (tenant_id, decision_id, conversation_id, status,
               created_at, reviewer_id, verdict, reason_code, notes, agrees, completed_at,
               resolution)
           SELECT tenant_id, id, conversation_id, CASE WHEN r <= 10 THEN 'waiting' ELSE 'done' END,
               created_at,
               CASE WHEN r > 10 THEN (%(mods)s::int[])[1 + (id + 1) %% %(m)s] END,
               CASE WHEN r > 10 THEN verdict ELSE '' END,
               CASE WHEN r > 10 THEN reason_code ELSE '' END, '',
               CASE WHEN r > 10 THEN r > 40 END, CASE WHEN r > 10 THEN created_at END, ''
           FROM (SELECT *, row_number() OVER (ORDER BY created_at DESC) AS r
                 FROM review_decision
                 WHERE tenant_id = %(t)s AND supersedes_id IS NULL
                     AND verdict = 'no_violation' AND id %% 20 = 3) AS sampled""",
        p,
    )


if __name__ == "__main__":
    main()
