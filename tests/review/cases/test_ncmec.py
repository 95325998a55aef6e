"""NCMEC CyberTipline: the report XML, the problems a moderator sees, and the submission,
run against the local CyberTipline, a real HTTP server started on a free loopback port."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from review import tasks
from review.cases.ncmec import schema
from review.cases.ncmec.client import CyberTiplineClient, CyberTiplineError
from review.cases.ncmec.localserver import CyberTiplineServer
from review.cases.ncmec.report import ncmec_problems, report_xml
from review.cases.ncmec.services import NcmecRetryLater, case_submit_ncmec
from review.cases.ncmec.transcript import transcript_build, transcript_viewed_whole
from review.cases.services import case_approve, case_transition
from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    Message,
    NcmecState,
    NcmecSubmission,
    ReviewError,
    Role,
    Tenant,
)
from tests.factories import MembershipFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db
TEXTS = ("hey how was school", "dont tell your mom we talk", "send me a pic")
REPORT_ORDER = [
    "incidentSummary",
    "internetDetails",
    "reporter",
    "personOrUserReported",
    "victim",
    "additionalInfo",
]


# --- actors and the server ------------------------------------------------------------------


@pytest.fixture
def cybertipline() -> Iterator[CyberTiplineServer]:
    """The local CyberTipline on a free loopback port."""
    server = CyberTiplineServer(("127.0.0.1", 0), username="acme-esp", password="s3cret").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def ncmec_settings(settings: Any, cybertipline: CyberTiplineServer) -> None:
    reporter_settings(settings, cybertipline.url)


def reporter_settings(settings: Any, url: str) -> None:
    """Acme's CyberTipline account and reporter, with the CyberTipline at ``url``."""
    settings.NCMEC_URL = url
    settings.NCMEC_USERNAME = "acme-esp"
    settings.NCMEC_PASSWORD = "s3cret"
    settings.NCMEC_REPORTER_FIRST_NAME = "Rita"
    settings.NCMEC_REPORTER_LAST_NAME = "Reyes"
    settings.NCMEC_REPORTER_EMAIL = "safety@acme.example"
    settings.NCMEC_REPORTER_PHONE = "+1 555 0100"
    settings.ARTEMIS_ESP_NAME = "Acme Chat Inc."


def quick_client(server: CyberTiplineServer, *, timeout: float = 5.0, retries: int = 1) -> Any:
    return CyberTiplineClient(
        url=server.url,
        username="acme-esp",
        password="s3cret",
        timeout=timeout,
        connect_timeout=2.0,
        retries=retries,
        backoff=0.01,
    )


def approved_case(tenant: Tenant, author: Any, supervisor: Any, **fields: Any) -> Case:
    """Alice's escalation, approved by Sam, with what the editor would have added."""
    case = escalate(tenant, author)
    conversation = case.conversation
    conversation.platform, conversation.channel = "Acme Chat", "dm"
    conversation.save()
    for name, value in fields.items():
        setattr(case, name, value)
    case.save()
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=author)
    return case_approve(case=case, supervisor=supervisor)


def children(xml: bytes, path: str = ".") -> list[str]:
    return [element.tag for element in etree.fromstring(xml).find(path)]


def submissions(server: CyberTiplineServer) -> list[str]:
    return [path for method, path in server.state.requests if path == "submit"]


# --- the report -----------------------------------------------------------------------------


def test_a_minimal_report_validates_and_follows_the_schema_order(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)

    xml = report_xml(case)

    assert schema.validate(xml, root="report") == []
    assert children(xml) == REPORT_ORDER
    assert children(xml, "incidentSummary") == [
        "incidentType",
        "platform",
        "incidentDateTime",
        "incidentDateTimeDescription",
    ]
    tree = etree.fromstring(xml)
    assert tree.findtext("incidentSummary/incidentType") == (
        "Online Enticement of Children for Sexual Acts"
    )
    # The incident time carries its own offset (+01:00), as 2258A(b)(2) asks.
    assert tree.findtext("incidentSummary/incidentDateTime").endswith("+01:00")
    assert tree.findtext("reporter/reportingPerson/email") == "safety@acme.example"
    assert tree.findtext("internetDetails/chatImIncident/chatClient") == "Acme Chat"
    assert tree.findtext("internetDetails/chatImIncident/chatRoomName") == "dm"
    assert tree.findtext("victim/victimPerson/age") == "13"
    assert ncmec_problems(case) == []


def test_a_full_report_carries_the_reported_users_events_and_the_annotations(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam, annotations=["sextortion", "csamSolicitation"])
    case.reported_details |= {
        "screen_name": "jay_2010",
        "display_name": "Jay",
        "email": "jay@example.net",
        "ip_events": [
            {"ip": "203.0.113.7", "at": "2026-11-01T18:00:00+01:00", "event": "login"},
            {"ip": "2001:db8::1", "at": "2026-11-02T09:00:00-05:00", "event": "message"},
        ],
        "device_ids": [{"type": "IDFA", "value": "6D92078A-8246-4BA4-AE5B"}, "android-77"],
        "estimated_location": {"country": "us", "region": "CA", "city": "Fresno"},
    }
    case.save()

    xml = report_xml(case)

    assert schema.validate(xml, root="report") == []
    tree = etree.fromstring(xml)
    reported = tree.find("personOrUserReported")
    assert [e.tag for e in reported] == [
        "personOrUserReportedPerson",
        "espIdentifier",
        "espService",
        "screenName",
        "displayName",
        "ipCaptureEvent",
        "ipCaptureEvent",
        "deviceId",
        "deviceId",
        "estimatedLocation",
    ]
    first_ip = reported.find("ipCaptureEvent")
    assert [first_ip.findtext(t) for t in ("ipAddress", "eventName", "dateTime")] == [
        "203.0.113.7",
        "Login",
        "2026-11-01T18:00:00+01:00",
    ]
    assert reported.findall("ipCaptureEvent")[1].findtext("eventName") == "Other"
    assert reported.findtext("estimatedLocation/countryCode") == "US"
    # Annotations live in the incident summary, before the incident time.
    assert children(xml, "incidentSummary")[2:4] == ["reportAnnotations", "incidentDateTime"]
    assert children(xml, "incidentSummary/reportAnnotations") == ["sextortion", "csamSolicitation"]


def test_an_urgent_case_asks_ncmec_for_high_priority(acme: Tenant, alice: Any, sam: Any) -> None:
    case = approved_case(acme, alice, sam, urgency_reason="A meeting is planned for tomorrow.")

    xml = report_xml(case)

    assert schema.validate(xml, root="report") == []
    summary = children(xml, "incidentSummary")
    assert summary[:3] == ["incidentType", "platform", "escalateToHighPriority"]
    assert etree.fromstring(xml).findtext("incidentSummary/escalateToHighPriority") == (
        "A meeting is planned for tomorrow."
    )


def test_a_child_of_unknown_age_is_an_intended_recipient_with_no_age(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)
    case.victim_details = {**case.victim_details, "age": None, "date_of_birth": None}
    case.save()

    xml = report_xml(case)

    assert schema.validate(xml, root="report") == []
    assert "victim" not in children(xml)
    assert children(xml)[4] == "intendedRecipient"
    recipient = etree.fromstring(xml).find("intendedRecipient")
    assert recipient.findtext("espIdentifier") == "kid-0"
    assert recipient.find(".//age") is None
    assert "no age or date of birth" in recipient.findtext("additionalInfo")


def test_a_child_known_only_by_date_of_birth_is_a_victim_with_the_age_at_the_incident(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)
    born = (case.incident_at - timedelta(days=365 * 12 + 30)).date()
    case.victim_details = {**case.victim_details, "age": None, "date_of_birth": born.isoformat()}
    case.save()

    tree = etree.fromstring(report_xml(case))

    assert tree.findtext("victim/victimPerson/age") == "12"
    assert tree.findtext("victim/victimPerson/dateOfBirth") == born.isoformat()


def test_problems_name_the_field_in_words_a_moderator_understands(
    acme: Tenant, alice: Any, sam: Any, settings: Any
) -> None:
    settings.NCMEC_REPORTER_EMAIL = ""
    case = approved_case(acme, alice, sam)
    case.incident_at = None
    case.reported_details |= {"ip_events": [{"ip": "203.0.113.7", "at": "2026-11-01 18:00"}]}
    case.save()

    problems = {p.field: str(p) for p in ncmec_problems(case)}

    assert problems["NCMEC_REPORTER_EMAIL"] == (
        "Reporter email (setting NCMEC_REPORTER_EMAIL): is not set; NCMEC requires the "
        "reporting person's email"
    )
    assert problems["incident_at"] == "Incident date and time: is missing"
    bad_time = problems["reported_details.ip_events[0].at"]
    assert "is not a date and time with a UTC offset" in bad_time


def test_a_control_character_the_report_cannot_carry_is_a_problem_naming_its_field(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    # Pasted from a word processor (a vertical tab), or sent by the platform in a screen
    # name: lxml cannot build the report, and the case page that lists its problems broke.
    case = approved_case(acme, alice, sam)
    case.narrative += "\x0bsee message 2"
    case.reported_details |= {"screen_name": "jay\x07"}
    case.save()

    problems = {p.field: str(p) for p in ncmec_problems(case)}
    page = signed_in(alice).get(f"/t/acme/cases/{case.pk}")

    assert set(problems) == {"narrative", "reported_details.screen_name"}
    assert problems["narrative"] == (
        "Narrative: holds a control character (U+000B) that a report cannot carry; remove it"
    )
    assert "U+0007" in problems["reported_details.screen_name"]
    assert page.status_code == 200


def test_a_schema_error_is_translated_and_points_at_its_field(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)
    case.reported_details |= {"estimated_location": {"country": "XX"}}
    case.save()

    problems = ncmec_problems(case)

    assert [(p.field, p.label, p.message) for p in problems] == [
        (
            "reported_details.estimated_location",
            "Reported user's estimated location",
            "'XX' is not a two-letter ISO 3166 country code",
        )
    ]


def test_the_transcript_has_ids_utc_times_offsets_and_senders(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)

    transcript = transcript_build(case)
    document = json.loads(transcript.content)

    first = document["messages"][0]
    assert set(first) == {"id", "sent_at_utc", "utc_offset", "sent_at_local", "sender", "text"}
    assert (first["id"], first["utc_offset"], first["sender"]) == ("m0", "+01:00", "adult-0")
    assert first["sent_at_utc"].endswith("Z")
    assert first["sent_at_local"].endswith("+01:00")
    assert [m["text"] for m in document["messages"]] == list(TEXTS)
    assert transcript_build(case).content == transcript.content, "same messages, same bytes"


# --- who saw the whole transcript -----------------------------------------------------------


def test_file_viewed_by_esp_needs_a_person_to_see_every_message_hidden_ones_too(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)
    item = case.decision.queue_item
    hidden = Message.objects.get(conversation=case.conversation, external_id="m2")
    browser = signed_in(alice)

    assert not transcript_viewed_whole(case), "nobody has looked yet"
    browser.get(f"/t/acme/items/{item.pk}")
    assert not transcript_viewed_whole(case), "the media request stayed blurred"
    browser.post(f"/t/acme/items/{item.pk}/messages/{hidden.pk}/reveal")
    assert transcript_viewed_whole(case)

    Message.objects.create(
        conversation=case.conversation, external_id="m3", sender=hidden.sender,
        sent_at=hidden.sent_at + timedelta(minutes=5), utc_offset_minutes=60,
        text="are you there", position=3,
    )  # fmt: skip
    assert not transcript_viewed_whole(case), "a message nobody has seen arrived since"


# --- the client against the server ----------------------------------------------------------


def test_the_server_refuses_wrong_credentials_with_a_clear_message(
    cybertipline: CyberTiplineServer,
) -> None:
    client = CyberTiplineClient(url=cybertipline.url, username="acme-esp", password="wrong")

    with pytest.raises(CyberTiplineError, match=r"refused the credentials .*NCMEC_PASSWORD"):
        client.status()


def test_an_invalid_report_is_refused_with_4100_and_the_reason(
    cybertipline: CyberTiplineServer,
) -> None:
    client = quick_client(cybertipline)

    with pytest.raises(CyberTiplineError) as refused:
        client.submit(b"<report><incidentSummary/></report>")

    assert refused.value.response_code == 4100
    assert "rejected the document as invalid against its schema (code 4100)" in str(refused.value)
    assert "incidentType" in str(refused.value), "NCMEC's own reason is passed on"
    assert cybertipline.state.reports == {}


def test_finishing_a_report_twice_answers_5102(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    client = quick_client(cybertipline)
    report_id = client.submit(report_xml(approved_case(acme, alice, sam)))

    receipt = client.finish(report_id)
    with pytest.raises(CyberTiplineError, match=r"already finished \(code 5102\)") as again:
        client.finish(report_id)

    assert receipt.report_id == report_id
    assert again.value.response_code == 5102
    with pytest.raises(CyberTiplineError, match="code 5102"):
        client.retract(report_id)


def test_every_answer_of_the_local_server_validates_against_the_schema(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    client = quick_client(cybertipline)
    report_id = client.submit(report_xml(approved_case(acme, alice, sam)))
    upload = client.upload(report_id, "t.json", b"{}", "application/json")
    answers = [client.status(), upload, client.finish(report_id)]

    for answer in answers:
        assert schema.validate(answer.raw.encode()) == []
    assert upload.md5 == hashlib.md5(b"{}", usedforsecurity=False).hexdigest()


# --- the submission -------------------------------------------------------------------------


def test_an_approved_case_is_reported_once_and_preserved_from_the_receipt(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    [report] = cybertipline.state.finished()
    assert case.status == CaseStatus.PRESERVED
    assert case.submission_reference == str(report.report_id)
    assert case.ncmec_submission.report_id == case.submission_reference
    assert case.preserve_until == case.submitted_at.date() + timedelta(days=365)
    [stored] = report.files.values()
    assert case.ncmec_submission.file_ids == [stored.file_id]
    assert "<reportDoneResponse>" in case.ncmec_submission.receipt
    assert stored.md5 == transcript_build(case).md5
    details = etree.fromstring(stored.details)
    assert details.findtext("fileViewedByEsp") == "false", "nobody viewed it in the console"
    assert details.find("originalFileName") is None, "the platform made this file"
    steps = list(
        AuditEvent.objects.filter(tenant=acme, action=AuditAction.NCMEC)
        .order_by("sequence")
        .values_list("detail", flat=True)
    )
    assert [(d["step"], d["ok"]) for d in steps] == [
        ("submit", True), ("upload", True), ("fileinfo", True), ("finish", True),
    ]  # fmt: skip
    assert all(d.get("report_id") == case.submission_reference for d in steps)
    trail = json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert not any(text in trail for text in TEXTS), "no message text in the audit trail"
    # Running it again sends nothing.
    case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))
    assert len(submissions(cybertipline)) == 1


def test_the_file_details_say_viewed_when_a_person_saw_the_whole_transcript(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    item = case.decision.queue_item
    hidden = Message.objects.get(conversation=case.conversation, external_id="m2")
    browser = signed_in(sam)
    browser.get(f"/t/acme/items/{item.pk}")
    browser.post(f"/t/acme/items/{item.pk}/messages/{hidden.pk}/reveal")

    case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    [report] = cybertipline.state.finished()
    [stored] = report.files.values()
    assert etree.fromstring(stored.details).findtext("fileViewedByEsp") == "true"


def test_a_validation_refusal_is_surfaced_and_leaves_the_case_approved(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    cybertipline.state.fail("submit", code=4100)

    with pytest.raises(ReviewError, match="NCMEC submit: NCMEC rejected the document as invalid"):
        case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    case.refresh_from_db()
    submission = NcmecSubmission.objects.get(case=case)
    assert case.status == CaseStatus.APPROVED
    assert not case.submission_reference
    assert submission.state == NcmecState.FAILED
    assert "code 4100" in submission.last_error
    assert AuditEvent.objects.filter(
        action=AuditAction.NCMEC, detail__step="submit", detail__response_code=4100
    ).exists()


def test_a_failed_upload_retracts_the_report_and_a_new_attempt_starts_clean(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    cybertipline.state.fail("upload")

    with pytest.raises(ReviewError, match=r"NCMEC upload: NCMEC had an internal error .*retracted"):
        case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    submission = NcmecSubmission.objects.get(case=case)
    [first] = cybertipline.state.reports.values()
    assert first.retracted
    assert not first.finished
    assert submission.retracted_report_ids == [str(first.report_id)]
    assert submission.report_id == ""
    assert submission.state == NcmecState.FAILED
    assert AuditEvent.objects.filter(
        action=AuditAction.NCMEC, detail__step="retract", detail__ok=True
    ).exists()

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    [finished] = cybertipline.state.finished()
    assert case.submission_reference == str(finished.report_id) != str(first.report_id)


def test_a_submit_timeout_then_success_never_makes_a_second_report(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    """NCMEC opens the first report but answers too late; the client cannot know. The
    service submits again, finishes only the report whose id it holds, and the unanswered
    one, never finished, is deleted by NCMEC after 24 hours."""
    case = approved_case(acme, alice, sam)
    cybertipline.state.delay("submit", 3.0)

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline, timeout=1.0))

    reports = cybertipline.state.reports
    assert len(submissions(cybertipline)) == 2
    [finished] = cybertipline.state.finished()
    assert case.submission_reference == str(finished.report_id)
    [orphan] = [r for r in reports.values() if not r.finished]
    assert orphan.files == {}, "nothing was ever sent to the unanswered report"
    assert NcmecSubmission.objects.get(case=case).unanswered_submits == 1
    assert AuditEvent.objects.filter(
        action=AuditAction.NCMEC, detail__step="submit", detail__maybe_delivered=True
    ).exists()

    later = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    cybertipline.state.clock = lambda: later
    assert cybertipline.state.expire_unfinished() == [orphan.report_id]
    assert list(cybertipline.state.reports) == [finished.report_id]


def test_a_lost_finish_answer_is_settled_by_5102_without_a_second_report(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    cybertipline.state.delay("finish", 3.0)

    with pytest.raises(NcmecRetryLater, match="Submitting again completes it"):
        case_submit_ncmec(
            case=case, actor=sam, client=quick_client(cybertipline, timeout=1.0, retries=0)
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED, "not recorded without NCMEC's answer"

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    [report] = cybertipline.state.reports.values()
    assert report.finished
    assert case.submission_reference == str(report.report_id)
    assert case.status == CaseStatus.PRESERVED
    assert "5102" in case.ncmec_submission.receipt
    assert len(submissions(cybertipline)) == 1


def test_a_rerun_after_a_crash_resumes_the_open_report_instead_of_submitting_again(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    # The worker died right after committing the report id NCMEC returned.
    report_id = quick_client(cybertipline).submit(report_xml(case))
    NcmecSubmission.objects.create(
        tenant=acme, case=case, state=NcmecState.RUNNING, report_id=report_id,
        lease_token="dead-worker", lease_until=datetime.now(UTC) - timedelta(minutes=1),
    )  # fmt: skip

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    assert case.submission_reference == report_id
    assert len(submissions(cybertipline)) == 1
    assert [r.report_id for r in cybertipline.state.finished()] == [int(report_id)]


def test_an_unreachable_cybertipline_opens_nothing_and_is_retried_later(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_case(acme, alice, sam)
    closed = CyberTiplineServer(("127.0.0.1", 0))
    url = closed.url
    closed.server_close()  # nothing listens on that port any more
    client = CyberTiplineClient(
        url=url, username="acme-esp", password="s3cret", retries=2, backoff=0.01
    )

    with pytest.raises(NcmecRetryLater, match="the connection failed after 3 attempt"):
        case_submit_ncmec(case=case, actor=sam, client=client)

    submission = NcmecSubmission.objects.get(case=case)
    assert submission.report_id == ""
    assert submission.unanswered_submits == 0, "a refused connection never reached NCMEC"
    assert submission.lease_token == "", "the next run is free to start"


def test_only_an_approved_ncmec_case_can_be_submitted(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    draft = escalate(acme, alice)
    with pytest.raises(ReviewError, match="only an approved case"):
        case_submit_ncmec(case=draft, actor=sam, client=quick_client(cybertipline))
    assert cybertipline.state.requests == []


# --- retracting through the reporting target ------------------------------------------------


def open_report(case: Case, server: CyberTiplineServer) -> str:
    """A report NCMEC opened for the case, left unfinished by a run that stopped."""
    report_id = quick_client(server).submit(report_xml(case))
    NcmecSubmission.objects.create(
        tenant=case.tenant, case=case, state=NcmecState.FAILED, report_id=report_id
    )
    return report_id


def test_a_supervisor_retracts_an_open_report_and_the_next_submission_starts_clean(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    report_id = open_report(case, cybertipline)

    case.reporting_target.retract(case=case, actor=sam)

    [withdrawn] = cybertipline.state.reports.values()
    assert withdrawn.retracted
    assert not withdrawn.finished
    submission = NcmecSubmission.objects.get(case=case)
    assert (submission.report_id, submission.retracted_report_ids) == ("", [report_id])
    assert f"report {report_id} was retracted" in submission.last_error
    assert AuditEvent.objects.filter(
        action=AuditAction.NCMEC, detail__step="retract", detail__report_id=report_id,
        detail__ok=True,
    ).exists()  # fmt: skip

    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    [finished] = cybertipline.state.finished()
    assert case.submission_reference == str(finished.report_id) != report_id


def test_a_finished_report_is_never_retracted(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    case = case_submit_ncmec(case=case, actor=sam, client=quick_client(cybertipline))

    with pytest.raises(ReviewError, match="cannot be retracted"):
        case.reporting_target.retract(case=case, actor=sam)

    [report] = cybertipline.state.reports.values()
    assert report.finished
    assert not report.retracted
    assert NcmecSubmission.objects.get(case=case).state == NcmecState.FINISHED


def test_a_moderator_cannot_retract_a_report(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    report_id = open_report(case, cybertipline)

    with pytest.raises(ReviewError, match="only a supervisor"):
        case.reporting_target.retract(case=case, actor=alice)

    assert not cybertipline.state.reports[int(report_id)].retracted
    assert NcmecSubmission.objects.get(case=case).report_id == report_id


# --- the page and the task ------------------------------------------------------------------


def test_a_supervisor_queues_the_report_and_the_worker_sends_it(
    acme: Tenant,
    alice: Any,
    sam: Any,
    cybertipline: CyberTiplineServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = approved_case(acme, alice, sam)
    browser = signed_in(sam)
    page = browser.get(f"/t/acme/cases/{case.pk}/ncmec")
    assert "Submit to NCMEC" in page.content.decode()

    with django_capture_on_commit_callbacks() as queued:
        response = browser.post(f"/t/acme/cases/{case.pk}/ncmec", {"confirm": "yes"})
    assert response.status_code == 302
    assert len(queued) == 1
    assert NcmecSubmission.objects.get(case=case).state == NcmecState.QUEUED
    tasks.submit_ncmec(acme.pk, case.pk, sam.pk)  # what the worker runs

    case.refresh_from_db()
    assert case.status == CaseStatus.PRESERVED
    panel = browser.get(f"/t/acme/cases/{case.pk}/ncmec", HTTP_HX_REQUEST="true")
    assert case.submission_reference in panel.content.decode()
    assert "Submit to NCMEC" not in panel.content.decode()


def test_the_polling_panel_reloads_the_whole_case_page_once_the_report_is_sent(
    acme: Tenant,
    alice: Any,
    sam: Any,
    cybertipline: CyberTiplineServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = approved_case(acme, alice, sam)
    browser = signed_in(sam)
    with django_capture_on_commit_callbacks():
        browser.post(f"/t/acme/cases/{case.pk}/ncmec", {"confirm": "yes"})
    poll = f"/t/acme/cases/{case.pk}/ncmec?poll=1"

    waiting = browser.get(poll, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in waiting.headers, "still sending: only the panel is swapped"
    assert 'hx-trigger="every 3s"' in waiting.content.decode()
    tasks.submit_ncmec(acme.pk, case.pk, sam.pk)

    done = browser.get(poll, HTTP_HX_REQUEST="true")
    assert done.headers["HX-Refresh"] == "true", "the status and preservation date change too"


def test_a_moderator_cannot_submit_a_case(
    acme: Tenant, alice: Any, sam: Any, cybertipline: CyberTiplineServer
) -> None:
    case = approved_case(acme, alice, sam)
    browser = signed_in(alice)

    response = browser.post(f"/t/acme/cases/{case.pk}/ncmec", {"confirm": "yes"})

    assert response.status_code == 403
    assert not NcmecSubmission.objects.filter(case=case).exists()
    with pytest.raises(ReviewError, match="only a supervisor or an admin"):
        case_submit_ncmec(case=case, actor=alice, client=quick_client(cybertipline))
    assert cybertipline.state.requests == []


def test_another_tenants_case_answers_404(acme: Tenant, globex: Tenant, sam: Any) -> None:
    gina = MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gina").user
    theirs = escalate(globex, gina)
    browser = signed_in(sam)

    assert browser.post(f"/t/acme/cases/{theirs.pk}/ncmec", {"confirm": "yes"}).status_code == 404
    assert browser.get(f"/t/acme/cases/{theirs.pk}/ncmec").status_code == 404
    assert not NcmecSubmission.objects.exists()
