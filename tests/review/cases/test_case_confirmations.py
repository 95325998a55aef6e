"""Approving a case, sending it to NCMEC, recording its delivery to law enforcement and
closing it cannot be undone (a report to NCMEC goes to a federal clearinghouse), so each asks
first on the page the admin's removals use (``review.confirmation``): the first press names
the case and what will happen and does nothing, not even an audit event; only that page's
own POST, with ``confirm``, acts, once. Without JavaScript, as a plain form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    NcmecState,
    NcmecSubmission,
    OutboxMessage,
    Tenant,
)
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.cases.test_cases import approved_referral, submitted
from tests.review.cases.test_ncmec import approved_case, reporter_settings
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db

CONFIRM = {"confirm": "yes"}


@pytest.fixture(autouse=True)
def ncmec_settings(settings: Any) -> None:
    # Nothing is sent in these tests (no worker runs): the address is only named.
    reporter_settings(settings, "https://exttest.cybertip.org/ispws")


def _notices(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post_forms(page: str) -> list[str]:
    """The action of every POST form on ``page``."""
    return re.findall(r'<form method="post" action="([^"]+)"', page)


def _trail(case: Case) -> list[tuple[str, Any]]:
    """Every audit event about the case: (action, what it says moved or happened)."""
    events = AuditEvent.objects.filter(target_type="case", target_id=str(case.pk))
    return [
        (e.action, e.detail.get("to") or e.detail.get("step"))
        for e in events.order_by("sequence")
        if e.action != AuditAction.CASE_VIEW  # reading the case page, not an action
    ]


def _asks(response: Any, url: str, case: Case, question: str) -> str:
    """The page that asks: it names the case, posts to ``url`` with ``confirm``, and has a
    way back to the case that does nothing."""
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    page = response.content.decode()
    assert question in page
    assert case.reference in page
    assert "cannot be undone" in page or "cannot be reopened" in page
    assert url in _post_forms(page)
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert f'href="/t/acme/cases/{case.pk}"' in page, "a way back without acting"
    return page


def test_the_case_page_offers_no_action_that_acts_in_one_press(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = submitted(acme, alice)
    page = signed_in(sam).get(f"/t/acme/cases/{case.pk}").content.decode()

    assert f"/t/acme/cases/{case.pk}/approve" in _post_forms(page)
    assert 'name="confirm"' not in page, "the button only leads to the question"
    assert "Approve…" in page


def test_approving_asks_first_naming_the_case_then_approves_once(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = submitted(acme, alice)
    url = f"/t/acme/cases/{case.pk}/approve"
    client = signed_in(sam)
    before = _trail(case)

    asked = client.post(url)

    page = _asks(asked, url, case, f"Approve case {case.reference}?")
    assert "alice can no longer edit it" in page
    case.refresh_from_db()
    assert (case.status, case.approved_by) == (CaseStatus.AWAITING_APPROVAL, None)
    assert _trail(case) == before, "asking is not audited as an approval"

    approved = client.post(url, CONFIRM, follow=True)

    case.refresh_from_db()
    assert (case.status, case.approved_by) == (CaseStatus.APPROVED, sam)
    assert _trail(case) == [*before, (AuditAction.CASE_TRANSITION, "approved")]
    assert _notices(approved) == [f"Case {case.reference} approved."]


def test_a_refused_approval_is_refused_before_anything_is_asked(acme: Tenant, sam: Any) -> None:
    case = submitted(acme, sam)

    response = signed_in(sam).post(f"/t/acme/cases/{case.pk}/approve", follow=True)

    assert 'name="confirm"' not in response.content.decode()
    assert any("four eyes" in notice for notice in _notices(response))


def test_sending_to_ncmec_asks_first_naming_the_case_the_report_and_where_it_goes(
    acme: Tenant, alice: Any, sam: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = approved_case(acme, alice, sam)
    url = f"/t/acme/cases/{case.pk}/ncmec"
    back = f"/t/acme/cases/{case.pk}"
    client = signed_in(sam)
    panel = client.get(back).content.decode()
    assert url in _post_forms(panel)
    assert f'hx-post="{url}"' not in panel, "a plain form, answered by a whole page"
    assert "Submit to NCMEC…" in panel
    before = _trail(case)

    with django_capture_on_commit_callbacks() as queued:
        asked = client.post(url, {"next": back})

    page = _asks(asked, url, case, f"Send case {case.reference} to NCMEC?")
    assert "a new CyberTipline report" in page
    assert "NCMEC&#x27;s CyberTipline at exttest.cybertip.org" in page
    assert f'<input type="hidden" name="next" value="{back}">' in page
    assert queued == []
    assert not NcmecSubmission.objects.filter(case=case).exists()
    assert not OutboxMessage.objects.exists()
    assert _trail(case) == before

    with django_capture_on_commit_callbacks() as queued:
        sent = client.post(url, {"next": back, **CONFIRM})

    assert (sent.status_code, sent["Location"]) == (302, back)
    assert len(queued) == 1
    assert NcmecSubmission.objects.get(case=case).state == NcmecState.QUEUED
    assert _trail(case) == [*before, (AuditAction.NCMEC, "queued")]


def test_an_htmx_press_from_an_older_panel_only_asks_too(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)

    asked = signed_in(sam).post(f"/t/acme/cases/{case.pk}/ncmec", HTTP_HX_REQUEST="true")

    assert asked.status_code == 200
    assert asked["HX-Retarget"] == "body", "the question replaces the page, not the panel"
    assert f"Send case {case.reference} to NCMEC?" in asked.content.decode()
    assert not NcmecSubmission.objects.filter(case=case).exists()


def test_recording_a_delivery_asks_first_naming_the_agency_then_records_it_once(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    url = f"/t/acme/cases/{case.pk}/deliver"
    today = timezone.localdate()
    form = {"agency": "County Sheriff", "reference": "CS-1", "delivered_on": today.isoformat()}
    client = signed_in(sam)
    before = _trail(case)

    asked = client.post(url, form)

    page = _asks(asked, url, case, f"Record that case {case.reference} was delivered to")
    assert "County Sheriff" in page
    assert f"preserved until {today + timedelta(days=365):%Y-%m-%d}" in page
    for name, value in form.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in page, name
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert case.submitted_at is None
    assert _trail(case) == before

    client.post(url, {**form, **CONFIRM})

    case.refresh_from_db()
    assert case.status == CaseStatus.PRESERVED
    assert (case.submitted_to, case.submission_reference) == ("County Sheriff", "CS-1")
    moves = _trail(case)[len(before) :]
    assert [m for m in moves if m[0] == AuditAction.CASE_TRANSITION] == [
        (AuditAction.CASE_TRANSITION, "submitted"),
        (AuditAction.CASE_TRANSITION, "preserved"),
    ]


def test_closing_asks_first_with_the_reason_then_closes_once(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    url = f"/t/acme/cases/{case.pk}/close"
    client: Client = signed_in(alice)
    before = _trail(case)

    asked = client.post(url, {"reason": "Escalated by mistake."})

    page = _asks(asked, url, case, f"Close case {case.reference}?")
    assert '<input type="hidden" name="reason" value="Escalated by mistake.">' in page
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    assert _trail(case) == before

    closed = client.post(url, {"reason": "Escalated by mistake.", **CONFIRM}, follow=True)

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert _trail(case) == [*before, (AuditAction.CASE_TRANSITION, "closed")]
    assert _notices(closed) == [f"Case {case.reference} closed."]


def test_a_close_without_a_reason_is_refused_before_anything_is_asked(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}/close", {"reason": " "})

    assert response.status_code == 400
    assert 'name="confirm"' not in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
