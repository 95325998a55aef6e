"""Supervisors read the audit trail in the console; reading it is recorded too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from review.audit import services as audit_services
from review.audit.services import audit_record
from review.audit.views import PAGE
from review.models import AuditEvent, Membership, Tenant
from tests.review.supervision_support import decide, member
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def test_a_supervisor_reads_the_audit_trail_filtered_by_action_and_actor(
    acme: Tenant, globex: Tenant, alice: Any, sam: Any
) -> None:
    decision = decide(acme, alice, "ban", "grooming_indicators")
    audit_record(tenant=globex, actor=None, action="claim", target_type="queue_item",
                 target_id="globex-secret-target")  # fmt: skip
    client = signed_in(sam)

    everything = client.get("/t/acme/supervision/audit").content.decode()
    decisions = client.get("/t/acme/supervision/audit?action=decision&actor=alice").content.decode()
    nobody = client.get("/t/acme/supervision/audit?actor=zed").content.decode()

    assert "Claimed a queue item" in everything
    assert "globex-secret-target" not in everything, "only this tenant's chain"
    assert f"decision={decision.pk}" in decisions
    assert "Claimed a queue item" not in decisions.split('id="audit"')[1]
    assert "No events match" in nobody
    viewed = AuditEvent.objects.filter(tenant=acme, actor=sam, target_type="audit_trail")
    assert viewed.count() == 3


def test_the_audit_trail_pages_back_by_sequence(acme: Tenant, sam: Any) -> None:
    for n in range(PAGE + 5):
        audit_record(
            tenant=acme,
            actor=None,
            action="api_read",
            target_type="conversation",
            target_id=f"t{n}",
        )
    client = signed_in(sam)

    first = client.get("/t/acme/supervision/audit?action=api_read").content.decode()
    older = first.split("Older events")[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(f"/t/acme/supervision/audit{older.replace('&amp;', '&')}").content.decode()

    assert " t104</td>" in first
    assert " t5</td>" in first
    assert " t4</td>" not in first
    assert " t4</td>" in second
    assert " t0</td>" in second
    assert "Older events" not in second


def test_a_moderator_cannot_read_the_audit_trail(acme: Tenant, alice: Any) -> None:
    assert signed_in(alice).get("/t/acme/supervision/audit").status_code == 403


def test_the_agreement_page_shows_todays_exposure_per_member(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    decide(acme, alice)

    page = " ".join(signed_in(sam).get("/t/acme/supervision/agreement").content.decode().split())

    assert "Exposure today" in page
    assert '<td>alice <span class="muted">Moderator</span></td><td>1</td>' in page


def test_the_decision_log_links_to_the_supervisor_page(acme: Tenant, alice: Any, sam: Any) -> None:
    decision = decide(acme, alice)

    page = signed_in(sam).get("/t/acme/decisions").content.decode()

    assert f'href="/t/acme/supervision/conversations/{decision.conversation_id}"' in page


def test_the_audit_trail_filters_by_a_period_and_pages_back_within_it(
    acme: Tenant, sam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = ["2026-10-31", "2026-11-01", "2026-11-15", "2026-11-16"]
    for day in days:
        # Recorded as of that day: the trail is append-only (PostgreSQL refuses an UPDATE)
        # and each event's time is in its hash.
        at = datetime.fromisoformat(f"{day}T23:59:00").replace(tzinfo=UTC)
        monkeypatch.setattr(audit_services.timezone, "now", lambda at=at: at)
        audit_record(tenant=acme, actor=None, action="api_read",
                     target_type="conversation", target_id=f"on-{day}")  # fmt: skip
    monkeypatch.undo()
    client = signed_in(sam)

    page = client.get("/t/acme/supervision/audit?from=2026-11-01&to=2026-11-15").content.decode()
    since = client.get("/t/acme/supervision/audit?from=2026-11-16").content.decode()

    # Each event is found by its target id alone, however the target is drawn.
    shown = [day for day in days if f"on-{day}" in page]
    assert shown == ["2026-11-01", "2026-11-15"], "both days included"
    assert 'value="2026-11-01"' in page, "the filter keeps the dates"
    assert "on-2026-11-16" in since
    assert "on-2026-11-15" not in since
    viewed = AuditEvent.objects.filter(tenant=acme, actor=sam, target_type="audit_trail").first()
    assert viewed is not None
    assert (viewed.detail["from"], viewed.detail["to"]) == ("2026-11-01", "2026-11-15")


def test_the_audit_trail_refuses_a_bad_date_naming_its_field(acme: Tenant, sam: Any) -> None:
    audit_record(tenant=acme, actor=None, action="api_read", target_type="conversation",
                 target_id="kept-out")  # fmt: skip

    response = signed_in(sam).get("/t/acme/supervision/audit?to=11/15/2026")

    assert response.status_code == 400
    assert "to: &#x27;11/15/2026&#x27; is not a date; use YYYY-MM-DD" in response.content.decode()
    assert "kept-out" not in response.content.decode()


def test_the_audit_trail_names_its_targets_in_words_with_links(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    decision = decide(acme, alice, "escalate_ncmec")
    client = signed_in(sam)
    client.get(f"/t/acme/cases/{decision.case.pk}")
    eve = member(acme, "eve")
    Membership.objects.filter(user=eve).delete()
    audit_record(tenant=acme, actor=sam, action="member_remove", target_type="user",
                 target_id=str(eve.pk))  # fmt: skip

    page = client.get("/t/acme/supervision/audit").content.decode()

    assert f'<a href="/t/acme/cases/{decision.case.pk}">case {decision.case.reference}</a>' in page
    assert "user eve" in page
    assert f"user {eve.pk}<" not in page
