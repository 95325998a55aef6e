"""Agreement per moderator: Cohen's kappa against hand-worked numbers and scikit-learn, and
the supervisor page with its period filter and CSV export."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from review.decisions.agreement import agreement_rate, cohen_kappa
from review.decisions.second_review import second_review_claim_next, second_review_record
from review.decisions.selectors import agreement_report
from review.decisions.services import decision_create
from review.decisions.supervision import decision_supersede
from review.models import AuditEvent, Decision, QueueItem, SecondReview, Tenant
from review.queue.services import queue_item_claim_next
from tests.review.supervision_support import decide, member, sample_every_decision
from tests.review_support import FORMULAS, signed_in

REASON = {
    "no_violation": "benign_context",
    "warn": "grooming_indicators",
    "suspend": "grooming_indicators",
    "ban": "grooming_indicators",
    "escalate_ncmec": "grooming_indicators",
    "escalate_law_enforcement": "grooming_indicators",
}
VERDICTS = list(REASON)


# --- the formula ----------------------------------------------------------------------------


def test_kappa_matches_a_hand_worked_two_category_example() -> None:
    # 10 pairs: 4 ban/ban, 3 no/no, 2 ban/no, 1 no/ban. Observed 7/10 = 0.7.
    # First rater: ban 6, no 4; second: ban 5, no 5. Chance 0.6x0.5 + 0.4x0.5 = 0.5.
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    pairs = [("ban", "ban")] * 4 + [("no", "no")] * 3 + [("ban", "no")] * 2 + [("no", "ban")]

    assert agreement_rate(pairs) == pytest.approx(0.7)
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_kappa_handles_the_edges() -> None:
    assert cohen_kappa([]) is None
    assert agreement_rate([]) is None
    assert cohen_kappa([("ban", "ban"), ("warn", "warn")]) == pytest.approx(1.0)
    # Always opposite: observed 0, chance 0.5, kappa -1.
    assert cohen_kappa([("ban", "warn"), ("warn", "ban")]) == pytest.approx(-1.0)
    # Both used one and the same verdict only: chance agreement is total, kappa undefined.
    assert cohen_kappa([("ban", "ban")] * 5) is None


@pytest.mark.parametrize("seed", range(8))
def test_kappa_agrees_with_scikit_learn_over_six_verdicts(seed: int) -> None:
    rng = random.Random(seed)
    firsts = [rng.choice(VERDICTS) for _ in range(rng.randint(5, 300))]
    # Mostly agreeing, like real reviewers: keep the first verdict 60% of the time.
    seconds = [f if rng.random() < 0.6 else rng.choice(VERDICTS) for f in firsts]

    ours = cohen_kappa(list(zip(firsts, seconds, strict=True)))

    assert ours == pytest.approx(cohen_kappa_score(firsts, seconds), abs=1e-12)


# --- the report -----------------------------------------------------------------------------


# (alice's verdict, bob's blind verdict) for ten decisions: 7 agree.
PAIRS = [
    ("ban", "ban"),
    ("ban", "ban"),
    ("ban", "suspend"),
    ("warn", "warn"),
    ("warn", "no_violation"),
    ("no_violation", "no_violation"),
    ("no_violation", "no_violation"),
    ("no_violation", "warn"),
    ("suspend", "suspend"),
    ("escalate_ncmec", "escalate_ncmec"),
]


def redecide(tenant: Tenant, decision: Decision, moderator: Any, verdict: str) -> Decision:
    """The conversation comes back to the queue (more messages) and is decided again."""
    item = QueueItem.objects.create(
        tenant=tenant, conversation=decision.conversation,
        assessment=decision.queue_item.assessment, priority=0.9, rank=0.9,
        enqueued_at=timezone.now(),
    )  # fmt: skip
    assert queue_item_claim_next(tenant=tenant, moderator=moderator) == item
    return decision_create(
        item=item, moderator=moderator, verdict=verdict, reason_code=REASON[verdict]
    )


@pytest.fixture
def worked(acme: Tenant, alice: Any, bob: Any, sam: Any) -> dict[str, Any]:
    """Alice decides ten conversations and asks one question; Bob second-reviews the ten.
    Then: Sam overturns #5 (warn -> no violation) and confirms #1 with the same verdict,
    answers the question; Bob re-decides #9 after new messages with another verdict
    (overturn); Alice re-decides her own #10 (not an overturn: it was hers)."""
    sample_every_decision(acme)
    decisions = [decide(acme, alice, first, REASON[first]) for first, _ in PAIRS]
    question = decide(acme, alice, "ask_supervisor", "second_opinion")
    for _, second in PAIRS:
        review = second_review_claim_next(tenant=acme, reviewer=bob)
        second_review_record(
            review=review, reviewer=bob, verdict=second, reason_code=REASON[second]
        )
    Tenant.objects.filter(pk=acme.pk).update(second_review_share=0.0)
    for current, verdict in (
        (decisions[4], "no_violation"),
        (decisions[0], "ban"),
        (question, "ban"),
    ):
        decision_supersede(
            tenant=acme, current=current, supervisor=sam, verdict=verdict,
            reason_code=REASON[verdict],
        )  # fmt: skip
    redecide(acme, decisions[8], bob, "ban")
    redecide(acme, decisions[9], alice, "ban")
    return {"decisions": decisions, "question": question}


@pytest.mark.django_db
def test_the_report_counts_agreement_kappa_and_overturns_per_moderator(
    acme: Tenant, alice: Any, bob: Any, sam: Any, worked: dict[str, Any]
) -> None:
    report = agreement_report(tenant=acme)
    rows = {row.username: row for row in report.rows}

    a = rows["alice"]
    assert (a.decisions, a.questions, a.reviews_done, a.reviewed, a.agreed) == (12, 1, 0, 10, 7)
    assert a.agreement == pytest.approx(0.7)
    # Alice: ban 3, warn 2, no violation 3, suspend 1, NCMEC 1. Bob: ban 2, suspend 2,
    # warn 2, no violation 3, NCMEC 1. Chance (6+4+9+2+1)/100 = 0.22;
    # kappa = (0.70 - 0.22) / (1 - 0.22) = 8/13.
    assert a.kappa == pytest.approx(8 / 13)
    assert a.kappa == pytest.approx(cohen_kappa_score(*zip(*PAIRS, strict=True)))
    # #5 overturned by Sam, #9 by Bob; #1 confirmed, #10 re-decided by herself, the question
    # was meant to be answered. Eleven decisions that were not questions.
    assert (a.overturned, a.overturn_rate) == (2, pytest.approx(2 / 11))

    b = rows["bob"]
    assert (b.decisions, b.reviews_done, b.reviewed, b.agreement, b.kappa) == (1, 10, 0, None, None)
    assert (b.overturned, b.overturn_rate) == (0, 0.0)
    s = rows["sam"]
    assert (s.decisions, s.overturned, s.role) == (3, 0, "Supervisor")

    total = report.total
    assert (total.decisions, total.questions, total.reviews_done, total.reviewed) == (16, 1, 10, 10)
    assert total.overturned == 2
    assert report.open_disagreements == 2, "#3 and #8; #5 was answered by Sam"


@pytest.mark.django_db
def test_the_agreement_page_shows_the_figures_and_is_audited(
    acme: Tenant, sam: Any, worked: dict[str, Any]
) -> None:
    client = signed_in(sam)

    page = " ".join(client.get("/t/acme/supervision/agreement").content.decode().split())

    assert "70% (7/10)" in page
    assert "<td>0.62 <span" in page, "kappa 8/13 = 0.615, flagged as fewer than 20 pairs"
    assert "18%" in page, "alice's overturn rate 2/11"
    assert "Cohen's κ" in page
    event = AuditEvent.objects.filter(tenant=acme, actor=sam, action="report_view").last()
    assert event.target_type == "agreement_report"


@pytest.mark.django_db
def test_the_agreement_export_is_a_csv_without_message_text_and_is_audited(
    acme: Tenant, sam: Any, worked: dict[str, Any]
) -> None:
    response = signed_in(sam).get("/t/acme/supervision/agreement?days=all&format=csv")

    assert response["Content-Type"] == "text/csv"
    rows = {r["moderator"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["alice"]["agreement_rate"] == "0.7000"
    assert rows["alice"]["cohen_kappa"] == f"{8 / 13:.4f}"
    assert rows["alice"]["overturned"] == "2"
    assert rows["everyone"]["decisions"] == "16"
    assert "dont tell" not in response.content.decode()
    event = AuditEvent.objects.get(tenant=acme, actor=sam, action="export")
    assert (event.target_type, event.detail["rows"]) == ("agreement_report", 3)


def agreement_csv(supervisor: Any) -> dict[str, dict[str, str]]:
    body = signed_in(supervisor).get("/t/acme/supervision/agreement?days=all&format=csv")
    return {r["moderator"]: r for r in csv.DictReader(io.StringIO(body.content.decode()))}


@pytest.mark.django_db
@pytest.mark.parametrize("username", FORMULAS)
def test_the_agreement_export_keeps_a_username_from_running_as_a_formula(
    acme: Tenant, sam: Any, username: str
) -> None:
    decide(acme, member(acme, username), "ban")

    rows = agreement_csv(sam)

    assert rows[f"'{username}"]["decisions"] == "1", "a leading apostrophe makes it text"
    assert username not in rows


@pytest.mark.django_db
def test_a_negative_kappa_stays_a_readable_number_in_the_export(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    # Bob's blind verdict is always the other one: agreement 0, kappa -1.
    sample_every_decision(acme)
    decide(acme, alice, "ban")
    decide(acme, alice, "warn")
    for _ in range(2):
        review = second_review_claim_next(tenant=acme, reviewer=bob)
        other = "warn" if review.decision.verdict == "ban" else "ban"
        second_review_record(review=review, reviewer=bob, verdict=other, reason_code=REASON[other])

    alice_row = agreement_csv(sam)["alice"]

    assert (alice_row["agreement_rate"], alice_row["cohen_kappa"]) == ("0.0000", "-1.0000")


@pytest.mark.django_db
def test_the_period_filter_counts_decisions_made_in_the_period(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    sample_every_decision(acme)
    old = decide(acme, alice, "ban")
    decide(acme, alice, "warn")
    for verdict in ("ban", "no_violation"):
        review = second_review_claim_next(tenant=acme, reviewer=bob)
        second_review_record(
            review=review, reviewer=bob, verdict=verdict, reason_code=REASON[verdict]
        )
    long_ago = timezone.now() - timedelta(days=40)
    Decision.objects.filter(pk=old.pk).update(created_at=long_ago)
    SecondReview.objects.filter(decision=old).update(completed_at=long_ago)
    client = signed_in(sam)

    def alice_and_bob(query: str) -> tuple[str, str]:
        body = client.get(f"/t/acme/supervision/agreement?{query}&format=csv").content.decode()
        rows = {r["moderator"]: r for r in csv.DictReader(io.StringIO(body))}
        a, b = rows["alice"], rows["bob"]
        return (
            f"{a['decisions']}/{a['decisions_second_reviewed']}/{a['agreement_rate']}",
            b["second_reviews_done"],
        )

    day = long_ago.date().isoformat()
    assert alice_and_bob("days=30") == ("1/1/0.0000", "1")
    assert alice_and_bob("days=all") == ("2/2/0.5000", "2")
    assert alice_and_bob(f"from={day}&to={day}") == ("1/1/1.0000", "1")
    assert alice_and_bob("") == alice_and_bob("days=30"), "the last 30 days by default"


@pytest.mark.django_db
def test_a_bad_period_is_a_400_that_names_the_field(acme: Tenant, sam: Any) -> None:
    client = signed_in(sam)

    bad = client.get("/t/acme/supervision/agreement?from=yesterday")
    backwards = client.get("/t/acme/supervision/agreement?from=2026-11-02&to=2026-11-01")

    assert bad.status_code == backwards.status_code == 400
    assert "from: &#x27;yesterday&#x27; is not a date" in bad.content.decode()
    assert "to: the period ends before it starts" in backwards.content.decode()
