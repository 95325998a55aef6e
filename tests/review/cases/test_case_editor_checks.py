"""The case editor refuses what the ingest API refuses, next to the field and in words: an
offset or an incident time that cannot be stored (or would fail NCMEC's schema later) is a
field error, never a 500 or schema text, and pages and messages name fields by their labels,
not their keys, while the audit trail keeps the keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.utils import timezone as dj_timezone

from review.cases.editor import case_problems
from review.cases.flow import case_update
from review.cases.labels import case_field_label
from review.cases.ncmec.report import _in_words
from review.cases.ncmec.schema import SchemaError
from review.models import AuditAction, AuditEvent, Case, CaseStatus, ReviewError, Tenant
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.cases.test_cases import approved_referral, editor_post
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def _field_html(html: str, name: str) -> str:
    """The editor's box for the form field ``name``, with its errors and problem."""
    start = html.index(f'name="{name}"')
    end = html.find('<div class="field', start)
    return html[start : end if end != -1 else len(html)]


# -- defects 1 and 2: offsets and times the ingest API refuses -------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"incident_offset": "+25:00"}, "incident_offset"),
        ({"incident_offset": "+05:99"}, "incident_offset"),
        ({"incident_offset": "-23:59"}, "incident_offset"),
        ({"incident_offset": "+14:59"}, "incident_offset"),
        ({"incident_offset": "-14:01"}, "incident_offset"),
        ({"incident_local": "0001-01-01T00:30", "incident_offset": "+01:00"}, "incident_local"),
        ({"incident_local": "9999-12-31T23:30", "incident_offset": "-14:00"}, "incident_local"),
        ({"incident_local": "1989-12-31T23:59", "incident_offset": "Z"}, "incident_local"),
    ],
)
def test_an_offset_or_time_the_ingest_api_refuses_is_a_field_error_and_saves_nothing(
    acme: Tenant, alice: Any, overrides: dict[str, str], field: str
) -> None:
    case = escalate(acme, alice)
    before = (case.incident_at, case.incident_utc_offset_minutes)
    client = signed_in(alice)

    response = client.post(f"/t/acme/cases/{case.pk}", editor_post(**overrides))
    htmx = client.post(f"/t/acme/cases/{case.pk}", editor_post(**overrides), HTTP_HX_REQUEST="true")

    assert (response.status_code, htmx.status_code) == (400, 200)
    box = _field_html(response.content.decode(), field)
    assert 'class="errorlist"' in box, "the error is next to the field"
    assert "Traceback" not in response.content.decode()
    case.refresh_from_db()
    assert case.narrative == "", "nothing saved"
    assert (case.incident_at, case.incident_utc_offset_minutes) == before


@pytest.mark.parametrize(
    ("offset", "minutes"), [("+14:00", 840), ("-14:00", -840), ("+05:45", 345), ("Z", 0)]
)
def test_an_offset_within_the_rule_is_saved(
    acme: Tenant, alice: Any, offset: str, minutes: int
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}",
        editor_post(incident_local="2026-01-01T12:00", incident_offset=offset),
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.incident_utc_offset_minutes == minutes


def test_submit_refuses_a_bad_offset_in_words_before_saving(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    before = case.incident_utc_offset_minutes

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}/submit",
        {**editor_post(incident_offset="-23:59"), "with_draft": "1"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Not saved and not submitted" in html
    assert "-14:00" in _field_html(html, "incident_offset")
    assert "xs:dateTime" not in html
    assert "atomic type" not in html
    case.refresh_from_db()
    assert (case.status, case.narrative) == (CaseStatus.DRAFT, "")
    assert case.incident_utc_offset_minutes == before


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
        datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, seconds=30))),
        datetime(1989, 12, 31, 23, tzinfo=UTC),
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_case_update_refuses_what_the_ingest_api_refuses(
    acme: Tenant, alice: Any, at: datetime
) -> None:
    case = escalate(acme, alice)

    with pytest.raises(ReviewError) as refused:
        case_update(case=case, actor=alice, incident_at=at)

    assert refused.value.field == "incident_at"


def test_a_stored_offset_outside_the_rule_is_a_problem_in_words(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    Case.objects.filter(pk=case.pk).update(
        narrative="The adult asks for secrecy.",
        incident_at=dj_timezone.now() - timedelta(days=2),
        incident_utc_offset_minutes=-(23 * 60 + 59),
    )
    case.refresh_from_db()

    problems = case_problems(case)

    assert "-14:00" in problems["incident_at"]
    assert "xs:dateTime" not in problems["incident_at"]


# -- defect 3: only the error about what was typed -------------------------------------------


def test_a_bad_age_shows_only_the_error_about_what_was_typed(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    Case.objects.filter(pk=case.pk).update(victim_details={"age": 44})

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}", editor_post(victim_age="-3"))

    html = response.content.decode()
    assert response.status_code == 400
    box = _field_html(html, "victim_age")
    assert "greater than or equal to 0" in box
    assert "An age of 44" not in html, "the stored age is not what was typed"
    case.refresh_from_db()
    assert (case.narrative, case.victim_details["age"]) == ("", 44)


# -- defect 4: labels, not keys --------------------------------------------------------------


def test_the_missing_fields_are_listed_by_their_labels(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    Case.objects.filter(pk=case.pk).update(victim_details={"age": 44})

    html = signed_in(alice).get(f"/t/acme/cases/{case.pk}").content.decode()

    summary = re.search(r"Before it can go to a supervisor, complete:(.*?)</p>", html, re.S)
    assert summary is not None
    assert "Narrative" in summary.group(1)
    assert "Victim&#x27;s age" in summary.group(1)
    assert "victim_details" not in summary.group(1)
    assert "incident_at" not in summary.group(1)
    assert 'data-problem="victim_details.age"' in html, "the problem stays next to its field"


def test_a_refused_submit_names_the_fields_by_their_labels(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(f"/t/acme/cases/{case.pk}/submit", follow=True)

    html = response.content.decode()
    assert "is not complete" in html
    assert "Narrative: Write the narrative" in html
    assert "complete. narrative:" not in html
    assert "incident_at:" not in html


def test_the_history_names_edited_fields_by_their_labels(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    client = signed_in(alice)
    client.post(f"/t/acme/cases/{case.pk}", editor_post())

    html = client.get(f"/t/acme/cases/{case.pk}").content.decode()

    history = html[html.index("<h2>History</h2>") :]
    assert "Narrative" in history
    assert "Incident date and time" in history
    assert "Reported user&#x27;s device ids" in history
    assert "reported_details" not in history
    assert "incident_at" not in history
    edit = AuditEvent.objects.get(action=AuditAction.CASE_EDIT, target_id=str(case.pk))
    assert "incident_at" in edit.detail["fields"], "the audit trail keeps the keys"
    assert "reported_details.device_ids" in edit.detail["fields"]


def test_a_refused_delivery_names_the_field_by_its_label_and_marks_it(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    tomorrow = dj_timezone.localdate() + timedelta(days=2)

    response = signed_in(sam).post(
        f"/t/acme/cases/{case.pk}/deliver",
        {"agency": "Metro Police", "reference": "MP-1", "delivered_on": tomorrow.isoformat()},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Delivered on: is in the future" in html
    assert "delivered_on:" not in html
    assert "is in the future" in _field_html(html, "delivered_on")


def test_a_delivery_form_error_names_the_field_by_its_label(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    response = signed_in(sam).post(
        f"/t/acme/cases/{case.pk}/deliver",
        {"agency": "Metro Police", "reference": "MP-1", "delivered_on": "not a date"},
    )

    html = response.content.decode()
    assert "Delivered on: Enter a valid date." in html
    assert "delivered_on:" not in html


def test_a_schema_type_error_is_said_without_the_schema_words() -> None:
    error = SchemaError(
        "/report/incidentSummary/incidentDateTime",
        "incidentDateTime",
        "Element 'incidentDateTime': '2026-01-01T12:00:00-23:59' is not a valid value of the "
        "atomic type 'xs:dateTime'.",
    )

    problem = _in_words(error)

    assert (problem.field, problem.label) == ("incident_at", "Incident date and time")
    assert problem.message == "'2026-01-01T12:00:00-23:59' is not a valid dateTime"


def test_a_problem_of_a_box_that_holds_another_value_waits_for_the_save(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    Case.objects.filter(pk=case.pk).update(victim_details={"age": 44})

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}", editor_post(victim_age="13", incident_offset="+25:00")
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "An age of 44" not in html, "the box holds 13: the stored 44 is not what it shows"
    assert 'name="victim_age" value="13"' in html


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("narrative", "Narrative"),
        ("incident_at", "Incident date and time"),
        ("victim_details.age", "Victim's age"),
        ("reported_details.device_ids", "Reported user's device ids"),
        ("reported_details.ip_events[2].at", "Reported user's IP capture events, line 3"),
        ("reported_details.estimated_location.country", "Reported user's country"),
        ("reported_details.account_created_at", "Reported user's account created at"),
        ("delivered_on", "Delivered on"),
    ],
)
def test_case_field_label(path: str, label: str) -> None:
    assert case_field_label(path) == label


# -- what a report must not state -------------------------------------------------------


def test_an_email_that_is_not_one_is_refused_naming_the_field(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    with pytest.raises(ReviewError, match="'notanemail' is not an email address") as refused:
        case_update(case=case, actor=alice, reported_details={"email": "notanemail"})

    assert refused.value.field == "reported_details.email"


def test_an_ip_event_in_the_future_is_refused_naming_the_line(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)
    events = [
        {"ip": "203.0.113.7", "at": "2026-11-01T18:00:00+01:00", "event": "login"},
        {"ip": "203.0.113.7", "at": "2099-11-01T18:00:00+01:00", "event": "login"},
    ]

    with pytest.raises(ReviewError, match="is in the future") as refused:
        case_update(case=case, actor=alice, reported_details={"ip_events": events})

    assert refused.value.field == "reported_details.ip_events[1].at"


def test_an_age_that_contradicts_the_date_of_birth_stops_the_case(acme: Tenant, alice: Any) -> None:
    case = case_update(
        case=escalate(acme, alice),
        actor=alice,
        narrative="The adult asks the child to keep the chat secret.",
        incident_at=datetime(2026, 11, 1, 18, 1, tzinfo=UTC),
        victim_details={"age": 12, "date_of_birth": "1980-01-01"},
    )

    assert case_problems(case)["victim_details.age"] == (
        "An age of 12 does not fit the date of birth 1980-01-01 (46 at the incident); correct "
        "one of them, or leave the one you are unsure of empty."
    )

    # Thirteen on the incident's day, or twelve by a birthday since: both fit.
    for born in ("2013-10-01", "2014-01-15"):
        case = case_update(case=case, actor=alice, victim_details={"date_of_birth": born})
        assert "victim_details.age" not in case_problems(case), born
