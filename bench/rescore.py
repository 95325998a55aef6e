"""Rescore benchmark: what one rescore of growing chat costs a scoring worker on PostgreSQL,
in-process (no HTTP, no broker), with where the time goes.

    .venv/bin/python bench/rescore.py [--conversations 200] [--steps 60] [--measure 20]
        [--chunk 25] [--profile]

Generated conversations (scoring/generator.py, as bench/pipeline.py plays them) grow one
message per step: each step posts every live conversation's next message through the ingest
service (``conversations_upsert``, the batch endpoint's service) and then scores the owed
conversations through ``conversations_score`` in chunks of a task's size (TASK_CHUNK;
--chunk tries another), as a task does. It prints the milliseconds of one core per rescore
and per ingested conversation update over the last --measure steps (the conversations then
hold --steps minus --measure messages or more), the part of a rescore that was this
process's own CPU time (less disturbed by other work on the machine than the wall time, which
adds the database's and any wait for the core), and the engine's own share: the same
conversations' +1 rescore from their window state, without the database. With --profile,
cProfile's top functions over the measured steps. Pinned to one core; the database
(artemis_rescore, dropped and re-created; BENCH_DATABASE_URL names another) shares the
machine. The pipeline's figure with the target is bench/pipeline.py's; this one says what a
change to the scoring bridge bought, with less noise than a whole pipeline run (run to run,
about 15% on this machine: compare back to back, twice each).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shares its name with the standard library's queue (concurrent.futures and
# multiprocessing import it): take the script's own folder off the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import os

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"

import argparse
import cProfile
import pstats
import statistics
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import django_on, fresh_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--steps", type=int, default=60, help="messages each grows to, at most")
    parser.add_argument("--measure", type=int, default=20, help="last steps measured")
    parser.add_argument(
        "--chunk", type=int, default=0, help="conversations per call (default: a task's chunk)"
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    args = parser.parse_args()
    if not 0 < args.measure <= args.steps:
        parser.error("--measure must be between 1 and --steps")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    django_on(
        fresh_database("artemis_rescore"),
        CELERY_BROKER_URL="memory://",
        DEBUG="0",
        ARTEMIS_LOG_LEVEL="WARNING",
    )
    from django.conf import settings
    from django.db import transaction

    from bench.pipeline import conversation_payloads, engine_activated
    from review.intake import scoring
    from review.intake.api import fast_inputs
    from review.intake.services import conversations_upsert
    from review.models import Conversation
    from review.tenancy.services import tenant_create
    from scoring.generator import generate_conversations

    chunk = args.chunk or scoring.TASK_CHUNK
    # The scoring tasks are this script's to run: none is sent to a broker.
    scoring._enqueue = lambda ids: None  # type: ignore[assignment]
    result = engine_activated(Path(settings.VAR_DIR))
    tenant = tenant_create(name="Bench", slug="bench")
    pool = generate_conversations(args.conversations, seed=14, platform="bench")
    payloads = conversation_payloads(pool, "r", args.steps)
    print(
        f"{len(pool)} generated conversations (median "
        f"{statistics.median(len(c.messages) for c in pool):.0f} messages), grown to at most "
        f"{args.steps} messages, the last {args.measure} steps measured"
    )

    profile = cProfile.Profile()
    rescored = ingested = 0
    rescore_s = ingest_s = rescore_cpu_s = 0.0
    first_measured = args.steps - args.measure
    for step in range(args.steps):
        updates = [
            {**p, "messages": p["messages"][step : step + 1]}
            for p in payloads
            if step < len(p["messages"])
        ]
        if not updates:
            break
        measured = step >= first_measured
        began = time.perf_counter()
        batch = fast_inputs.conversation_batch({"conversations": updates})
        assert batch is not None, "the generated payloads take the fast path"
        with transaction.atomic():
            conversations_upsert(tenant=tenant, records=batch["conversations"])
        ingest_took = time.perf_counter() - began
        owed = list(
            Conversation.objects.filter(score_requested_at__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if measured and args.profile:
            profile.enable()
        began, began_cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(owed), chunk):
            scored = scoring.conversations_score(conversation_ids=owed[start : start + chunk])
            assert not scored.failed, "a conversation failed to score"
        took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if measured and args.profile:
            profile.disable()
        if measured:
            rescored += len(owed)
            rescore_s += took
            rescore_cpu_s += took_cpu
            ingested += len(updates)
            ingest_s += ingest_took
    if not rescored:
        raise SystemExit("no conversation was rescored in the measured steps: raise --steps")
    print(f"  rescore (read, engine, write), one core : {rescore_s / rescored * 1e3:.2f} ms "
          f"per conversation ({rescored:,} rescores)")  # fmt: skip
    print(f"    of which this process's CPU time     : {rescore_cpu_s / rescored * 1e3:.2f} ms "
          "(the rest: waiting for PostgreSQL, or for the core)")  # fmt: skip
    print(f"  ingest of one conversation update      : {ingest_s / ingested * 1e3:.2f} ms "
          f"({ingested:,} updates, one message each)")  # fmt: skip
    engine_ms = engine_share(result.engine, pool, first_measured)
    print(f"  engine alone, +1 rescore from its state: {engine_ms:.2f} ms")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


def engine_share(engine: Any, pool: list[Any], length: int) -> float:
    """Milliseconds of a +1 rescore from the window state of the first ``length`` messages,
    the engine alone (best of three passes over the conversations that long)."""
    jobs = []
    for conversation in pool:
        if len(conversation.messages) <= length:
            continue
        messages = list(conversation.messages[: length + 1])
        whole = engine.score_conversation(conversation.participants, messages)
        head = engine.score_conversation(
            conversation.participants, messages[:-1], whole.message_scores[:-1]
        )
        jobs.append((conversation.participants, messages, whole.message_scores, head.window_state))
    if not jobs:
        return float("nan")
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for participants, messages, scores, state in jobs:
            engine.score_conversation(participants, messages, scores, prior=state)
        best = min(best, (time.perf_counter() - began) / len(jobs))
    return best * 1e3


if __name__ == "__main__":
    main()
