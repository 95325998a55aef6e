"""The appeals queue and the appeal page: bob takes the appeal of alice's ban, reads the
transcript as it stood, alice's reason and notes and the user's statement, and records an
outcome; alice is never shown it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.decisions.supervision import decision_supersede
from review.models import Appeal, AppealStatus, AuditAction, AuditEvent, Tenant
from tests.review.appeals.support import STATEMENT, appeal_of
from tests.review.supervision_support import decide
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def test_bob_takes_the_appeal_and_sees_what_alice_saw_with_her_reason_and_the_statement(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    ban = decide(acme, alice, notes="asked for a photo twice")
    appeal = appeal_of(ban)
    client = signed_in(bob)

    opened = client.post("/t/acme/appeals/next", follow=True)
    html = opened.content.decode()

    assert opened.redirect_chain[-1][0] == f"/t/acme/appeals/{appeal.pk}"
    assert STATEMENT in html
    assert "asked for a photo twice" in html
    assert "Grooming behaviour towards a minor" in html
    assert "hey how was school" in html  # the transcript as it stood
    assert '<mark class="c-secrecy_request"' in html  # with its highlights
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, actor=bob, detail__appeal=appeal.pk
    ).exists()


def test_alice_is_never_shown_the_appeal_of_her_own_decision(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))
    client = signed_in(alice)

    taken = client.post("/t/acme/appeals/next", follow=True)
    direct = client.get(f"/t/acme/appeals/{appeal.pk}")

    assert "No appeal is waiting for you." in taken.content.decode()
    assert direct.status_code == 302
    assert STATEMENT not in taken.content.decode()


def test_bob_upholds_from_the_page(acme: Tenant, alice: Any, bob: Any) -> None:
    appeal = appeal_of(decide(acme, alice))
    client = signed_in(bob)
    client.post("/t/acme/appeals/next")

    done = client.post(
        f"/t/acme/appeals/{appeal.pk}/decide", {"outcome": "upheld", "notes": ""}, follow=True
    )

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome) == (AppealStatus.DONE, "upheld")
    assert "upheld; the platform is told" in done.content.decode()


def test_a_skip_says_where_the_appeal_went(acme: Tenant, alice: Any, bob: Any) -> None:
    appeal = appeal_of(decide(acme, alice))
    client = signed_in(bob)
    client.post("/t/acme/appeals/next")

    skipped = client.post(f"/t/acme/appeals/{appeal.pk}/release", follow=True)

    assert skipped.redirect_chain[-1][0] == "/t/acme/appeals"
    assert f"Skipped appeal {appeal.external_id}: it is back among the waiting appeals" in (
        skipped.content.decode()
    )


def test_an_overturn_without_a_verdict_is_refused_by_its_field_and_nothing_changes(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))
    client = signed_in(bob)
    client.post("/t/acme/appeals/next")

    refused = client.post(
        f"/t/acme/appeals/{appeal.pk}/decide",
        {"outcome": "overturned", "reason_code": "benign_context", "notes": "my words"},
    )

    assert refused.status_code == 400
    html = refused.content.decode()
    assert "choose the new decision" in html
    assert "my words" in html  # what was typed is kept
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLAIMED


def test_the_queue_shows_each_appeals_age_against_the_target(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    old = appeal_of(decide(acme, alice), external_id="old")
    Appeal.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=9))

    html = signed_in(bob).get("/t/acme/appeals").content.decode()

    assert "past the target" in html
    assert "Target: 7 days" in html


def test_bobs_outcome_after_sam_superseded_the_decision_says_which_decision_answered_it(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    client = signed_in(bob)
    client.post("/t/acme/appeals/next")
    suspend = decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="suspend",
        reason_code="grooming_indicators",
    )  # fmt: skip

    refused = client.post(f"/t/acme/appeals/{appeal.pk}/decide", {"outcome": "upheld"}, follow=True)
    reopened = client.get(f"/t/acme/appeals/{appeal.pk}", follow=True)

    assert refused.status_code == 200
    assert f"answered by decision {suspend.pk}" in refused.content.decode()
    assert f"answered by a later decision (#{suspend.pk})" in reopened.content.decode()
    assert STATEMENT not in refused.content.decode() + reopened.content.decode()
    appeal.refresh_from_db()
    assert appeal.outcome == "superseded"
