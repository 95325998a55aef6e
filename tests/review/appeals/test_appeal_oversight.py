"""Timeliness and oversight: the supervisors' inbox lists appeals past the tenant's target
and those referred to a supervisor; the agreement page reports overturn rates on appeal per
moderator."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.appeals.selectors import appeal_overturn_rates, appeals_overdue
from review.appeals.services import appeal_claim_next, appeal_decide
from review.decisions.supervision import decision_supersede
from review.models import Appeal, ReviewError, Tenant
from review.policy.services import policy_change
from tests.review.appeals.support import appeal_of
from tests.review.supervision_support import decide
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def test_an_appeal_past_the_tenants_target_is_in_the_supervisors_inbox(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    old = appeal_of(decide(acme, alice), external_id="old-one")
    fresh = appeal_of(decide(acme, alice), external_id="fresh-one")
    Appeal.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))

    assert list(appeals_overdue(tenant=acme)) == [old]
    page = signed_in(sam).get("/t/acme/supervision/inbox").content.decode()
    assert "old-one" in page
    assert "fresh-one" not in page
    assert fresh.pk  # waiting, within the target

    Tenant.objects.filter(pk=acme.pk).update(appeal_target_days=10)
    acme.refresh_from_db()
    assert list(appeals_overdue(tenant=acme)) == []


def test_a_referred_appeal_is_in_the_supervisors_inbox(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    appeal = appeal_of(decide(acme, alice), external_id="needs-sam")
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_decide(appeal=appeal, reviewer=bob, outcome="referred", notes="ages unclear")

    page = signed_in(sam).get("/t/acme/supervision/inbox").content.decode()
    referred = page.split('id="referred-appeals"')[1]
    assert "needs-sam" in referred


def test_the_agreement_page_reports_overturns_on_appeal_per_moderator(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    # Three of alice's bans are appealed: bob upholds one and overturns two.
    for n, outcome in enumerate(["upheld", "overturned", "overturned"]):
        appeal = appeal_of(decide(acme, alice), external_id=f"ap-{n}")
        assert appeal_claim_next(tenant=acme, reviewer=bob) == appeal
        appeal_decide(
            appeal=appeal, reviewer=bob, outcome=outcome,
            verdict="no_violation" if outcome == "overturned" else "",
            reason_code="peers_same_age" if outcome == "overturned" else "",
        )  # fmt: skip

    rates = appeal_overturn_rates(tenant=acme)
    assert (rates[alice.pk].appealed, rates[alice.pk].overturned) == (3, 2)
    assert bob.pk not in rates
    client = signed_in(sam)
    page = client.get("/t/acme/supervision/agreement?days=all").content.decode()
    table = page.split('id="appeal-overturns"')[1].split("</table>")[0]
    assert "67% (2/3)" in table
    body = client.get("/t/acme/supervision/agreement?days=all&format=csv").content.decode()
    rows = {r["moderator"]: r for r in csv.DictReader(io.StringIO(body))}
    assert (rows["alice"]["appeals_decided"], rows["alice"]["overturned_on_appeal"]) == ("3", "2")
    assert rows["alice"]["appeal_overturn_rate"] == "0.6667"


def test_ada_sets_the_appeal_target_in_the_policy_and_a_bad_one_is_named(
    acme: Tenant, ada: Any
) -> None:
    policy_change(
        tenant=acme, actor=ada, reason="DSA timeliness", changes={"appeal_target_days": 3}
    )
    acme.refresh_from_db()
    assert acme.appeal_target_days == 3

    with pytest.raises(ReviewError) as refused:
        policy_change(tenant=acme, actor=ada, reason="x", changes={"appeal_target_days": 0})
    assert refused.value.field == "appeal_target_days"


def test_an_appeal_answered_by_sams_later_decision_is_neither_upheld_nor_overturned_on_appeal(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    upheld = appeal_of(decide(acme, alice), external_id="ap-upheld")
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_decide(appeal=upheld, reviewer=bob, outcome="upheld")
    ban = decide(acme, alice)
    answered = appeal_of(ban, external_id="ap-answered")
    Appeal.objects.filter(pk=answered.pk).update(received_at=timezone.now() - timedelta(days=30))
    decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip

    rates = appeal_overturn_rates(tenant=acme)
    assert (rates[alice.pk].appealed, rates[alice.pk].overturned) == (1, 0)
    assert list(appeals_overdue(tenant=acme)) == [], "answered, so never overdue"
