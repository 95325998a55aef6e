"""Issue 5 end to end, in a real browser, with real parts: a platform posts two generated
grooming conversations (the kind the demo seeds) to the API, and a real Celery worker process
on Redis scores them with the real engine and flags them. Alice escalates one to NCMEC,
completes the case and submits it; sam the supervisor approves it and presses Submit to
NCMEC; the worker sends the report to the local CyberTipline (a real HTTP server on a free
loopback port); the case page shows the report id and the receipt, and the case is preserved
for a year. Then a law-enforcement case: alice escalates and completes it, sam approves it,
downloads the referral ZIP from the case page, `manage.py verify_package` accepts it, and sam
records the delivery. Screenshots of both case pages go to artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from review.cases.ncmec import schema
from review.cases.ncmec.localserver import CyberTiplineServer
from review.cases.ncmec.transcript import transcript_build
from review.cases.referral import signing
from review.models import Case, CaseStatus, QueueItem, Role, Tenant
from scoring.models import ModelVersion
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.conftest import ROOT, api_client_for, wait_for
from tests.factories import MembershipFactory
from tests.scoring_support import grooming_conversations, ingest_payload

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

NCMEC_LOGIN = {"NCMEC_USERNAME": "acme-esp", "NCMEC_PASSWORD": "s3cret"}
REPORTER = {
    "NCMEC_REPORTER_FIRST_NAME": "Rita",
    "NCMEC_REPORTER_LAST_NAME": "Reyes",
    "NCMEC_REPORTER_EMAIL": "safety@acme.example",
    "ARTEMIS_ESP_NAME": "Acme Chat Inc.",
}


@pytest.fixture
def cybertipline() -> Iterator[CyberTiplineServer]:
    """The local CyberTipline on a free loopback port."""
    server = CyberTiplineServer(
        ("127.0.0.1", 0),
        username=NCMEC_LOGIN["NCMEC_USERNAME"],
        password=NCMEC_LOGIN["NCMEC_PASSWORD"],
    ).start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(cybertipline: CyberTiplineServer) -> dict[str, str]:
    """The worker process reports to the test's CyberTipline, as the live server does."""
    return {"NCMEC_URL": cybertipline.url, **NCMEC_LOGIN, **REPORTER}


@pytest.fixture
def provider_key(settings: Any, worker_env: dict[str, str], tmp_path: Path) -> Path:
    """The live server reports to the same CyberTipline and signs packages with a fresh key;
    returns the published public key, which is what a recipient verifies against."""
    settings.NCMEC_URL = worker_env["NCMEC_URL"]
    for name in (*NCMEC_LOGIN, *REPORTER):
        setattr(settings, name, worker_env[name])
    key = signing.new_private_key()
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = signing.private_key_pem(key)
    settings.ARTEMIS_LEGAL_PROCESS_CONTACT = "Legal, Acme Chat Inc., legal@acme.example"
    published = tmp_path / "provider.pub.pem"
    published.write_text(signing.public_key_pem(key.public_key()))
    return published


def escalate_and_complete(tab: Any, base: str, verdict: str, narrative: str) -> Case:
    """Alice takes the next item, escalates it, completes the case and submits it."""
    sign_in(tab, base, "alice")
    tab.click("#take-next")
    tab.wait_for_url(f"{base}/t/acme/items/*")
    tab.check(f"input[name=verdict][value={verdict}]")
    tab.select_option("#id_reason_code", "grooming_indicators")
    tab.click("text=Decide and take next")
    tab.wait_for_url(f"{base}/t/acme/cases/*")
    case = Case.objects.get(pk=int(tab.url.rsplit("/", 1)[1]))
    tab.fill("#id_narrative", narrative)
    tab.fill("#id_reported_screen_name", "jay_gamer")
    tab.fill("#id_reported_ip_events", "203.0.113.7 2026-11-01T17:55:00+01:00 login")
    tab.fill("#id_reported_country", "US")
    tab.click("#case-save")
    tab.wait_for_selector("text=Saved.")
    assert tab.locator("[data-problem]").count() == 0, tab.inner_text("#case-editor")
    tab.click("#case-submit")
    tab.wait_for_selector("text=is waiting for a supervisor")
    return case


def approve(tab: Any, base: str, case: Case) -> None:
    """Sam finds the case in his inbox and approves it."""
    sign_in(tab, base, "sam")
    tab.click("#nav-inbox")
    tab.click(f"text={case.reference}")
    tab.wait_for_url(f"{base}/t/acme/cases/{case.pk}")
    tab.click("#case-approve")
    # It asks first, naming the case; only the question's own button approves.
    assert f"Approve case {case.reference}?" in tab.inner_text("#confirm")
    tab.click("#confirm-button")
    tab.wait_for_selector(f"text=Case {case.reference} approved.")


def test_an_ncmec_report_and_a_referral_package_go_all_the_way_in_the_browser(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
    active_model: ModelVersion,
    cybertipline: CyberTiplineServer,
    provider_key: Path,
    worker: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam")
    platform = api_client_for(acme)
    for conversation in grooming_conversations(2):
        response = platform.post(
            "/api/v1/conversations",
            data=json.dumps(ingest_payload(conversation)),
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
    wait_for(lambda: QueueItem.objects.filter(tenant=acme).count() == 2, seconds=30)
    base = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    # --- NCMEC: escalated, completed, approved, then reported by a real worker -------------
    report_case = escalate_and_complete(
        page, base, "escalate_ncmec", "The adult asks the child to keep the chat secret."
    )
    assert report_case.target == "ncmec"
    approve(page, base, report_case)
    # Sam approved it and may also report it: the four eyes are the author's and his.
    assert "Not sent yet" in page.inner_text("#ncmec-panel")
    sent_before = len(cybertipline.state.requests)
    page.click("#ncmec-panel button:has-text('Submit to NCMEC')")
    # The first press only asks, naming the case, the report and where it goes; nothing
    # is sent until the question is answered (from the keyboard here).
    question = page.inner_text("#confirm")
    assert f"Send case {report_case.reference} to NCMEC?" in question
    assert "a new CyberTipline report" in question
    assert "cannot be undone" in question
    assert len(cybertipline.state.requests) == sent_before, "nothing sent by the first press"
    page.focus("#confirm-button")
    page.keyboard.press("Enter")
    # The panel polls while the worker sends; then the whole page shows the new status.
    page.wait_for_selector("#ncmec-panel >> text=Report id", timeout=45_000)
    page.wait_for_selector("#case-status:has-text('Preserved')")

    report_case.refresh_from_db()
    [report] = cybertipline.state.finished()
    assert len(cybertipline.state.reports) == 1, "exactly one report, finished"
    assert schema.validate(report.xml, root="report") == []
    [stored] = report.files.values()
    assert stored.md5 == transcript_build(report_case).md5, "the transcript file, intact"
    assert report_case.status == CaseStatus.PRESERVED
    assert report_case.ncmec_submission.report_id == str(report.report_id)
    assert report_case.preserve_until == report_case.submitted_at.date() + timedelta(days=365)
    panel = page.inner_text("#ncmec-panel")
    assert report_case.ncmec_submission.report_id in panel
    assert stored.file_id in panel
    page.click("#ncmec-panel summary")
    assert "reportDoneResponse" in page.inner_text("#ncmec-panel pre"), "the receipt is shown"
    assert f"Preserved until {report_case.preserve_until:%Y-%m-%d}" in page.inner_text(
        "#preserve-until"
    )
    history = page.inner_text(".history-list")
    assert f"finish (report {report_case.ncmec_submission.report_id})" in history
    assert "approved → submitted" in history
    assert page.locator("#case-close").count() == 0, "preserved: nothing to close for a year"
    page.screenshot(path=str(ARTIFACTS / "case-ncmec-submitted.png"), full_page=True)

    # --- law enforcement: escalated, completed, approved, packaged, delivered --------------
    referral = escalate_and_complete(
        page, base, "escalate_law_enforcement", "The adult proposes to meet the child."
    )
    assert referral.target == "law_enforcement"
    approve(page, base, referral)
    with page.expect_download() as download:
        page.click("text=Download the referral package (ZIP)")
    package = tmp_path / download.value.suggested_filename
    download.value.save_as(package)
    assert package.name.startswith(f"{referral.reference}-referral")
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_package", str(package), "--public-key",
         str(provider_key)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert "OK." in verify.stdout

    page.reload()  # the download is listed on the case page
    assert "sam" in page.inner_text("#referral-panel")
    page.fill("#id_agency", "Springfield Police Department")
    page.fill("#id_reference", "SPD-2026-1142")
    page.fill("#id_delivered_on", f"{timezone.localdate():%Y-%m-%d}")
    page.click("#case-deliver")
    question = page.inner_text("#confirm")
    assert f"Record that case {referral.reference} was delivered to" in question
    assert "SPD-2026-1142" in question
    referral.refresh_from_db()
    assert referral.status == CaseStatus.APPROVED, "asked, not yet recorded"
    page.click("#confirm-button")
    page.wait_for_selector(f"text=Delivery recorded; case {referral.reference} is preserved")

    referral.refresh_from_db()
    assert referral.status == CaseStatus.PRESERVED
    assert referral.submitted_to == "Springfield Police Department"
    assert referral.preserve_until == timezone.localdate() + timedelta(days=365)
    assert page.inner_text("#case-status") == "Preserved"
    page.screenshot(path=str(ARTIFACTS / "case-referral-delivered.png"), full_page=True)
    assert len(cybertipline.state.reports) == 1, "the referral was not reported to NCMEC"
