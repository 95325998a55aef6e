"""The decision log: sam the supervisor filters it by period and conversation and reads the
moderators' notes, on the page and in the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from review.models import AuditEvent, Decision, Tenant
from tests.review.supervision_support import decide
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def _decided_on(decision: Decision, day: str) -> None:
    at = datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)
    Decision.objects.filter(pk=decision.pk).update(created_at=at)


def _conversations(page: str, *ids: str) -> list[str]:
    return [i for i in ids if f">{i}</a>" in page]


def _csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_decision_log_filters_by_a_period_both_days_included(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    days = ["2026-10-31", "2026-11-01", "2026-11-15", "2026-11-16"]
    decisions = [decide(acme, alice) for _ in days]
    for decision, day in zip(decisions, days, strict=True):
        _decided_on(decision, day)
    ids = [d.conversation.external_id for d in decisions]
    client = signed_in(sam)

    page = client.get("/t/acme/decisions?from=2026-11-01&to=2026-11-15").content.decode()
    since = client.get("/t/acme/decisions?from=2026-11-15").content.decode()
    until = client.get("/t/acme/decisions?to=2026-10-31").content.decode()
    export = _csv(client.get("/t/acme/decisions?from=2026-11-01&to=2026-11-15&format=csv"))

    assert _conversations(page, *ids) == ids[1:3]
    assert _conversations(since, *ids) == ids[2:]
    assert _conversations(until, *ids) == ids[:1]
    assert sorted(r["conversation"] for r in export) == sorted(ids[1:3])


def test_the_decision_log_filters_by_conversation(acme: Tenant, alice: Any, sam: Any) -> None:
    first, second = decide(acme, alice), decide(acme, alice)
    wanted = second.conversation.external_id
    client = signed_in(sam)

    page = client.get(f"/t/acme/decisions?conversation={wanted}").content.decode()
    export = _csv(client.get(f"/t/acme/decisions?conversation={wanted}&format=csv"))

    assert _conversations(page, first.conversation.external_id, wanted) == [wanted]
    assert f'value="{wanted}"' in page, "the filter keeps what sam typed"
    assert [r["conversation"] for r in export] == [wanted]


def test_a_bad_date_names_its_field_and_lists_nothing(acme: Tenant, alice: Any, sam: Any) -> None:
    decision = decide(acme, alice)
    client = signed_in(sam)

    bad = client.get("/t/acme/decisions?from=yesterday")
    backwards = client.get("/t/acme/decisions?from=2026-11-02&to=2026-11-01&format=csv")

    assert bad.status_code == 400
    assert "from: &#x27;yesterday&#x27; is not a date" in bad.content.decode()
    assert decision.conversation.external_id not in bad.content.decode()
    assert backwards.status_code == 400, "no export of the wrong rows either"
    assert "to: the period ends before it starts" in backwards.content.decode()


def test_the_notes_are_in_the_decision_log_and_its_csv_and_a_formula_stays_text(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    decide(acme, alice, notes="asked for photos twice, see m2")
    decide(acme, alice, notes="=HYPERLINK(1)")
    client = signed_in(sam)

    page = client.get("/t/acme/decisions").content.decode()
    export = _csv(client.get("/t/acme/decisions?format=csv"))

    assert "asked for photos twice, see m2" in page
    notes = sorted(r["notes"] for r in export)
    assert notes == ["'=HYPERLINK(1)", "asked for photos twice, see m2"]


def test_the_export_records_its_filters(acme: Tenant, alice: Any, sam: Any) -> None:
    decision = decide(acme, alice)
    wanted = decision.conversation.external_id

    _csv(signed_in(sam).get(f"/t/acme/decisions?conversation={wanted}&from=2026-01-01&format=csv"))

    event = AuditEvent.objects.get(tenant=acme, action="export", actor=sam)
    assert event.detail["conversation"] == wanted
    assert (event.detail["from"], event.detail["rows"]) == ("2026-01-01", 1)
