"""Capabilities, not ranks: the table of what each role may do, and the auditor it made
possible. Audrey the auditor reads decisions, cases and the audit trail, is recorded reading
them like a supervisor, and changes nothing (the attack suite refuses her every other URL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from review.cases import flow as case_flow
from review.cases.services import case_approve
from review.models import AuditAction, AuditEvent, Membership, ReviewError, Role, Tenant
from review.queue.services import queue_item_claim_next
from review.signin.two_factor import two_factor_required
from review.tenancy.capabilities import BY_ROLE, ROLES, Capability, RoleRow, _check, member_can
from review.tenancy.services import invitation_send, member_set_role
from tests.factories import MembershipFactory, TenantFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.supervision_support import decide
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db

READS = {
    Capability.READ_CASES,
    Capability.READ_ALL_CASES,
    Capability.READ_DECISIONS,
    Capability.READ_AUDIT,
}


# --- the table ----------------------------------------------------------------------------


def test_every_role_has_exactly_one_row_in_the_table() -> None:
    assert sorted(BY_ROLE) == sorted(Role.values)
    assert len(ROLES) == len(Role.values)


def test_the_table_refuses_a_role_without_a_row() -> None:
    without_auditor = [row for row in ROLES if row.role != Role.AUDITOR]
    with pytest.raises(ImproperlyConfigured, match=r"no row for the role.*auditor"):
        _check(without_auditor)


def test_the_table_refuses_two_rows_for_one_role() -> None:
    extra = RoleRow(Role.MODERATOR, frozenset(), two_factor=False)
    with pytest.raises(ImproperlyConfigured, match="two rows for the role"):
        _check([*ROLES, extra])


def test_the_ladder_of_the_first_three_roles_is_kept() -> None:
    moderator, supervisor, admin = (
        BY_ROLE[role].capabilities for role in (Role.MODERATOR, Role.SUPERVISOR, Role.ADMIN)
    )
    assert moderator == {
        Capability.DECIDE,
        Capability.DECIDE_APPEAL,
        Capability.WRITE_CASE,
        Capability.READ_CASES,
        Capability.FIND,
    }
    assert moderator < supervisor < admin
    assert admin - supervisor == {Capability.ADMINISTER}
    assert set(admin) == set(Capability), "an admin may do everything"


def test_the_auditor_only_reads_and_needs_a_second_factor() -> None:
    assert BY_ROLE[Role.AUDITOR].capabilities == READS
    assert BY_ROLE[Role.AUDITOR].two_factor
    assert not BY_ROLE[Role.MODERATOR].two_factor
    assert BY_ROLE[Role.SUPERVISOR].two_factor
    assert BY_ROLE[Role.ADMIN].two_factor


# --- audrey reads, and her reading is recorded ---------------------------------------------


def _read_by(user: Any, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action=action))


def test_an_auditor_reads_the_decision_log_and_exports_it(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    decision = decide(acme, alice)
    client = signed_in(audrey)

    page = client.get("/t/acme/decisions")
    export = client.get("/t/acme/decisions?format=csv")

    assert page.status_code == 200
    assert f"/t/acme/supervision/conversations/{decision.conversation_id}" in page.content.decode()
    assert export.status_code == 200
    assert decision.conversation.external_id in b"".join(export.streaming_content).decode()
    assert len(_read_by(audrey, AuditAction.EXPORT)) == 1, "the export is recorded"


def test_an_auditor_reads_a_conversations_decisions_without_the_form_to_change_them(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    decision = decide(acme, alice)

    page = signed_in(audrey).get(f"/t/acme/supervision/conversations/{decision.conversation_id}")

    assert page.status_code == 200
    assert f"#{decision.pk}" in page.content.decode()
    assert "/decide" not in page.content.decode(), "no supervisor decision form"
    (seen,) = _read_by(audrey, AuditAction.VIEW)
    assert seen.target_id == str(decision.conversation_id), "who saw what is recorded"


def test_an_auditor_reads_every_case_and_is_offered_no_action(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    case = escalate(acme, alice)  # alice's draft, which a moderator other than her cannot see
    client = signed_in(audrey)

    listed = client.get("/t/acme/cases").content.decode()
    page = client.get(f"/t/acme/cases/{case.pk}")
    html = page.content.decode()

    assert case.reference in listed
    assert "Every escalation case of Acme Chat" in listed
    assert page.status_code == 200
    assert case.reference in html
    for action in ("case-close", "case-approve", "case-send-back", "transcript-link"):
        assert f'id="{action}"' not in html, action
    assert f"/t/acme/cases/{case.pk}/close" not in html
    (seen,) = _read_by(audrey, AuditAction.CASE_VIEW)
    assert seen.target_id == str(case.pk)


def test_an_auditor_reads_the_audit_trail_and_the_reading_is_recorded(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    decide(acme, alice)

    page = signed_in(audrey).get("/t/acme/supervision/audit")

    assert page.status_code == 200
    assert "alice" in page.content.decode()
    assert len(_read_by(audrey, AuditAction.REPORT_VIEW)) == 1


def test_an_auditor_lands_on_the_decision_log_and_sees_only_what_she_reads(
    acme: Tenant, audrey: Any
) -> None:
    client = signed_in(audrey)

    landing = client.get("/")
    nav = client.get("/t/acme/decisions").content.decode()

    assert landing.status_code == 302
    assert landing["Location"] == "/t/acme/decisions"
    for shown in ("/t/acme/cases", "/t/acme/decisions", "/t/acme/supervision/audit"):
        assert f'href="{shown}"' in nav, shown
    hidden_pages = ("queue", "second-reviews", "admin/", "supervision/inbox", "cases/inbox")
    for hidden in (f"/t/acme/{name}" for name in hidden_pages):
        assert f'href="{hidden}' not in nav, hidden
    assert "Auditor" in nav


# --- audrey changes nothing, even through the services --------------------------------------


def test_an_auditor_cannot_take_a_queue_item_approve_or_close_a_case(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    case = escalate(acme, alice)
    flagged_item(acme, 1)
    membership = Membership.objects.get(tenant=acme, user=audrey)

    assert not member_can(membership, Capability.DECIDE)
    assert case_flow.case_close_refusal(case=case, actor=audrey, membership=membership)
    with pytest.raises(ReviewError, match="only a member who writes cases"):
        case_flow.case_close(case=case, actor=audrey, reason="looks wrong")
    with pytest.raises(ReviewError, match="only a supervisor or an admin"):
        case_approve(case=case, supervisor=audrey)
    # The queue service leaves role checks to its callers; the view refuses her (403).
    assert signed_in(audrey).post("/t/acme/next").status_code == 403
    assert queue_item_claim_next(tenant=acme, moderator=alice) is not None, "still waiting"


def test_closing_a_draft_is_decided_in_one_place_for_the_page_and_the_service(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    bob_elsewhere = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="bo")

    page = signed_in(sam).get(f"/t/acme/cases/{case.pk}").content.decode()
    sam_membership = Membership.objects.get(tenant=acme, user=sam)

    assert case_flow.case_close_refusal(case=case, actor=sam, membership=sam_membership) is None
    assert 'id="case-close"' in page, "the page offers what the rule allows"
    refusal = case_flow.case_close_refusal(
        case=case, actor=bob_elsewhere.user, membership=bob_elsewhere
    )
    assert refusal == "only the author or a supervisor closes a draft case"
    with pytest.raises(ReviewError, match=refusal):
        case_flow.case_close(case=case, actor=bob_elsewhere.user, reason="not mine")


# --- admins make auditors like any other role ----------------------------------------------


def test_an_admin_invites_an_auditor_who_joins_as_one_and_lands_on_the_decision_log(
    acme: Tenant, ada: Any
) -> None:
    olive = MembershipFactory(tenant=TenantFactory(slug="partner"), user__username="olive").user
    invited = signed_in(ada).post(
        "/t/acme/admin/invitations", {"invitee": "olive", "role": "auditor"}
    )
    assert invited.status_code == 302
    invitation = acme.invitations.get()

    client = signed_in(olive)
    accepted = client.post(f"/invitations/{invitation.pk}/accept")

    assert Membership.objects.get(tenant=acme, user=olive).role == Role.AUDITOR
    assert accepted["Location"] == "/t/acme/decisions"
    assert two_factor_required(olive)


def test_an_admin_makes_a_moderator_an_auditor_but_not_the_last_admin(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    mine = Membership.objects.get(tenant=acme, user=alice)
    member_set_role(tenant=acme, actor=ada, membership_id=mine.pk, role="auditor")
    mine.refresh_from_db()
    assert mine.role == Role.AUDITOR

    # An auditor administers nothing: making the last admin one would lock the tenant out.
    eve = MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="eve").user
    hers = Membership.objects.get(tenant=acme, user=ada)
    member_set_role(tenant=acme, actor=eve, membership_id=hers.pk, role="auditor")
    eves = Membership.objects.get(tenant=acme, user=eve)
    with pytest.raises(ReviewError, match="last admin"):
        member_set_role(tenant=acme, actor=alice, membership_id=eves.pk, role="auditor")


def test_an_auditor_is_a_role_an_invitation_can_name_and_an_unknown_one_is_refused(
    acme: Tenant, ada: Any
) -> None:
    with pytest.raises(ReviewError, match="unknown role"):
        invitation_send(tenant=acme, actor=ada, invitee="someone", role="reader")
    invitation = invitation_send(tenant=acme, actor=ada, invitee="someone", role="auditor")
    assert invitation.role == Role.AUDITOR


def test_the_agreement_report_lists_those_who_review_and_not_an_auditor(
    acme: Tenant, alice: Any, sam: Any, audrey: Any
) -> None:
    decide(acme, alice)

    page = signed_in(sam).get("/t/acme/supervision/agreement").content.decode()

    assert "alice" in page
    assert "audrey" not in page, "an auditor has no decisions and no exposure to report"
