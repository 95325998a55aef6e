"""An admin tunes the threshold in a real browser (headless Chromium, Playwright): tries a
candidate on the tuning page (htmx swaps the figures), applies it with a reason, sees the
queue grow, rolls the policy back on the policy page and sees the queue shrink again. Then
an admin trains a challenger from decisions: presses Train, a real Celery worker trains it,
the page polls and shows champion vs challenger. Saves screenshots in artifacts/."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from review import tasks
from review.models import ApiKey, PolicyVersion, Role, Tenant, TrainingRun
from scoring.models import ModelVersion
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 (fixture)
from tests.factories import MembershipFactory
from tests.feedback_support import decide_as_labelled, decision_set
from tests.review.policy.test_policy import scored_conversation
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_lowers_the_threshold_sees_the_queue_change_and_rolls_it_back(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.7)
    below = scored_conversation(acme, 3, probability=0.45)

    sign_in(page, live_server.url, "ada")
    assert "2 open items" in page.inner_text("main")

    page.click("text=Admin")
    page.click("text=Threshold tuning")
    page.wait_for_url(f"{live_server.url}/t/acme/admin/tuning")
    assert "recall below the current threshold is unknown" in page.inner_text("main")
    page.fill("#candidate", "0.4")  # htmx swaps the figures as the admin types
    page.wait_for_selector("#apply-threshold")
    assert "0.40" in page.inner_text("#figures-candidate")
    assert page.locator("svg#histogram title").first.text_content().startswith("Score distribution")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tuning-page.png"), full_page=True)
    page.fill("#apply-reason", "catch more early conversations")
    page.click("#apply-threshold")
    page.wait_for_selector("text=Flag threshold is now 0.4")

    page.click("text=Queue")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "3 open items" in page.inner_text("main")
    assert below.external_id in page.inner_text("table.queue")

    page.click("text=Admin")
    page.click("text=Policy")
    page.fill("#rollback-reason-1", "too many items for the team")
    page.click("text=Roll back to #1")
    page.wait_for_selector("text=Rolled back to version 1")
    page.screenshot(path=str(ARTIFACTS / "policy-page.png"), full_page=True)
    assert PolicyVersion.objects.get(tenant=acme, number=3).restores.number == 1

    page.click("text=Queue")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "2 open items" in page.inner_text("main")
    assert below.external_id not in page.inner_text("table.queue")


def test_an_admin_sees_a_new_key_once_and_reloading_that_page_makes_no_second_key(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    sign_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/t/acme/admin/keys")
    page.fill("#id_name", "chat-prod")
    page.click("text=Create key")

    secret = page.inner_text("#once-secret")
    assert secret.startswith("art_")
    assert "chat-prod" in page.inner_text("table.queue")

    # The secret is in the answer to the POST: a reload sends that POST again.
    page.reload()
    page.wait_for_selector("text=This form was already sent")
    assert page.locator("#once-secret").count() == 0
    assert ApiKey.objects.filter(tenant=acme).count() == 1

    page.goto(f"{live_server.url}/t/acme/admin/keys")
    assert secret not in page.content()


@pytest.fixture
def worker_env() -> dict[str, str]:
    """The worker trains small (200 generated conversations plus the decisions): seconds."""
    return {"ARTEMIS_CHALLENGER_GENERATED": "200"}


@pytest.mark.postgres
@pytest.mark.celery_worker
def test_an_admin_trains_a_challenger_from_decisions_and_sees_the_comparison(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
    active_model: ModelVersion,
    worker: subprocess.Popen[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The decided conversations need no score for this test: keep the worker for training.
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    decide_as_labelled(acme, alice, decision_set(grooming=28, benign=28))

    sign_in(page, live_server.url, "ada")
    page.click("text=Admin")
    page.click("a[href='/t/acme/admin/models']")
    page.wait_for_url(f"{live_server.url}/t/acme/admin/models")
    assert "56 decided conversations give a label" in page.inner_text("main")

    page.fill("#train-reason", "a month of decisions")
    page.click("#train-challenger")
    page.wait_for_selector("text=A challenger is queued for training")
    # The panel polls while the worker trains; then the whole page reloads with the result.
    # The worker fits the message model from the seed first (40 s on a quiet machine, two
    # minutes and more beside other jobs): the bound is for a hung worker, not a slow one.
    page.wait_for_selector("#training-outcome >> text=Done", timeout=300_000)

    run = TrainingRun.objects.get(tenant=acme)
    assert run.status == "done"
    outcome = page.inner_text("#training-outcome")
    assert f"challenger {run.challenger_version} against champion {active_model.version}" in (
        outcome
    )
    assert "PR-AUC" in page.inner_text("#training-outcome table.comparison")
    assert ("Promoted" if run.promoted else "Not promoted") in outcome
    assert page.locator(f"#model-{run.challenger_version}").count() == 1, "listed as a version"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "models-page.png"), full_page=True)
