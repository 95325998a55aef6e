"""Scoring benchmark: message-level messages/s on one core, conversations/s end to end,
rescoring after new messages (from cached message scores, and from a window state too),
artifact load time and a worker's peak memory.

    .venv/bin/python bench/scoring.py [--messages 50000] [--conversations 500] [--breakdown]

With --breakdown it also scores the conversations once more with each stage timed and
prints each stage's share of the end-to-end time.

Targets: >= 20,000 messages/s on one core at message level, >= 15,000 messages/s on one core
end to end (conversations scored one by one, windows and explanations included), model
load < 1 s, a worker under 400 MB.
Pinned to one core with BLAS threads at 1, so the figure is per core.
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
import resource
import statistics
import subprocess
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MESSAGES_PER_S = 20_000
TARGET_END_TO_END_PER_S = 15_000
TARGET_LOAD_S = 1.0
TARGET_WORKER_MB = 400


def verdict(ok: bool, gap: str) -> str:
    return "MET" if ok else f"NOT MET by {gap}"


def worker_probe(artifact: Path, sha256: str) -> None:
    """What a Celery worker holds: Django, the review app and one loaded engine that has
    scored real conversations. Prints peak RSS in MB."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artemis.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()
    import review.tasks  # noqa: F401  (the worker imports its tasks)
    from scoring.artifacts import load_engine_bytes
    from scoring.generator import generate_conversations

    engine = load_engine_bytes(artifact.read_bytes(), expected_sha256=sha256)
    for conversation in generate_conversations(300, seed=11):
        engine.score_conversation(conversation.participants, conversation.messages)
    print(peak_rss_mb())


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Not getrusage's ru_maxrss: Linux carries
    that over an exec from the process that forked, so a probe started by this benchmark
    (which has trained a model) would report the benchmark's peak, not its own. VmHWM is
    the peak of this process's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def breakdown(engine: Any, conversations: list[Any]) -> list[tuple[str, float]]:
    """Seconds per stage of scoring ``conversations`` end to end: each stage's entry point
    timed (the timers cost a little; the shares are what to read)."""
    import scoring.disclosures as disclosures
    import scoring.engine as engine_module

    spent: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

        return wrapper

    model = engine.message_model
    stages = [
        (model, "transform", "message model: features (n-grams, TF-IDF)"),
        (model, "probabilities", "message model: classifier"),
        (model, "spans", "message model: highlight spans"),
        (engine, "score_messages", "message model, in all"),
        (disclosures, "said_each", "stated ages (regular expressions)"),
        (engine_module, "sender_windows", "windows: features"),
        (engine, "raw_window_scores", "windows: window models (trees)"),
        (engine, "strongest", "windows, in all"),
        (engine, "factors", "factors (explanations)"),
    ]
    saved = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in stages]
    for owner, attribute, name in stages:
        setattr(owner, attribute, timed(name, getattr(owner, attribute)))
    try:
        began = time.perf_counter()
        for conversation in conversations:
            engine.score_conversation(conversation.participants, conversation.messages)
        total = time.perf_counter() - began
    finally:
        for owner, attribute, original in saved:
            if owner is engine or owner is model:
                del owner.__dict__[attribute]  # the class's own method again
            else:
                setattr(owner, attribute, original)
    rest = total - sum(
        spent.get(name, 0.0)
        for name in (
            "message model, in all",
            "stated ages (regular expressions)",
            "windows, in all",
            "factors (explanations)",
        )
    )
    return [("end to end", total), *spent.items(), ("the rest (score_conversation itself)", rest)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument(
        "--breakdown", action="store_true", help="print each stage's share of end to end"
    )
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    if args.probe:
        worker_probe(Path(args.probe[0]), args.probe[1])
        return

    from scoring.artifacts import dump_engine, load_engine_bytes
    from scoring.generator import generate_conversations
    from scoring.training import train_default

    began = time.perf_counter()
    engine = train_default().engine
    train_s = time.perf_counter() - began
    blob = dump_engine(engine)
    loads = []
    for _ in range(5):
        began = time.perf_counter()
        load_engine_bytes(blob.data, expected_sha256=blob.sha256)
        loads.append(time.perf_counter() - began)
    load_s = statistics.median(loads)

    conversations = generate_conversations(args.conversations, seed=123)
    texts = [m.text for c in conversations for m in c.messages]
    while len(texts) < args.messages:
        texts += texts
    texts = texts[: args.messages]
    engine.score_messages(texts[:1000])  # warm-up
    began = time.perf_counter()
    for start in range(0, len(texts), 1000):
        engine.score_messages(texts[start : start + 1000])
    message_rate = len(texts) / (time.perf_counter() - began)

    began = time.perf_counter()
    for conversation in conversations:
        engine.score_conversation(conversation.participants, conversation.messages)
    seconds = time.perf_counter() - began
    conversation_rate = len(conversations) / seconds
    lengths = [len(c.messages) for c in conversations]
    end_to_end_messages = sum(lengths) / seconds

    stages = breakdown(engine, conversations) if args.breakdown else []

    long = max(conversations, key=lambda c: len(c.messages))
    full = engine.score_conversation(long.participants, long.messages)
    cached = list(full.message_scores[:-5]) + [None] * 5
    reps = 20
    began = time.perf_counter()
    for _ in range(reps):
        engine.score_conversation(long.participants, long.messages)
    full_ms = (time.perf_counter() - began) / reps * 1000
    began = time.perf_counter()
    for _ in range(reps):
        engine.score_conversation(long.participants, long.messages, cached)
    incremental_ms = (time.perf_counter() - began) / reps * 1000
    # The same rescore continuing from the state of the first messages (Engine's ``prior``):
    # only the windows ending at the five new messages are read. It must say what the full
    # reading says, to the bit.
    head = engine.score_conversation(long.participants, long.messages[:-5], cached[:-5])
    assert engine.score_conversation(
        long.participants, long.messages, cached, prior=head.window_state
    ) == engine.score_conversation(long.participants, long.messages, cached)
    began = time.perf_counter()
    for _ in range(reps):
        engine.score_conversation(long.participants, long.messages, cached, prior=head.window_state)
    prior_ms = (time.perf_counter() - began) / reps * 1000

    with tempfile.NamedTemporaryFile(suffix=".artemis", delete=False) as handle:
        handle.write(blob.data)
    probe = subprocess.run(
        [sys.executable, __file__, "--probe", handle.name, blob.sha256],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    Path(handle.name).unlink()
    worker_mb = float(probe.stdout.strip().splitlines()[-1])

    rate_gap = f"{TARGET_MESSAGES_PER_S - message_rate:,.0f}/s"
    end_gap = f"{TARGET_END_TO_END_PER_S - end_to_end_messages:,.0f}/s"
    load_gap = f"{(load_s - TARGET_LOAD_S) * 1000:.0f} ms"
    print(
        f"scoring benchmark (one core; model {blob.version}, {len(blob.data) / 1e6:.1f} MB, "
        f"trained in {train_s:.1f}s)"
    )
    print(
        f"  message-level scoring : {message_rate:,.0f} messages/s over {len(texts):,} "
        f"messages (target >= {TARGET_MESSAGES_PER_S:,}: "
        f"{verdict(message_rate >= TARGET_MESSAGES_PER_S, rate_gap)})"
    )
    print(
        f"  conversations end to end: {conversation_rate:,.1f} conversations/s, "
        f"{end_to_end_messages:,.0f} messages/s ({len(conversations)} conversations, median "
        f"{statistics.median(lengths)} messages; target >= {TARGET_END_TO_END_PER_S:,}: "
        f"{verdict(end_to_end_messages >= TARGET_END_TO_END_PER_S, end_gap)})"
    )
    print(
        f"  rescore after +5 messages: {incremental_ms:.1f} ms vs {full_ms:.1f} ms full "
        f"({len(long.messages)} messages)"
    )
    print(
        f"  rescore after +5 messages, incremental: {prior_ms:.1f} ms (from the window state "
        f"of the first {len(long.messages) - 5}; the same result to the bit)"
    )
    print(
        f"  model load (median of 5): {load_s * 1000:.0f} ms "
        f"(target < {TARGET_LOAD_S * 1000:.0f} ms: {verdict(load_s < TARGET_LOAD_S, load_gap)})"
    )
    print(
        f"  worker peak memory    : {worker_mb:.0f} MB (Django + tasks + engine after 300 "
        f"conversations; target < {TARGET_WORKER_MB} MB: "
        f"{verdict(worker_mb < TARGET_WORKER_MB, f'{worker_mb - TARGET_WORKER_MB:.0f} MB')})"
    )

    if stages:
        total = stages[0][1]
        print("  where end to end goes (the same conversations again, each stage timed):")
        for name, seconds in stages:
            print(f"    {name:42s} {seconds:6.2f} s {100 * seconds / total:5.1f}%")


if __name__ == "__main__":
    main()
