"""Pipeline benchmark: chat arriving at a stated rate through a real gunicorn server into
PostgreSQL, scored by real Celery workers on Redis, into the review queue; prints, per rate,
the end-to-end latency from a POST's response to the queue item it caused (p50, p95, p99),
the scoring lag, where the time went, and the highest rate at which p95 stays under 2 s.

    .venv/bin/python bench/pipeline.py [--rates 250 500 1000 2000 3000] [--duration 30]
        [--workers 2] [--concurrency 1]

The load is chat as it happens: conversations made by scoring/generator.py (about a third of
them grooming, so a share cross the tenant's threshold), each growing message by message, one
message every --gap seconds, while new conversations start as others end; rate x gap of them
are live at once. Messages are due on a fixed schedule (open loop: a slow server does not slow
the schedule down). --clients threads, each owning a share of the conversations, post every
--interval seconds one batch request (``POST /api/v1/conversations/batch``) with the messages
that fell due since their last one, each conversation sent again with its new messages. So a
message waits up to --interval on the client before it is posted, as a platform that batches
would make it wait; that wait is not in the latency, which starts at the POST's response.

End to end (the figure with the target) is, for each queue item, its ``enqueued_at`` minus the
response time of the earliest POST whose messages the assessment that queued it was the first
to read: exact when every POST is scored on its own, and an upper bound when a backlog merges
several POSTs into one score. Scoring lag is, for each conversation in each POST, the first
assessment that read its messages (``scored_at``) minus the POST's response. Both clocks are
this machine's wall clock (the workers' and the server's ``timezone.now()``). POSTs still not
scored when the drain time (--drain) is over count as infinitely late: the percentiles say so.
A rate is sustained when the end-to-end p95 is under 2 s, the clients sent at least 95% of
the rate, no POST failed and every POST was scored within the drain time.

Each rate runs against fresh conversations in the same database (artemis_pipeline, dropped and
re-created; BENCH_DATABASE_URL names another) and the broker in BENCH_BROKER_URL (default
redis://127.0.0.1:6379/6, flushed before and after each rate). --workers Celery worker
processes (``--concurrency`` prefork children each) read every queue, as scripts/run.sh does.
The default model is trained once and cached under ARTEMIS_VAR_DIR (default var/) as
bench/pipeline-model-<code hash>.pickle, so a later run on the same scoring code reuses it.
Target on the 2-core machine: p95 under 2 s at 2,000 messages/s with two workers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shares its name with the standard library's queue (concurrent.futures and
# multiprocessing import it): take the script's own folder off the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import bisect
import hashlib
import json
import math
import os
import pickle
import re
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import django_on, free_port, fresh_database

PY = sys.executable
TARGET_RATE = 2000
TARGET_P95_S = 2.0
MAX_BATCH = 1000  # ARTEMIS_MAX_BATCH: conversations per request
# What the benchmark's database sessions are doing: the workers' waiting on a lock (a row an
# ingest request holds, say) and working in PostgreSQL; the same for the web server's.
SESSIONS = """
    SELECT
        count(*) FILTER (WHERE application_name = 'pipeline-worker' AND wait_event_type = 'Lock'),
        count(*) FILTER (WHERE application_name = 'pipeline-worker' AND state = 'active'
                         AND wait_event_type IS DISTINCT FROM 'Lock'),
        count(*) FILTER (WHERE application_name = 'pipeline-web' AND wait_event_type = 'Lock'),
        count(*) FILTER (WHERE application_name = 'pipeline-web' AND state = 'active'
                         AND wait_event_type IS DISTINCT FROM 'Lock')
    FROM pg_stat_activity WHERE datname = current_database()
"""


# --- the load -------------------------------------------------------------------------------


@dataclass
class Posted:
    """One conversation in one POST: how many messages it had after it, and when the POST's
    response came back (wall clock, seconds)."""

    conversation: str
    count: int
    answered: float


@dataclass
class ClientLog:
    posted: list[Posted] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # POST round trips, seconds
    messages: int = 0
    late: list[float] = field(default_factory=list)  # due time to the POST's start, seconds
    errors: list[str] = field(default_factory=list)


def conversation_payloads(pool: list[Any], label: str, cap: int) -> list[dict[str, Any]]:
    """The generated conversations as API records, ids prefixed with the run's ``label`` so
    every rate starts from new conversations and participants; at most ``cap`` messages each
    (no more can fall due in one run)."""
    out = []
    for c in pool:
        participants = []
        for p in c.participants:
            record: dict[str, Any] = {"external_id": f"{label}-{p.external_id}"}
            if p.declared_age is not None:
                record["declared_age"] = p.declared_age
            if p.account_created_at is not None:
                record["account_created_at"] = p.account_created_at.isoformat()
            participants.append(record)
        out.append(
            {
                "external_id": f"{label}-{c.external_id}",
                "platform": "bench",
                "participants": participants,
                "messages": [
                    {
                        "external_id": m.external_id,
                        "sender": f"{label}-{m.sender}",
                        "sent_at": m.sent_at.isoformat(),
                        "text": m.text,
                    }
                    for m in c.messages[:cap]
                ],
            }
        )
    return out


def schedule(
    payloads: list[dict[str, Any]], *, rate: float, gap: float, duration: float, clients: int
) -> list[list[tuple[float, int, int]]]:
    """Each client's due messages in time order: (seconds from the start, conversation, index).

    rate x gap slots each carry one live conversation; slot s has a message due at
    (s + k * slots) / rate for k = 0, 1, ..., so the whole is exactly ``rate`` messages per
    second and each conversation gets one every ``gap`` seconds. When a conversation has no
    message left, the slot's next one takes the next conversation of the pool."""
    slots = max(1, round(rate * gap))
    total = int(rate * duration)
    per_client: list[list[tuple[float, int, int]]] = [[] for _ in range(clients)]
    current: list[tuple[int, int]] = []  # slot -> (conversation, next message index)
    following = 0
    for n in range(total):
        slot = n % slots
        if slot == len(current):
            current.append((following, 0))
            following += 1
        conv, index = current[slot]
        if index >= len(payloads[conv]["messages"]):
            conv, index = following, 0
            following += 1
        if conv >= len(payloads):
            raise SystemExit(f"the pool of {len(payloads)} conversations ran out; raise --pool")
        current[slot] = (conv, index + 1)
        per_client[slot % clients].append((n / rate, conv, index))
    return per_client


def post(url: str, key: str, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 (http only)
        url,
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (http only)
        response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"HTTP {response.status}")


def client(
    *,
    url: str,
    key: str,
    due: list[tuple[float, int, int]],
    payloads: list[dict[str, Any]],
    start: float,
    interval: float,
    log: ClientLog,
) -> None:
    """Every ``interval`` seconds, post what fell due since the last POST (all of it, however
    late: the schedule is open loop), one request per MAX_BATCH conversations."""
    sent = 0
    tick = 0
    times = [t for t, _, _ in due]
    while sent < len(due):
        tick += 1
        wake = start + tick * interval
        pause = wake - time.time()
        if pause > 0:
            time.sleep(pause)
        now = time.time() - start
        upto = bisect.bisect_right(times, now, lo=sent)
        if upto == sent:
            continue
        new: dict[int, list[int]] = defaultdict(list)
        for t, conv, index in due[sent:upto]:
            new[conv].append(index)
            log.late.append(now - t)
        log.messages += upto - sent
        sent = upto
        records = []
        for conv, indexes in new.items():
            whole = payloads[conv]
            records.append(
                {
                    **whole,
                    "messages": [whole["messages"][i] for i in indexes],
                    "_count": indexes[-1] + 1,
                }
            )
        for begin in range(0, len(records), MAX_BATCH):
            chunk = records[begin : begin + MAX_BATCH]
            body = json.dumps(
                {"conversations": [{k: v for k, v in r.items() if k != "_count"} for r in chunk]}
            ).encode()
            began = time.time()
            try:
                post(url, key, body)
            except (OSError, RuntimeError, urllib.error.HTTPError) as exc:
                log.errors.append(type(exc).__name__ + ": " + str(exc)[:200])
                continue
            answered = time.time()
            log.durations.append(answered - began)
            log.posted.extend(Posted(r["external_id"], r["_count"], answered) for r in chunk)


# --- processes ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its living descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = defaultdict(list)
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw.rpartition(")")[2].split()
        stats[int(entry.name)] = fields
        children[int(fields[1])].append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += (int(stats[p][11]) + int(stats[p][12])) / tick
        todo.extend(children.get(p, []))
    return total


def wait_for_line(process: subprocess.Popen[bytes], log: Path, text: bytes, what: str) -> None:
    deadline = time.monotonic() + 90
    while text not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def model_cache(var_dir: Path) -> Path:
    """Where the trained default model is kept for this version of the scoring code."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "scoring").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".jsonl", ".csv", ".txt"):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return var_dir / "bench" / f"pipeline-model-{digest.hexdigest()[:16]}.pickle"


def engine_cached(var_dir: Path) -> Any:
    """The default model (a ``TrainResult``), trained once per version of the scoring code
    and kept in var/."""
    cache = model_cache(var_dir)
    if cache.is_file():
        print(f"model: reusing {cache}")
        return pickle.loads(cache.read_bytes())  # noqa: S301 (written by this script)
    from scoring.training import train_default

    began = time.perf_counter()
    result = train_default()
    print(f"model: trained in {time.perf_counter() - began:.0f}s, cached as {cache}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(result))
    return result


def engine_activated(var_dir: Path) -> Any:
    """``engine_cached``'s model registered as the active one; returns the ``TrainResult``.
    Call with Django set up on the benchmark's database."""
    from scoring.services import model_version_register

    result = engine_cached(var_dir)
    model_version_register(
        engine=result.engine,
        metrics=result.metrics,
        data_fingerprint=result.data_fingerprint,
        training_source="seed corpus + generated conversations",
    )
    return result


# --- figures --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; ``inf`` (never happened) sorts last."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "never"
    return f"{value:.2f}"


@dataclass
class RateResult:
    rate: int
    achieved: float
    end_to_end: list[float]
    lag: list[float]
    post_s: list[float]
    queue_step: list[float]
    task_s: list[float]
    busy: float
    backlog: int
    unscored: int
    cpu: dict[str, float]
    errors: int
    late_p95: float
    scored_per_s: float  # assessments written per second of the window
    sessions: tuple[float, ...]  # SESSIONS averaged over the samples
    updates_per_s: float  # conversation updates posted per second of load

    @property
    def p95(self) -> float:
        return percentile(self.end_to_end, 95)

    @property
    def sustained(self) -> bool:
        return (
            bool(self.end_to_end)
            and self.p95 < TARGET_P95_S
            and self.achieved >= 0.95 * self.rate
            and not self.errors
            and not self.unscored
        )


def measure(
    *, label: str, logs: list[ClientLog], threshold: float
) -> tuple[list[float], list[float], list[float], int]:
    """End-to-end latencies, scoring lags, queue steps (assessment to item) and the number of
    assessments written, of one rate."""
    from django.db import connection

    posted = [p for log in logs for p in log.posted]
    by_conv: dict[str, list[Posted]] = defaultdict(list)
    for p in posted:
        by_conv[p.conversation].append(p)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.external_id, a.message_count, extract(epoch from a.scored_at),
                   a.probability
               FROM review_assessment a JOIN review_conversation c ON c.id = a.conversation_id
               WHERE c.external_id LIKE %s ORDER BY a.scored_at, a.id""",
            [f"{label}-%"],
        )
        assessments: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
        for eid, count, scored, probability in cursor.fetchall():
            assessments[eid].append((count, float(scored), probability))
        cursor.execute(
            """SELECT c.external_id, extract(epoch from q.enqueued_at)
               FROM review_queueitem q JOIN review_conversation c ON c.id = q.conversation_id
               WHERE c.external_id LIKE %s""",
            [f"{label}-%"],
        )
        items = dict(cursor.fetchall())

    lags = []
    for eid, posts in by_conv.items():
        for p in posts:
            first = next((s for count, s, _ in assessments[eid] if count >= p.count), None)
            lags.append(math.inf if first is None else first - p.answered)
    end_to_end, steps = [], []
    for eid, enqueued in items.items():
        enqueued = float(enqueued)
        earlier = 0
        queued_by = None
        for count, scored, probability in assessments[eid]:
            if probability >= threshold:
                queued_by = scored
                break
            earlier = max(earlier, count)
        if queued_by is None:
            continue  # queued by no assessment of this run: cannot happen, skip
        steps.append(enqueued - queued_by)
        causes = [p for p in by_conv[eid] if p.count > earlier]
        if causes:
            end_to_end.append(enqueued - min(p.answered for p in causes))
    return end_to_end, lags, steps, sum(len(a) for a in assessments.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates", type=int, nargs="+", default=[250, 500, 1000, 2000, 3000], help="messages/s"
    )
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per rate")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="prefork children per Celery worker"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=2, help="client threads posting")
    parser.add_argument(
        "--interval", type=float, default=0.25, help="seconds between a client's POSTs"
    )
    parser.add_argument(
        "--gap", type=float, default=1.0, help="seconds between a conversation's messages"
    )
    parser.add_argument(
        "--drain", type=float, default=30, help="seconds to wait for scoring after the load"
    )
    parser.add_argument(
        "--pool", type=int, default=0, help="generated conversations (default: enough)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the server's port (default: any free port)"
    )
    args = parser.parse_args()  # fmt: skip
    port = free_port(args.port)
    load_at_start = os.getloadavg()[0]

    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    import redis

    redis_client = redis.Redis.from_url(broker)
    redis_client.flushdb()
    db_url = fresh_database("artemis_pipeline")
    env_extra = {
        "CELERY_BROKER_URL": broker,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ARTEMIS_LOG_LEVEL": "WARNING",
    }
    django_on(db_url, **env_extra)
    from django.conf import settings

    from review.tenancy.services import api_key_create, tenant_create
    from scoring.generator import generate_conversations

    engine_activated(Path(settings.VAR_DIR))
    tenant = tenant_create(name="Bench", slug="bench")
    _, key = api_key_create(tenant=tenant, name="pipeline bench")
    threshold = tenant.flag_threshold

    # Enough conversations for the fastest rate: every live slot, plus those that end.
    began = time.perf_counter()
    needed = args.pool or int(max(args.rates) * (args.gap + args.duration / 20)) + 200
    pool = generate_conversations(needed, seed=14, platform="bench")
    print(
        f"load: {len(pool):,} generated conversations "
        f"({sum(c.label == 1 for c in pool) / len(pool):.0%} grooming, median "
        f"{statistics.median(len(c.messages) for c in pool):.0f} messages) in "
        f"{time.perf_counter() - began:.0f}s"
    )

    env = {**os.environ, "DATABASE_URL": db_url, **env_extra}
    var = Path(settings.VAR_DIR) / "bench"
    var.mkdir(parents=True, exist_ok=True)
    server_log, worker_log = var / "pipeline-gunicorn.log", var / "pipeline-worker.log"
    processes: list[subprocess.Popen[bytes]] = []
    with server_log.open("wb") as out:
        server = subprocess.Popen(
            [PY, "-m", "gunicorn", "artemis.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.web_workers), "--log-level", "info", "--timeout", "120"],
            cwd=ROOT, env={**env, "PGAPPNAME": "pipeline-web"}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    processes.append(server)
    workers = []
    with worker_log.open("wb") as out:
        for n in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "celery",
                        "-A",
                        "artemis",
                        "worker",
                        "-n",
                        f"pipeline{n}@%h",
                        "--queues",
                        ",".join(settings.ARTEMIS_TASK_QUEUES),
                        "--pool",
                        "prefork",
                        "--concurrency",
                        str(args.concurrency),
                        "--loglevel",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env={**env, "PGAPPNAME": "pipeline-worker"},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    processes.extend(workers)
    results: list[RateResult] = []
    try:
        wait_for_line(server, server_log, b"Booting worker", "gunicorn")
        for w in workers:
            wait_for_line(w, worker_log, b"ready.", "a Celery worker")
        url = f"http://127.0.0.1:{port}/api/v1/conversations/batch"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        warm = conversation_payloads(pool[:4], "warm", 3)
        post(url, key, json.dumps({"conversations": warm}).encode())  # first-request imports

        for rate in args.rates:
            results.append(
                run_rate(
                    rate=rate,
                    args=args,
                    pool=pool,
                    url=url,
                    key=key,
                    threshold=threshold,
                    redis_client=redis_client,
                    server=server,
                    workers=workers,
                    worker_log=worker_log,
                    db_url=db_url,
                )
            )
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        redis_client.flushdb()
    report(results, args, load_at_start)


def run_rate(
    *,
    rate: int,
    args: argparse.Namespace,
    pool: list[Any],
    url: str,
    key: str,
    threshold: float,
    redis_client: Any,
    server: subprocess.Popen[bytes],
    workers: list[subprocess.Popen[bytes]],
    worker_log: Path,
    db_url: str,
) -> RateResult:
    from django.db import connection

    label = f"r{rate}-{int(time.time())}"
    payloads = conversation_payloads(pool, label, math.ceil(args.duration / args.gap) + 1)
    plan = schedule(payloads, rate=rate, gap=args.gap, duration=args.duration, clients=args.clients)
    logs = [ClientLog() for _ in plan]
    log_from = worker_log.stat().st_size
    cpu_before = {
        "gunicorn": cpu_seconds(server.pid),
        "workers": sum(cpu_seconds(w.pid) for w in workers),
    }
    backlog = [0]
    samples: list[tuple[int, ...]] = []
    stop = threading.Event()

    def watch() -> None:
        """The Redis backlog, and what the workers' and the server's database sessions are
        doing (PGAPPNAME names them), sampled every 0.2 s."""
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            while not stop.is_set():
                backlog[0] = max(backlog[0], redis_client.llen("scoring"))
                samples.append(conn.execute(SESSIONS).fetchone())
                stop.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.time() + 0.5
    threads = [
        threading.Thread(
            target=client,
            kwargs={
                "url": url,
                "key": key,
                "due": due,
                "payloads": payloads,
                "start": start,
                "interval": args.interval,
                "log": log,
            },
        )
        for due, log in zip(plan, logs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load_s = time.time() - start
    sent = sum(log.messages for log in logs)

    # Drain: until no conversation of this run owes a score and the queue is empty.
    drain_until = time.time() + args.drain
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM review_conversation "
                "WHERE external_id LIKE %s AND score_requested_at IS NOT NULL",
                [f"{label}-%"],
            )
            owed = cursor.fetchone()[0]
            if (owed == 0 and redis_client.llen("scoring") == 0) or time.time() > drain_until:
                break
            time.sleep(0.5)
    window = time.time() - start
    stop.set()
    watcher.join()
    cpu = {
        "gunicorn": cpu_seconds(server.pid) - cpu_before["gunicorn"],
        "workers": sum(cpu_seconds(w.pid) for w in workers) - cpu_before["workers"],
    }
    # Tasks still queued are dropped, so the next rate starts on an empty broker; a task in
    # hand finishes first (each takes seconds at most).
    redis_client.flushdb()
    with worker_log.open("rb") as f:
        f.seek(log_from)
        text = f.read().decode(errors="replace")
    task_s = [
        float(s) for s in re.findall(r"score_conversations\[[^\]]+\] succeeded in ([0-9.]+)s", text)
    ]
    end_to_end, lags, steps, scored = measure(label=label, logs=logs, threshold=threshold)
    slots = args.workers * args.concurrency
    result = RateResult(
        rate=rate,
        achieved=sent / load_s,
        end_to_end=end_to_end,
        lag=lags,
        post_s=[d for log in logs for d in log.durations],
        queue_step=steps,
        task_s=task_s,
        busy=sum(task_s) / (slots * window),
        backlog=backlog[0],
        unscored=sum(math.isinf(v) for v in lags),
        cpu={k: v / window for k, v in cpu.items()},
        errors=sum(len(log.errors) for log in logs),
        late_p95=percentile([v for log in logs for v in log.late], 95),
        scored_per_s=scored / window,
        updates_per_s=len(lags) / load_s,
        sessions=tuple(statistics.fmean(column) for column in zip(*samples, strict=True))
        if samples
        else (math.nan,) * 4,
    )
    for log in logs:
        for error in log.errors[:3]:
            print(f"  client error: {error}")
    line(result)
    # Let a task in hand finish before the next rate.
    time.sleep(2)
    return result


def line(r: RateResult) -> None:
    e = r.end_to_end
    print(
        f"{r.rate:>6,} msg/s (sent {r.achieved:,.0f}/s): end to end p50 "
        f"{seconds(percentile(e, 50))} s, p95 {seconds(percentile(e, 95))} s, p99 "
        f"{seconds(percentile(e, 99))} s over {len(e)} queue items; scoring lag p50 "
        f"{seconds(percentile(r.lag, 50))} s, p95 {seconds(percentile(r.lag, 95))} s over "
        f"{len(r.lag):,} conversation updates ({r.unscored:,} never scored); POST p50 "
        f"{percentile(r.post_s, 50) * 1000:,.0f} ms, "
        f"p95 {percentile(r.post_s, 95) * 1000:,.0f} ms; "
        f"messages waited up to {seconds(r.late_p95)} s (p95) on the client before their POST; "
        f"{len(r.task_s):,} tasks, p50 {seconds(percentile(r.task_s, 50))} s; workers busy "
        f"{r.busy:.0%}; Redis backlog up to {r.backlog:,} tasks; CPU cores: gunicorn "
        f"{r.cpu['gunicorn']:.2f}, workers {r.cpu['workers']:.2f}",
        flush=True,
    )


def report(results: list[RateResult], args: argparse.Namespace, load_at_start: float) -> None:
    print()
    print(
        f"pipeline benchmark: {args.workers} Celery workers x {args.concurrency} prefork "
        f"child(ren), gunicorn {args.web_workers} workers, {args.clients} clients posting every "
        f"{args.interval} s, a message every {args.gap} s per conversation, {args.duration:.0f} s "
        f"per rate (+ up to {args.drain:.0f} s drain), PostgreSQL + Redis; machine load "
        f"(1 min) {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    print(
        "| rate (msg/s) | sent (msg/s) | end to end p50 / p95 / p99 (s) | items | scoring lag "
        "p50 / p95 (s) | never scored | POST p50 / p95 (ms) | workers busy | Redis backlog |"
    )
    print("| ---: | ---: | --- | ---: | --- | ---: | --- | ---: | ---: |")
    for r in results:
        e = r.end_to_end
        print(
            f"| {r.rate:,} | {r.achieved:,.0f} | {seconds(percentile(e, 50))} / "
            f"{seconds(percentile(e, 95))} / {seconds(percentile(e, 99))} | {len(e)} | "
            f"{seconds(percentile(r.lag, 50))} / {seconds(percentile(r.lag, 95))} | "
            f"{r.unscored:,} of {len(r.lag):,} | {percentile(r.post_s, 50) * 1000:,.0f} / "
            f"{percentile(r.post_s, 95) * 1000:,.0f} | {r.busy:.0%} | {r.backlog:,} |"
        )
    print()
    print("where the time goes:")
    print(
        "| rate (msg/s) | conversation updates posted /s | assessments "
        "written /s | POST p50 / p95 (ms: ingest and the Redis send) | task run p50 / p95 (s, "
        "up to 25 conversations) | waiting for a worker, about (lag p50 - task p50, s) | queue "
        "step p50 (ms: assessment to queue item) | worker time waiting on a lock / working in "
        "PostgreSQL | ingest requests waiting on a lock (mean) | CPU cores: gunicorn / workers |"
    )
    print("| ---: | ---: | ---: | --- | --- | ---: | ---: | --- | ---: | --- |")
    slots = args.workers * args.concurrency
    for r in results:
        wait = percentile(r.lag, 50) - percentile(r.task_s, 50)
        print(
            f"| {r.rate:,} | {r.updates_per_s:,.0f} | {r.scored_per_s:,.1f} | "
            f"{percentile(r.post_s, 50) * 1000:,.0f} / {percentile(r.post_s, 95) * 1000:,.0f} | "
            f"{seconds(percentile(r.task_s, 50))} / {seconds(percentile(r.task_s, 95))} | "
            f"{seconds(max(0.0, wait)) if not math.isnan(wait) else '-'} | "
            f"{percentile(r.queue_step, 50) * 1000:,.1f} | "
            f"{r.sessions[0] / slots:.0%} / {r.sessions[1] / slots:.0%} | {r.sessions[2]:.2f} | "
            f"{r.cpu['gunicorn']:.2f} / {r.cpu['workers']:.2f} |"
        )
    sustained = [r.rate for r in results if r.sustained]
    best = max(sustained) if sustained else None
    print(
        "highest sustained rate with p95 < 2 s: "
        + (f"{best:,} messages/s" if best else "none of the rates measured")
    )
    at_target = next((r for r in results if r.rate == TARGET_RATE), None)
    if best is not None and best >= TARGET_RATE:
        verdict = "MET"
    elif at_target is not None:
        verdict = f"NOT MET: at {TARGET_RATE:,} messages/s p95 is {seconds(at_target.p95)} s" + (
            f"; the highest sustained rate, {best:,}/s, is {TARGET_RATE / best:.0f}x short"
            if best
            else ""
        )
    else:
        verdict = f"not measured at {TARGET_RATE:,} messages/s" + (
            f"; the highest sustained rate, {best:,}/s, is {TARGET_RATE / best:.1f}x short"
            if best
            else ""
        )
    if args.workers * args.concurrency != 2:
        verdict += f" (measured with {args.workers} x {args.concurrency} scoring processes)"
    print(f"target p95 < 2 s at {TARGET_RATE:,} messages/s with two workers: {verdict}")


if __name__ == "__main__":
    main()
