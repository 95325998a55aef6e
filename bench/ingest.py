"""Ingest benchmark: N generated conversations through the HTTP API of a real gunicorn
server into PostgreSQL; prints conversations/s, messages/s and p50/p95 request latency.

    .venv/bin/python bench/ingest.py [--conversations 20000] [--batch 500] [--clients 2]

Uses its own database (artemis_bench, dropped and re-created) on the PostgreSQL server named
by BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/artemis_bench) and the
broker in BENCH_BROKER_URL (default redis://127.0.0.1:6379/13, flushed after). No worker
runs: this measures ingest, and the scoring tasks it sends are dropped at the end.
Target on the 2-core machine (issue 14): at least 20,000 messages/s with batch requests.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shares its name with the standard library's queue (concurrent.futures and
# multiprocessing import it): take the script's own folder off the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import random
import statistics
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import free_port, fresh_database

PY = sys.executable
WORDS = [
    "hey",
    "what",
    "are",
    "you",
    "up",
    "to",
    "today",
    "school",
    "was",
    "long",
    "lol",
    "did",
    "you",
    "see",
    "the",
    "game",
    "last",
    "night",
    "my",
    "mom",
    "says",
    "dinner",
    "is",
    "ready",
    "soon",
    "we",
    "should",
    "play",
    "again",
    "later",
    "ok",
    "cool",
    "see",
    "you",
    "tomorrow",
    "that",
    "song",
    "is",
    "stuck",
    "in",
    "my",
    "head",
    "haha",
    "homework",
    "is",
    "so",
    "boring",
    "right",
    "now",
    "the",
    "weather",
    "is",
    "nice",
]
TARGET_MESSAGES_PER_S = 20_000


def conversation(i: int, rng: random.Random, messages: int) -> dict:
    start = datetime(2026, 11, 1, 18, 0, tzinfo=UTC) + timedelta(minutes=i)
    people = [f"b{i}-u1", f"b{i}-u2"]
    return {
        "external_id": f"bench-{i}",
        "platform": "bench",
        "participants": [
            {"external_id": people[0], "display_name": "A", "declared_age": rng.randint(11, 40)},
            {"external_id": people[1], "display_name": "B"},
        ],
        "messages": [
            {
                "external_id": f"m{k}",
                "sender": people[k % 2],
                "sent_at": (start + timedelta(seconds=40 * k)).isoformat(),
                "text": " ".join(rng.choices(WORDS, k=rng.randint(3, 18))),
            }
            for k in range(messages)
        ],
    }


def django(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=20, help="messages per conversation")
    parser.add_argument("--batch", type=int, default=500, help="conversations per request")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument(
        "--port", type=int, default=0, help="the server's port (default: any free port)"
    )
    args = parser.parse_args()
    args.port = free_port(args.port)
    print(f"gunicorn on 127.0.0.1:{args.port}")

    db_url = fresh_database("artemis_bench")
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ARTEMIS_LOG_LEVEL": "WARNING",
    }
    django(env, "migrate", "--noinput")
    django(env, "create_tenant", "--slug", "bench", "--name", "Bench")
    key = django(env, "create_api_key", "--tenant", "bench", "--name", "bench").strip()

    rng = random.Random(7)
    batches = []
    for start in range(0, args.conversations, args.batch):
        items = [
            conversation(i, rng, args.messages)
            for i in range(start, min(start + args.batch, args.conversations))
        ]
        batches.append(json.dumps({"conversations": items}).encode())
    total_messages = args.conversations * args.messages
    size = sum(len(b) for b in batches)

    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "artemis.wsgi", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{args.port}/api/v1/conversations/batch"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/schema", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    message = f"gunicorn exited ({server.returncode}) before answering"
                    raise SystemExit(message) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

        def send(body: bytes) -> float:
            request = urllib.request.Request(
                url,
                data=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            began = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (http only)
                response.read()
                assert response.status == 200, response.status
            return time.perf_counter() - began

        send(batches[0])  # warm-up: first-request imports; it is then re-sent (unchanged)
        load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
        began = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies = list(pool.map(send, batches[1:]))
        elapsed = time.perf_counter() - began
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)

    measured_conversations = args.conversations - min(args.batch, args.conversations)
    measured_messages = measured_conversations * args.messages
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    rate = measured_messages / elapsed
    print(
        f"ingest benchmark: {args.conversations} conversations x {args.messages} messages "
        f"({total_messages} messages, {size / 1e6:.1f} MB JSON), batches of {args.batch}, "
        f"{args.clients} clients, gunicorn {args.workers} workers, PostgreSQL"
    )
    print(f"  conversations/s : {measured_conversations / elapsed:,.0f}")
    print(
        f"  messages/s      : {rate:,.0f}   (target >= {TARGET_MESSAGES_PER_S:,}: "
        + (
            f"MET, by {rate - TARGET_MESSAGES_PER_S:,.0f}/s"
            if rate >= TARGET_MESSAGES_PER_S
            else f"NOT MET, short by {TARGET_MESSAGES_PER_S - rate:,.0f}/s "
            f"({rate / TARGET_MESSAGES_PER_S:.0%} of the target)"
        )
        + ")"
    )
    print(
        f"  request latency : p50 {statistics.median(latencies) * 1000:,.0f} ms, "
        f"p95 {p95 * 1000:,.0f} ms ({len(latencies)} requests of {args.batch} conversations)"
    )
    print(f"  load average    : {load_before:.2f} before, {load_after:.2f} after (1 minute)")

    import redis

    redis.Redis.from_url(broker).flushdb()


if __name__ == "__main__":
    main()
