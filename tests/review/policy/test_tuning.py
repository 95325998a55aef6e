"""Threshold tuning on a hand-worked example.

Decisions (the labels; latest non-superseded per conversation, at the probability decided on):

    probability  0.95  0.85  0.75  0.70        0.65     0.60            0.55
    verdict      ban   no_v  warn  no_v->ban   suspend  ask_supervisor  no_v
    label        +     -     +     + (latest)  +        (none)          -

Four positives (0.95, 0.75, 0.70, 0.65), two negatives (0.85, 0.55). At 0.70: four labelled
at or above, three positive, so precision 3/4 and recall 3/4. At 0.50: precision 4/6, recall
1. At 0.90: precision 1, recall 1/4.

Latest scores in the last 30 days: those seven plus 0.12, 0.33, 0.33 and 0.45 (rescored from
0.20); a 0.99 scored 40 days ago is outside. Eleven conversations: at 0.50, seven reach the
queue (7/30 a day); at 0.70, four (4/30 a day).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from review.decisions.services import decision_create
from review.models import (
    Assessment,
    Decision,
    PolicyVersion,
    QueueItem,
    QueueStatus,
    Tenant,
)
from review.policy import tuning
from review.queue.services import queue_item_claim_next
from tests.review.policy.test_policy import scored_conversation
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def decide(tenant: Tenant, moderator: Any, item: QueueItem, verdict: str) -> Decision:
    taken = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert taken == item
    reason = {
        "no_violation": "model_error",
        "ask_supervisor": "second_opinion",
    }.get(verdict, "grooming_indicators")
    return decision_create(item=taken, moderator=moderator, verdict=verdict, reason_code=reason)


@pytest.fixture
def worked_example(acme: Tenant, alice: Any) -> None:
    for n, (probability, verdict) in enumerate(
        [
            (0.95, "ban"),
            (0.85, "no_violation"),
            (0.75, "warn"),
            (0.70, "no_violation"),
            (0.65, "suspend"),
            (0.60, "ask_supervisor"),
            (0.55, "no_violation"),
        ]
    ):
        decide(acme, alice, flagged_item(acme, n, probability=probability), verdict)
    # The 0.70 conversation comes back (new messages, same score) and is decided again: ban.
    first = Decision.objects.get(queue_item__probability=0.70)
    again = QueueItem.objects.create(
        tenant=acme, conversation=first.conversation, assessment=first.queue_item.assessment,
        priority=0.7, probability=0.70, rank=0.7, enqueued_at=timezone.now(),
    )  # fmt: skip
    assert decide(acme, alice, again, "ban").supersedes == first

    scored_conversation(acme, 100, probability=0.12)
    scored_conversation(acme, 101, probability=0.33)
    scored_conversation(acme, 102, probability=0.33)
    rescored = scored_conversation(acme, 103, probability=0.20, days_ago=1)
    Assessment.objects.create(
        conversation=rescored, model_version="test", probability=0.45, message_count=0,
        content_fingerprint="later", scored_at=timezone.now(),
    )  # fmt: skip
    scored_conversation(acme, 104, probability=0.99, days_ago=40)


@pytest.mark.usefixtures("worked_example")
def test_the_figures_match_the_hand_worked_example(acme: Tenant) -> None:
    scores = tuning.latest_scores(tenant=acme, days=30)
    labels = tuning.decision_labels(tenant=acme, days=30)
    assert sorted(scores) == [0.12, 0.33, 0.33, 0.45, 0.55, 0.60, 0.65, 0.70, 0.75, 0.85, 0.95]
    assert sorted((label.probability, label.positive) for label in labels) == [
        (0.55, False),
        (0.65, True),
        (0.70, True),
        (0.75, True),
        (0.85, False),
        (0.95, True),
    ]
    figures = tuning.Figures(scores=scores, labels=labels, days=30)

    at_70 = figures.at(0.70)
    assert (at_70.flagged, at_70.true_positives) == (4, 3)
    assert at_70.precision == pytest.approx(3 / 4)
    assert at_70.recall == pytest.approx(3 / 4)
    assert at_70.per_day == pytest.approx(4 / 30)
    at_50 = figures.at(0.50)
    assert (at_50.precision, at_50.recall) == (pytest.approx(4 / 6), 1.0)
    assert at_50.per_day == pytest.approx(7 / 30)
    at_90 = figures.at(0.90)
    assert (at_90.precision, at_90.recall) == (1.0, pytest.approx(1 / 4))
    assert figures.at(0.99).precision is None, "nothing labelled up there: unknown, not zero"

    counts = tuning.histogram(scores)
    assert sum(counts) == 11
    assert {i: n for i, n in enumerate(counts) if n} == {
        2: 1, 6: 2, 9: 1, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 17: 1, 19: 1,
    }  # fmt: skip
    curve = figures.curve()
    assert len(curve) == 101
    assert curve[70] == at_70


@pytest.mark.usefixtures("worked_example")
def test_the_tuning_page_shows_the_figures_the_charts_and_the_caveat(
    acme: Tenant, ada: Any
) -> None:
    page = signed_in(ada).get("/t/acme/admin/tuning?days=30&candidate=0.7")
    assert page.status_code == 200
    html = page.content.decode()
    assert "recall below the current threshold is unknown" in html
    candidate = html.split('id="figures-candidate">')[1].split("</tr>")[0]
    assert "<td>0.70</td><td>0.13</td><td>0.75</td><td>0.75" in candidate
    current = html.split('id="figures-current">')[1].split("</tr>")[0]
    assert "<td>0.50</td><td>0.23</td><td>0.67</td><td>1.00</td><td>6</td>" in current
    assert html.count('<svg class="chart"') == 3
    assert "at the current threshold 0.50: 0.23 a day" in html
    assert '<title id="histogram-title">Score distribution, last 30 days</title>' in html
    assert "flag threshold</text>" in html, "the x axis is labelled"
    assert "current 0.50" in html
    assert "candidate 0.70" in html
    assert 'id="apply-threshold"' in html


def test_without_javascript_the_what_if_is_a_get_form_and_htmx_gets_only_the_figures(
    acme: Tenant, ada: Any
) -> None:
    client = signed_in(ada)
    full = client.get("/t/acme/admin/tuning").content.decode()
    assert '<form method="get" action="/t/acme/admin/tuning"' in full
    assert 'hx-get="/t/acme/admin/tuning"' in full
    partial = client.get("/t/acme/admin/tuning?candidate=0.4", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="whatif">')
    assert "<html" not in body
    bad = client.get("/t/acme/admin/tuning?candidate=7").content.decode()
    assert "candidate: must be between 0 and 1" in bad


def test_applying_a_candidate_goes_through_a_versioned_policy_change(
    acme: Tenant, ada: Any
) -> None:
    low = scored_conversation(acme, 1, probability=0.42)
    client = signed_in(ada)

    refused = client.post(
        "/t/acme/admin/tuning/apply", {"candidate": "0.4", "days": "30", "reason": ""}, follow=True
    )
    assert "Threshold not applied" in refused.content.decode()
    assert not PolicyVersion.objects.exists()

    applied = client.post(
        "/t/acme/admin/tuning/apply",
        {"candidate": "0.4", "days": "30", "reason": "recall matters more this month"},
        follow=True,
    )
    assert "Flag threshold is now 0.4" in applied.content.decode()
    acme.refresh_from_db()
    assert acme.flag_threshold == 0.4
    version = PolicyVersion.objects.get(tenant=acme, number=2)
    assert (version.reason, version.reevaluation["entered"]) == (
        "recall matters more this month",
        1,
    )
    assert QueueItem.objects.get(conversation=low).status == QueueStatus.WAITING

    above_urgent = client.post(
        "/t/acme/admin/tuning/apply",
        {"candidate": "0.95", "days": "30", "reason": "try"},
        follow=True,
    )
    assert "urgent_threshold: must be at least the flag threshold" in above_urgent.content.decode()


def test_a_candidate_of_0_995_is_tried_as_typed_and_can_be_applied(acme: Tenant, ada: Any) -> None:
    acme.urgent_threshold = 0.999
    acme.save(update_fields=["urgent_threshold"])
    scored_conversation(acme, 1, probability=0.997)
    scored_conversation(acme, 2, probability=0.993)
    client = signed_in(ada)

    html = client.get("/t/acme/admin/tuning?days=30&candidate=0.995").content.decode()

    assert 'step="0.001"' in html, "the browser lets 0.995 through"
    candidate = html.split('id="figures-candidate">')[1].split("</tr>")[0]
    assert candidate.startswith('<th scope="row">Candidate</th><td>0.995</td>'), candidate
    assert "candidate 0.995" in html, "the charts mark it where it is, not at 1.00"
    assert "Apply flag threshold 0.995" in html
    assert '<input type="hidden" name="candidate" value="0.995">' in html
    applied = client.post(
        "/t/acme/admin/tuning/apply",
        {"candidate": "0.995", "days": "30", "reason": "only the clearest cases"},
        follow=True,
    )
    assert "Flag threshold is now 0.995" in applied.content.decode()
    acme.refresh_from_db()
    assert acme.flag_threshold == 0.995


def test_a_candidate_finer_than_0_001_is_rounded_and_the_page_says_so(
    acme: Tenant, ada: Any
) -> None:
    html = signed_in(ada).get("/t/acme/admin/tuning?candidate=0.99512").content.decode()

    assert "thresholds go in steps of 0.001; 0.99512 is shown as 0.995" in html
    candidate = html.split('id="figures-candidate">')[1].split("</tr>")[0]
    assert "<td>0.995</td>" in candidate


def test_a_refused_apply_comes_back_with_the_reason_ada_wrote(acme: Tenant, ada: Any) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/tuning/apply",
        {"candidate": "0.95", "days": "30", "reason": "fewer items while two are on leave"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "urgent_threshold: must be at least the flag threshold" in html
    assert "fewer items while two are on leave</textarea>" in html
    assert 'id="figures-candidate"><th scope="row">Candidate</th><td>0.95</td>' in html
    assert not PolicyVersion.objects.filter(tenant=acme, number__gt=1).exists()
