"""The case pages: alice completes her case in the editor and submits it, sam the supervisor
approves it or sends it back, a referral is delivered and preserved, and a case is closed only
when that is allowed. Four eyes, tenant isolation and the audit trail are checked through the
views, the way a member meets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import timezone as dj_timezone

from review.cases.editor import case_problems
from review.cases.flow import case_submit, case_update
from review.cases.services import case_approve, case_preserve, case_transition
from review.decisions.services import decision_create
from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    ReviewError,
    Role,
    Tenant,
)
from review.queue.services import queue_item_claim_next
from tests.factories import MembershipFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db

CET = timezone(timedelta(hours=1))
# What the page that asks first posts back (review.confirmation): the action is done.
CONFIRM = {"confirm": "yes"}


def complete(case: Case, author: Any) -> Case:
    return case_update(
        case=case,
        actor=author,
        narrative="The adult asks the child to keep the chat secret and for a picture.",
        incident_at=datetime(2026, 11, 1, 18, 1, tzinfo=CET),
    )


def submitted(tenant: Tenant, author: Any, verdict: str = "escalate_ncmec") -> Case:
    case = complete(escalate(tenant, author, verdict), author)
    return case_submit(case=case, actor=author)


def approved_referral(tenant: Tenant, author: Any, supervisor: Any) -> Case:
    case = submitted(tenant, author, "escalate_law_enforcement")
    return case_approve(case=case, supervisor=supervisor)


def editor_post(**overrides: str) -> dict[str, str]:
    form = {
        "narrative": "The adult asks for secrecy, then for a picture.",
        "incident_local": "2026-11-01T18:01:00",
        "incident_offset": "+01:00",
        "urgency_reason": "",
        "reported_esp_identifier": "adult-0",
        "reported_screen_name": "jay_gamer",
        "reported_display_name": "",
        "reported_email": "",
        "reported_ip_events": "203.0.113.7 2026-11-01T17:55:00+01:00 login",
        "reported_device_ids": "android-4f2a",
        "reported_country": "US",
        "reported_region": "",
        "reported_city": "",
        "victim_age": "13",
        "victim_date_of_birth": "",
        "victim_screen_name": "",
        "victim_display_name": "",
    }
    form.update(overrides)
    return form


# -- the editor -------------------------------------------------------------------------


def test_case_problems_names_each_missing_or_invalid_field(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    case.reported_details = {"esp_identifier": "", "ip_events": [{"ip": "x", "at": "y"}]}
    case.victim_details = {"age": 19}
    case.incident_at = None

    problems = case_problems(case)

    assert set(problems) == {
        "narrative",
        "incident_at",
        "reported_details.esp_identifier",
        "reported_details.ip_events",
        "victim_details.age",
    }
    assert "no identifier" in problems["reported_details.esp_identifier"]


def test_a_child_of_unknown_age_is_not_a_problem(acme: Tenant, alice: Any) -> None:
    case = complete(escalate(acme, alice), alice)
    case = case_update(case=case, actor=alice, victim_details={"age": None, "date_of_birth": None})

    assert case_problems(case) == {}


def test_the_editor_shows_each_problem_next_to_its_field(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    page = signed_in(alice).get(f"/t/acme/cases/{case.pk}").content.decode()

    assert 'data-problem="narrative"' in page
    assert "Write the narrative" in page
    assert 'name="reported_esp_identifier" value="adult-0"' in page, "prefilled"
    assert 'name="incident_offset" value="+01:00"' in page


def test_saving_the_editor_updates_the_case_and_audits_only_field_names(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}", editor_post())

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.narrative.startswith("The adult asks for secrecy")
    assert case.incident_at == datetime(2026, 11, 1, 17, 1, tzinfo=UTC)
    assert case.incident_utc_offset_minutes == 60
    assert case.reported_details["ip_events"] == [
        {"ip": "203.0.113.7", "at": "2026-11-01T17:55:00+01:00", "event": "login"}
    ]
    assert case.reported_details["estimated_location"] == {"country": "US"}
    assert case_problems(case) == {}
    edit = AuditEvent.objects.get(action=AuditAction.CASE_EDIT, target_id=str(case.pk))
    assert "narrative" in edit.detail["fields"]
    assert "reported_details.screen_name" in edit.detail["fields"]
    assert "secrecy" not in str(edit.detail), "never the values"
    assert "jay_gamer" not in str(edit.detail)


def test_the_editor_answers_htmx_with_its_own_fragment(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}", editor_post(), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="case-editor"')
    assert "Saved." in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reported_ip_events": "999.1.1.1 2026-11-01T17:55:00+01:00 login"}, "Line 1"),
        ({"reported_ip_events": "203.0.113.7 2026-11-01T17:55:00 login"}, "no UTC offset"),
        ({"reported_country": "XX"}, "ISO 3166"),
        ({"incident_offset": "CET"}, "+HH:MM"),
        ({"incident_offset": ""}, "Give the offset"),
        ({"victim_date_of_birth": "2999-01-01"}, "in the future"),
    ],
)
def test_the_editor_refuses_a_bad_value_naming_it(
    acme: Tenant, alice: Any, overrides: dict[str, str], message: str
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}", editor_post(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.narrative == "", "nothing half-written stays"


def test_case_update_names_the_bad_ip_event(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    events = [
        {"ip": "203.0.113.7", "at": "2026-11-01T17:55:00+01:00", "event": "login"},
        {"ip": "203.0.113.8", "at": "2026-11-01T17:56:00+01:00"},
        {"ip": "not-an-ip", "at": "2026-11-01T17:57:00+01:00"},
    ]

    with pytest.raises(ReviewError, match=r"reported_details\.ip_events\[2\]\.ip"):
        case_update(case=case, actor=alice, reported_details={"ip_events": events})


def test_only_the_author_edits_and_only_a_draft(acme: Tenant, alice: Any, sam: Any) -> None:
    case = escalate(acme, alice)

    with pytest.raises(ReviewError, match="only the case's author"):
        case_update(case=case, actor=sam, narrative="sam's words")
    case = case_submit(case=complete(case, alice), actor=alice)
    with pytest.raises(ReviewError, match="only a draft"):
        case_update(case=case, actor=alice, narrative="later words")


def test_an_escalation_decision_lands_on_the_case_editor(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    client = signed_in(alice)
    client.post("/t/acme/next")

    decided = client.post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "escalate_law_enforcement", "reason_code": "grooming_indicators"},
    )

    case = Case.objects.get(decision__queue_item=item)
    assert decided["Location"] == f"/t/acme/cases/{case.pk}"
    assert case.target == "law_enforcement"


# -- four eyes through the views --------------------------------------------------------


def test_an_incomplete_case_cannot_be_submitted_and_the_refusal_names_the_fields(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    client = signed_in(alice)

    response = client.post(f"/t/acme/cases/{case.pk}/submit", follow=True)

    page = response.content.decode()
    assert "is not complete" in page
    assert "narrative" in page
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_alice_submits_and_sam_approves_from_the_inbox(acme: Tenant, alice: Any, sam: Any) -> None:
    case = complete(escalate(acme, alice), alice)
    assert signed_in(alice).post(f"/t/acme/cases/{case.pk}/submit").status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL

    client = signed_in(sam)
    inbox = client.get("/t/acme/cases/inbox").content.decode()
    assert case.reference in inbox
    assert 'Escalations inbox <span class="count">1</span>' in inbox
    page = client.get(f"/t/acme/cases/{case.pk}").content.decode()
    assert f'href="/t/acme/items/{case.decision.queue_item_id}"' in page, "the transcript link"
    client.post(f"/t/acme/cases/{case.pk}/approve", CONFIRM)

    case.refresh_from_db()
    assert (case.status, case.approved_by) == (CaseStatus.APPROVED, sam)


def test_a_supervisor_cannot_approve_a_case_they_wrote(acme: Tenant, sam: Any) -> None:
    case = submitted(acme, sam)

    response = signed_in(sam).post(f"/t/acme/cases/{case.pk}/approve", CONFIRM, follow=True)

    assert "four eyes" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL


def test_a_moderator_cannot_approve_a_case(acme: Tenant, alice: Any) -> None:
    case = submitted(acme, alice)

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}/approve", CONFIRM)

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL


def test_a_moderator_has_no_escalations_inbox(acme: Tenant, alice: Any) -> None:
    client = signed_in(alice)

    assert client.get("/t/acme/cases/inbox").status_code == 403
    assert "Escalations inbox" not in client.get("/t/acme/cases").content.decode()


def test_sending_back_needs_a_reason_and_shows_it_to_the_author(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = submitted(acme, alice)
    client = signed_in(sam)

    refused = client.post(f"/t/acme/cases/{case.pk}/send-back", {"reason": " "}, follow=True)
    assert "Reason: say what the author should change" in refused.content.decode()
    client.post(f"/t/acme/cases/{case.pk}/send-back", {"reason": "Add the meeting request."})

    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    page = signed_in(alice).get(f"/t/acme/cases/{case.pk}").content.decode()
    assert "Add the meeting request." in page


def test_the_inbox_lists_the_oldest_first_and_marks_urgent_cases(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    first = submitted(acme, alice)
    second = complete(_second_case(acme, bob), bob)
    case_update(case=second, actor=bob, urgency_reason="A meeting is planned for Saturday.")
    second = case_submit(case=second, actor=bob)

    page = signed_in(sam).get("/t/acme/cases/inbox").content.decode()

    assert page.index(first.reference) < page.index(second.reference)
    assert page.count('class="chip urgent"') == 1


def _second_case(tenant: Tenant, moderator: Any) -> Case:
    flagged_item(tenant, 1)
    item = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert item is not None
    return decision_create(
        item=item, moderator=moderator, verdict="escalate_ncmec", reason_code="grooming_indicators"
    ).case


# -- who sees what ----------------------------------------------------------------------


def test_a_moderator_sees_only_her_own_cases(acme: Tenant, alice: Any, bob: Any) -> None:
    case = escalate(acme, alice)
    client = signed_in(bob)

    assert client.get(f"/t/acme/cases/{case.pk}").status_code == 404
    assert client.post(f"/t/acme/cases/{case.pk}", editor_post()).status_code == 404
    assert case.reference not in client.get("/t/acme/cases").content.decode()
    assert case.reference in signed_in(alice).get("/t/acme/cases").content.decode()


def test_another_tenants_case_answers_404(acme: Tenant, globex: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    grace = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="grace").user
    client = signed_in(grace)

    assert client.get(f"/t/globex/cases/{case.pk}").status_code == 404
    assert client.post(f"/t/globex/cases/{case.pk}/approve", CONFIRM).status_code == 404
    assert client.get(f"/t/acme/cases/{case.pk}").status_code == 404


def test_every_view_of_a_case_is_audited(acme: Tenant, alice: Any, sam: Any) -> None:
    case = escalate(acme, alice)

    signed_in(alice).get(f"/t/acme/cases/{case.pk}")
    signed_in(sam).get(f"/t/acme/cases/{case.pk}")

    views = AuditEvent.objects.filter(action=AuditAction.CASE_VIEW, target_id=str(case.pk))
    assert [e.actor_label for e in views.order_by("sequence")] == ["alice", "sam"]


def test_each_move_through_the_views_is_audited(acme: Tenant, alice: Any, sam: Any) -> None:
    case = complete(escalate(acme, alice, "escalate_law_enforcement"), alice)
    signed_in(alice).post(f"/t/acme/cases/{case.pk}/submit")
    client = signed_in(sam)
    client.post(f"/t/acme/cases/{case.pk}/approve", CONFIRM)
    client.post(
        f"/t/acme/cases/{case.pk}/deliver",
        {
            **CONFIRM,
            "agency": "County Sheriff",
            "reference": "CS-1",
            "delivered_on": dj_timezone.localdate(),
        },
    )

    moves = AuditEvent.objects.filter(
        action=AuditAction.CASE_TRANSITION, target_id=str(case.pk)
    ).order_by("sequence")
    assert [(e.actor_label, e.detail["to"]) for e in moves] == [
        ("alice", "awaiting_approval"),
        ("sam", "approved"),
        ("sam", "submitted"),
        ("sam", "preserved"),
    ]


# -- delivery, preservation, closing ----------------------------------------------------


def test_recording_a_delivery_preserves_the_referral_for_a_year(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    delivered_on = dj_timezone.localdate()

    response = signed_in(sam).post(
        f"/t/acme/cases/{case.pk}/deliver",
        {**CONFIRM, "agency": "County Sheriff", "reference": "CS-1", "delivered_on": delivered_on},
        follow=True,
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.PRESERVED
    assert (case.submitted_to, case.submission_reference) == ("County Sheriff", "CS-1")
    assert case.preserve_until == delivered_on + timedelta(days=365)
    assert f"Preserved until {case.preserve_until:%Y-%m-%d}" in response.content.decode()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"agency": "", "reference": "CS-1", "delivered_on": "2026-11-20"}, "agency"),
        ({"agency": "Sheriff", "reference": "", "delivered_on": "2026-11-20"}, "reference"),
        ({"agency": "Sheriff", "reference": "CS-1", "delivered_on": ""}, "delivered_on"),
        ({"agency": "Sheriff", "reference": "CS-1", "delivered_on": "2999-01-01"}, "future"),
    ],
)
def test_a_delivery_needs_agency_reference_and_date(
    acme: Tenant, alice: Any, sam: Any, form: dict[str, str], message: str
) -> None:
    case = approved_referral(acme, alice, sam)

    response = signed_in(sam).post(
        f"/t/acme/cases/{case.pk}/deliver", {**form, **CONFIRM}, follow=True
    )

    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_an_ncmec_case_is_not_delivered(acme: Tenant, alice: Any, sam: Any) -> None:
    case = case_approve(case=submitted(acme, alice), supervisor=sam)

    response = signed_in(sam).post(
        f"/t/acme/cases/{case.pk}/deliver",
        {**CONFIRM, "agency": "Sheriff", "reference": "CS-1", "delivered_on": "2026-11-20"},
        follow=True,
    )

    assert "it is submitted, not delivered" in response.content.decode()


def test_a_supervisor_extends_preservation_with_a_reason(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    client = signed_in(sam)
    client.post(
        f"/t/acme/cases/{case.pk}/deliver",
        {
            **CONFIRM,
            "agency": "Sheriff",
            "reference": "CS-1",
            "delivered_on": dj_timezone.localdate(),
        },
    )
    later = dj_timezone.localdate() + timedelta(days=700)

    refused = client.post(f"/t/acme/cases/{case.pk}/extend", {"until": later}, follow=True)
    assert "reason" in refused.content.decode()
    client.post(f"/t/acme/cases/{case.pk}/extend", {"until": later, "reason": "Police asked."})

    case.refresh_from_db()
    assert case.preserve_until == later


def test_the_case_history_says_why_and_until_when_preservation_was_extended(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    # A reader of the case page (an auditor, a regulator) sees each move with what it
    # changed and why, not a bare "edited an escalation case" for a longer preservation.
    case = approved_referral(acme, alice, sam)
    client = signed_in(sam)
    today = dj_timezone.localdate()
    client.post(
        f"/t/acme/cases/{case.pk}/deliver",
        {**CONFIRM, "agency": "County Sheriff", "reference": "CS-1", "delivered_on": today},
    )
    first, later = today + timedelta(days=365), today + timedelta(days=700)
    client.post(f"/t/acme/cases/{case.pk}/extend", {"until": later, "reason": "Police asked."})

    preserved = client.get(f"/t/acme/cases/{case.pk}").content.decode()

    assert f"preservation extended from {first:%Y-%m-%d} to {later:%Y-%m-%d}" in preserved
    assert "(reason: Police asked.)" in preserved
    assert "to County Sheriff (their reference CS-1" in preserved


def test_the_case_history_says_why_a_case_was_closed(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    client = signed_in(alice)
    client.post(f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "Escalated by mistake."})

    closed = client.get(f"/t/acme/cases/{case.pk}").content.decode()

    assert "(reason: Escalated by mistake.)" in closed


def test_a_closed_cases_status_says_who_closed_it_when_and_why(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    signed_in(alice).post(
        f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "Escalated by mistake."}
    )
    case.refresh_from_db()

    # Another member opening it later learns it from the status, not by reading the history.
    page = signed_in(sam).get(f"/t/acme/cases/{case.pk}").content.decode()

    status = page.split('id="case-closed">')[1].split("</p>")[0]
    assert status == (
        f"Closed by alice on {case.closed_at:%Y-%m-%d %H:%M} UTC. Reason: Escalated by mistake."
    )


def test_a_draft_closes_only_with_a_reason(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    client = signed_in(alice)

    client.post(f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": ""})
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    client.post(f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "Escalated by mistake."})

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.closed_at is not None


def test_a_preserved_case_closes_only_after_its_preservation_date(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    case = case_preserve(case=case, actor=sam, start=dj_timezone.localdate() - timedelta(days=365))
    assert case.preserve_until == dj_timezone.localdate()
    client = signed_in(sam)
    page = client.get(f"/t/acme/cases/{case.pk}").content.decode()
    assert 'id="case-close"' not in page, "no Close button while it would be refused"

    refused = client.post(
        f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "done"}, follow=True
    )
    assert "can be closed only after that date" in refused.content.decode()
    yesterday = dj_timezone.localdate() - timedelta(days=1)
    Case.objects.filter(pk=case.pk).update(preserve_until=yesterday)
    assert 'id="case-close"' in client.get(f"/t/acme/cases/{case.pk}").content.decode()
    client.post(f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "Preservation ended."})

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_an_approved_case_cannot_be_closed(acme: Tenant, alice: Any, sam: Any) -> None:
    case = approved_referral(acme, alice, sam)

    signed_in(sam).post(f"/t/acme/cases/{case.pk}/close", {**CONFIRM, "reason": "no"})

    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_no_page_and_no_admin_offers_to_delete_a_case(sam: Any) -> None:
    names = [str(p.pattern) for p in get_resolver().url_patterns]
    request = RequestFactory().get("/")
    request.user = sam

    assert not any("delete" in name for name in names)
    model_admin = admin.site._registry.get(Case)
    assert model_admin is None or not model_admin.has_delete_permission(request)


def test_the_nav_shows_cases_to_everyone_and_the_inbox_count_to_supervisors(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    submitted(acme, alice)

    moderator_page = signed_in(alice).get("/t/acme/queue").content.decode()
    supervisor_page = signed_in(sam).get("/t/acme/queue").content.decode()

    assert 'href="/t/acme/cases"' in moderator_page
    assert "Escalations inbox" not in moderator_page
    assert 'Escalations inbox <span class="count">1</span>' in supervisor_page


def test_an_anonymous_visitor_is_sent_to_sign_in(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    response = Client().get(f"/t/acme/cases/{case.pk}")

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_editor_names_a_bad_value_to_htmx_in_a_fragment_it_will_swap(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}",
        editor_post(reported_country="XX"),
        HTTP_HX_REQUEST="true",
    )

    # htmx swaps only 2xx answers: the refusal must still reach the page.
    assert response.status_code == 200
    assert "ISO 3166" in response.content.decode()
    case.refresh_from_db()
    assert case.narrative == ""


def test_the_case_page_shows_the_flagged_messages_highlighted_and_hides_the_hidden_one(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = submitted(acme, alice)
    page = signed_in(sam).get(f"/t/acme/cases/{case.pk}").content.decode()
    evidence = page[
        page.index('id="case-evidence"') : page.index(
            "</section>", page.index('id="case-evidence"')
        )
    ]
    assert "2 flagged messages" in evidence
    assert '<mark class="c-secrecy_request"' in evidence
    assert "dont tell yo</mark>" in evidence
    assert "hey how was school" not in evidence, "an unflagged message is not evidence"
    assert "send me a pic" not in evidence, "hidden until revealed"
    assert "Hidden: may contain" in evidence
