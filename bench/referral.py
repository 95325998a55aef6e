"""Referral package benchmark: how long building a law-enforcement package takes, and how
much memory, for conversations of 1,000 and 10,000 messages in PostgreSQL.

    .venv/bin/python bench/referral.py [--messages 1000 10000]

Uses its own database (artemis_bench_referral, dropped and re-created) on the server named by
BENCH_DATABASE_URL. The transcript is plain, neutral text. A package is built in the web
request that downloads it, so the figure to watch is the build time against a request
timeout (30 s is common behind a proxy).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue module: take this folder off the
# import path before anything imports it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import resource
import time
from datetime import timedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import django_on, fresh_database

REQUEST_TIMEOUT_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    url = fresh_database("artemis_bench_referral")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    django_on(
        url,
        ARTEMIS_PACKAGE_SIGNING_KEY=key_pem.decode(),
        ARTEMIS_LEGAL_PROCESS_CONTACT="Legal Response Team",
    )
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from review.cases.flow import case_submit, case_update
    from review.cases.referral.package import referral_package_build
    from review.cases.services import case_approve
    from review.decisions.services import decision_create
    from review.models import (
        Assessment,
        Conversation,
        Membership,
        Message,
        Participant,
        QueueItem,
        Role,
        Tenant,
    )
    from review.queue.services import queue_item_claim_next

    tenant = Tenant.objects.create(name="Bench", slug="bench")
    users = get_user_model().objects
    moderator, supervisor = users.create_user("mod"), users.create_user("sup")
    Membership.objects.create(tenant=tenant, user=moderator, role=Role.MODERATOR)
    Membership.objects.create(tenant=tenant, user=supervisor, role=Role.SUPERVISOR)
    # Short and long lines: the transcript PDF wraps the long ones over several lines.
    lines = [
        "how was your day",
        "fine, lots of homework and then football practice until six, so I only got home "
        "late and still have the maths sheet to finish before tomorrow morning",
        "which game are you playing tonight",
        "ok",
    ]

    print(
        f"referral package benchmark (PostgreSQL, one process; timeout {REQUEST_TIMEOUT_S:.0f} s)"
    )
    for n in args.messages:
        child = Participant.objects.create(tenant=tenant, external_id=f"kid-{n}", declared_age=13)
        adult = Participant.objects.create(tenant=tenant, external_id=f"adult-{n}")
        conversation = Conversation.objects.create(
            tenant=tenant, external_id=f"c-{n}", message_count=n, status="flagged"
        )
        conversation.participants.add(child, adult)
        start = timezone.now() - timedelta(days=30)
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    external_id=f"m{i}",
                    sender=adult if i % 2 else child,
                    sent_at=start + timedelta(minutes=i),
                    utc_offset_minutes=60,
                    text=lines[i % len(lines)],
                    position=i,
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        highlights = [
            {"message": f"m{i}", "characteristic": "secrecy_request", "score": 0.9,
             "spans": [[0, 3]]}
            for i in range(1, n, 50)
        ]  # fmt: skip
        assessment = Assessment.objects.create(
            conversation=conversation, model_version="bench", probability=0.97,
            characteristic_scores={}, highlights=highlights, factors=[], message_count=n,
            content_fingerprint=f"f{n}", scored_at=timezone.now(),
        )  # fmt: skip
        QueueItem.objects.create(
            tenant=tenant, conversation=conversation, assessment=assessment, priority=1.0,
            probability=0.97, rank=1.0, enqueued_at=timezone.now(),
            characteristics=",secrecy_request,", characteristic_bits=16,
        )  # fmt: skip
        item = queue_item_claim_next(tenant=tenant, moderator=moderator)
        assert item is not None
        decision = decision_create(
            item=item, moderator=moderator, verdict="escalate_law_enforcement",
            reason_code="grooming_indicators",
        )  # fmt: skip
        case = case_update(
            case=decision.case, actor=moderator, narrative="Asked for secrecy repeatedly."
        )
        case = case_submit(case=case, actor=moderator)
        case = case_approve(case=case, supervisor=supervisor)

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        data, _ = referral_package_build(case=case, actor=supervisor)
        seconds = time.perf_counter() - began
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        verdict = (
            "within"
            if seconds < REQUEST_TIMEOUT_S
            else f"OVER by {seconds - REQUEST_TIMEOUT_S:.1f} s"
        )
        print(
            f"  {n:>6,} messages: built in {seconds:6.1f} s ({verdict} the request timeout), "
            f"{len(data) / 1e6:5.1f} MB ZIP, peak RSS {rss_after / 1024:.0f} MB "
            f"(+{(rss_after - rss_before) / 1024:.0f} MB)"
        )


if __name__ == "__main__":
    main()
