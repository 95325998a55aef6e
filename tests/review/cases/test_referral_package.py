"""The law-enforcement referral package: a signed ZIP a person can hand over, checked by
`manage.py verify_package`, downloaded only by supervisors and admins, every download
audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import stat
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone

from review.audit.services import audit_verify, canonical_hash
from review.cases.flow import case_record_delivery
from review.cases.referral import signing
from review.cases.referral.package import referral_package_build
from review.cases.referral.pdf import drawable
from review.cases.referral.services import referral_package_download
from review.cases.referral.verify import package_verify
from review.cases.services import case_approve, case_transition
from review.decisions.second_review import second_review_claim_next, second_review_record
from review.decisions.services import message_reveal
from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    Message,
    NcmecState,
    NcmecSubmission,
    Participant,
    ReviewError,
    Role,
    Tenant,
)
from review.tenancy.selectors import membership_get
from tests.factories import MembershipFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.supervision_support import member, sample_every_decision
from tests.review_support import FORMULAS, signed_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
EVERY_FILE = {
    "README.txt",
    "cover.pdf",
    "narrative.pdf",
    "case.json",
    "indicators.json",
    "transcript.pdf",
    "transcript.json",
    "transcript.csv",
    "participants.json",
    "participants.csv",
    "ip_events.csv",
    "devices.csv",
    "chain_of_custody.json",
    "chain_of_custody.csv",
    "signing_public_key.pem",
}
# A message the platform sent from a -05:30 offset, in Cyrillic, Chinese and English.
FAR_AWAY_TEXT = "ты где? 你好 ok see you"


@pytest.fixture
def provider_key(settings: Any) -> Any:
    """The provider's Ed25519 signing key and legal contact, as production sets them."""
    key = signing.new_private_key()
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = signing.private_key_pem(key)
    settings.ARTEMIS_PROVIDER_NAME = "Acme Chat, Inc."
    settings.ARTEMIS_LEGAL_PROCESS_CONTACT = "Legal Response Team\\nlegal@acme.example"
    return key


@pytest.fixture
def published_key(provider_key: Any, tmp_path: Path) -> Path:
    """The public key file the provider publishes for recipients."""
    path = tmp_path / "provider.pem"
    path.write_text(signing.public_key_pem(provider_key.public_key()))
    return path


def approved_referral(tenant: Tenant, moderator: Any, supervisor: Any) -> Case:
    """Alice escalates to law enforcement, reveals a hidden message, sends the case for
    approval; Sam approves it. The reported account came with IP and device events."""
    case = escalate(tenant, moderator, verdict="escalate_law_enforcement")
    conversation = case.conversation
    adult = Participant.objects.get(tenant=tenant, external_id="adult-0")
    adult.screen_name = "jay_2010"
    adult.ip_events = [
        {"ip": "203.0.113.7", "at": "2026-11-01T18:00:00+01:00", "event": "login"},
        {"ip": "2001:db8::5", "at": "2026-11-02T09:15:00-05:00", "event": "message"},
    ]
    adult.device_ids = ["android-9f2c"]
    adult.save()
    Message.objects.create(
        conversation=conversation, external_id="m3", sender=adult,
        sent_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC), utc_offset_minutes=-330,
        text=FAR_AWAY_TEXT, position=3,
    )  # fmt: skip
    message_reveal(
        tenant=tenant, moderator=moderator, message=conversation.messages.get(external_id="m2")
    )
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=moderator)
    return case_approve(case=case, supervisor=supervisor)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(data: bytes, *, change: dict[str, bytes] | None = None, drop: str = "") -> bytes:
    """The same package written again with some files replaced, added or left out."""
    files = members(data)
    files.update(change or {})
    files.pop(drop, None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def problems(data: bytes, key: Any) -> list[str]:
    return package_verify(data, public_key=key.public_key()).problems


# --- contents -----------------------------------------------------------------------------


def test_the_package_holds_every_file_and_the_manifest_matches(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    data, sha256 = referral_package_build(case=case, actor=sam)

    assert hashlib.sha256(data).hexdigest() == sha256
    files = members(data)
    assert set(files) == EVERY_FILE | {"manifest.json", "manifest.sig"}
    manifest = json.loads(files["manifest.json"])
    assert {f["name"] for f in manifest["files"]} == EVERY_FILE
    for entry in manifest["files"]:
        content = files[entry["name"]]
        assert entry["bytes"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["md5"] == hashlib.md5(content, usedforsecurity=False).hexdigest()
    fingerprint = signing.fingerprint(provider_key.public_key())
    assert manifest["signature"]["public_key_fingerprint"] == fingerprint
    assert signing.signature_valid(
        files["manifest.json"], files["manifest.sig"], provider_key.public_key()
    )
    for pdf in ("cover.pdf", "narrative.pdf", "transcript.pdf"):
        assert files[pdf].startswith(b"%PDF-"), pdf
        assert b"DejaVu" in files[pdf], f"{pdf} embeds the Unicode font"


def test_the_cover_and_case_record_name_the_provider_contact_and_reference(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    files = members(referral_package_build(case=case, actor=sam)[0])

    record = json.loads(files["case.json"])
    assert record["reference"] == case.reference == f"acme-C{case.pk:06d}"
    assert record["provider"]["name"] == "Acme Chat, Inc."
    assert record["provider"]["legal_contact"] == "Legal Response Team\nlegal@acme.example"
    assert record["approved_by"] == "sam"
    assert record["reported_participant"] == "adult-0"
    assert record["victim_participant"] == "kid-0"
    readme = files["README.txt"].decode()
    assert "openssl pkeyutl -verify" in readme
    assert signing.fingerprint(provider_key.public_key()) in readme


def test_the_narrative_summarises_the_indicators_of_the_latest_assessment(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    indicators = json.loads(members(referral_package_build(case=case, actor=sam)[0])[
        "indicators.json"
    ])  # fmt: skip

    assert indicators["assessment"]["model_version"] == "test"
    assert indicators["assessment"]["probability"] == 0.9
    by_key = {c["key"]: c for c in indicators["characteristics"]}
    assert list(by_key) == ["secrecy_request", "media_request"], "in order of first occurrence"
    assert by_key["secrecy_request"]["messages"] == 1
    assert by_key["secrecy_request"]["first_message_id"] == "m1"
    assert by_key["media_request"]["highest_score"] == 0.8


def test_timestamps_keep_their_offsets(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    files = members(referral_package_build(case=case, actor=sam)[0])

    transcript = json.loads(files["transcript.json"])["messages"]
    far = next(m for m in transcript if m["message_id"] == "m3")
    assert far["sent_at_utc"] == "2026-11-01T12:00:00Z"
    assert (far["utc_offset"], far["utc_offset_minutes"]) == ("-05:30", -330)
    assert far["sent_at_local"] == "2026-11-01T06:30:00-05:30"
    assert far["sender_id"] == "adult-0"
    assert far["text"] == FAR_AWAY_TEXT
    first = next(m for m in transcript if m["message_id"] == "m0")
    assert first["utc_offset"] == "+01:00"
    assert first["sent_at_local"].endswith("+01:00")

    rows = list(csv.DictReader(io.StringIO(files["transcript.csv"].decode("utf-8-sig"))))
    row = next(r for r in rows if r["message_id"] == "m3")
    # In the CSV an offset starts with the apostrophe that keeps a spreadsheet from doing
    # arithmetic on "+" or "-" (README.txt says so); the JSON above holds it exactly.
    assert (row["sent_at_utc"], row["utc_offset"], row["sent_at_local"], row["text"]) == (
        "2026-11-01T12:00:00Z",
        "'-05:30",
        "2026-11-01T06:30:00-05:30",
        FAR_AWAY_TEXT,
    )
    assert next(r for r in rows if r["message_id"] == "m0")["utc_offset"] == "'+01:00"
    ip_rows = list(csv.DictReader(io.StringIO(files["ip_events.csv"].decode("utf-8-sig"))))
    assert [(r["ip"], r["at_as_sent"], r["at_utc"]) for r in ip_rows] == [
        ("203.0.113.7", "2026-11-01T18:00:00+01:00", "2026-11-01T17:00:00Z"),
        ("2001:db8::5", "2026-11-02T09:15:00-05:00", "2026-11-02T14:15:00Z"),
    ]


def test_participants_and_devices_are_as_the_platform_sent_them(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    files = members(referral_package_build(case=case, actor=sam)[0])

    people = {p["external_id"]: p for p in json.loads(files["participants.json"])["participants"]}
    assert people["adult-0"]["role_in_case"] == "reported"
    assert people["adult-0"]["screen_name"] == "jay_2010"
    assert people["adult-0"]["ip_events"][0]["ip"] == "203.0.113.7"
    assert (people["kid-0"]["role_in_case"], people["kid-0"]["declared_age"]) == ("child", 13)
    devices = files["devices.csv"].decode("utf-8-sig").splitlines()
    assert devices == ["participant_id,role_in_case,device_id", "adult-0,reported,android-9f2c"]


def test_the_chain_of_custody_holds_the_cases_events(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    referral_package_download(case=case, actor=sam)  # a first download, then a second

    files = members(referral_package_download(case=case, actor=sam)[0])

    custody = json.loads(files["chain_of_custody.json"])
    actions = [e["action"] for e in custody["events"]]
    assert actions == [
        AuditAction.CLAIM,
        AuditAction.DECISION,
        AuditAction.CASE_OPEN,
        AuditAction.REVEAL,
        AuditAction.CASE_TRANSITION,
        AuditAction.CASE_TRANSITION,
        AuditAction.PACKAGE_DOWNLOAD,
    ]
    assert [e["actor"] for e in custody["events"]] == [*["alice"] * 5, "sam", "sam"]
    stored = {e.sequence: e.hash for e in AuditEvent.objects.filter(tenant=acme)}
    for event in custody["events"]:
        assert event["hash"] == stored[event["sequence"]]
        assert canonical_hash(event["hash_input"]) == event["hash"], "recomputable from the ZIP"
    assert custody["chain_head_at_build"]["sequence"] == max(stored) - 1
    assert audit_verify(tenant=acme)[1] is None
    rows = list(csv.DictReader(io.StringIO(files["chain_of_custody.csv"].decode("utf-8-sig"))))
    assert [int(r["sequence"]) for r in rows] == [e["sequence"] for e in custody["events"]]


def test_the_chain_of_custody_holds_a_blind_second_reviews_disagreement(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    # A defence lawyer asks first whether anyone who looked again thought otherwise.
    sample_every_decision(acme)
    bob = member(acme, "bob")
    case = approved_referral(acme, alice, sam)
    review = second_review_claim_next(tenant=acme, reviewer=bob)
    assert review is not None
    assert review.conversation_id == case.conversation_id
    second_review_record(review=review, reviewer=bob, verdict="ban", reason_code="sextortion")

    files = members(referral_package_build(case=case, actor=sam)[0])

    custody = json.loads(files["chain_of_custody.json"])
    theirs = [(e["actor"], e["action"]) for e in custody["events"] if e["actor"] == "bob"]
    assert theirs == [("bob", AuditAction.CLAIM), ("bob", AuditAction.SECOND_REVIEW)]
    second = next(e for e in custody["events"] if e["action"] == AuditAction.SECOND_REVIEW)
    assert second["hash_input"]["detail"]["agrees"] is False


def test_the_chain_of_custody_says_who_opened_the_participants_account_data(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    # The package hands over the child's and the reported user's account data; who else
    # read it, and when, is part of its custody.
    case = approved_referral(acme, alice, sam)
    assert case.victim_participant_id is not None
    page = signed_in(sam).get(f"/t/acme/participants/{case.victim_participant_id}")
    assert page.status_code == 200

    custody = json.loads(
        members(referral_package_build(case=case, actor=sam)[0])["chain_of_custody.json"]
    )

    opened = [
        (e["actor"], e["target_id"])
        for e in custody["events"]
        if e["action"] == AuditAction.PARTICIPANT_VIEW
    ]
    assert opened == [("sam", str(case.victim_participant_id))]


def test_another_tenants_events_never_enter_the_chain_of_custody(
    acme: Tenant, globex: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    gail = MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gail").user
    escalate(globex, gail, verdict="escalate_law_enforcement")  # same ids, other tenant
    case = approved_referral(acme, alice, sam)

    custody = json.loads(
        members(referral_package_build(case=case, actor=sam)[0])["chain_of_custody.json"]
    )

    assert {e["hash_input"]["tenant"] for e in custody["events"]} == {acme.pk}
    assert "gail" not in {e["actor"] for e in custody["events"]}


def test_the_pdfs_draw_non_latin_text_and_mark_what_the_font_lacks() -> None:
    assert drawable("ты где? Γειά שלום") == "ты где? Γειά שלום"
    assert drawable("你好 ok") == "\ufffd\ufffd ok"
    assert drawable("a\x00b\nc") == "ab\nc"


def test_building_a_package_logs_no_message_text(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    case = approved_referral(acme, alice, sam)

    with caplog.at_level(logging.DEBUG):
        referral_package_build(case=case, actor=sam)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in ("dont tell", "send me a pic", "你好", "где"):
        assert text not in logged
    assert "referral package built" in logged


# --- formulas in the CSV files ----------------------------------------------------------------

PACKAGE_CSVS = [
    "transcript.csv",
    "participants.csv",
    "ip_events.csv",
    "devices.csv",
    "chain_of_custody.csv",
]


def referral_full_of(value: str, tenant: Tenant, supervisor: Any) -> Case:
    """An approved referral where ``value`` stands wherever the platform sends text: the
    reported account's id, names, e-mail, location, IP event and device, a message's id and
    text; the moderator who opened the case is named ``value`` too."""
    case = approved_referral(tenant, member(tenant, value), supervisor)
    adult = Participant.objects.get(tenant=tenant, external_id="adult-0")
    adult.external_id = adult.display_name = adult.screen_name = adult.email = value
    adult.estimated_location = {"country": value, "region": value, "city": value}
    adult.ip_events = [{"ip": value, "at": value, "event": value}]
    adult.device_ids = [value]
    adult.save()
    Message.objects.create(
        conversation=case.conversation, external_id=value, sender=adult, text=value,
        sent_at=datetime(2026, 11, 1, 13, 0, tzinfo=UTC), utc_offset_minutes=0, position=4,
    )  # fmt: skip
    return case


def csv_rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8-sig"))))


@pytest.mark.parametrize("value", FORMULAS)
def test_no_cell_of_a_package_csv_starts_a_formula_and_the_package_verifies(
    acme: Tenant, sam: Any, provider_key: Any, value: str
) -> None:
    case = referral_full_of(value, acme, sam)

    data = referral_package_build(case=case, actor=sam)[0]

    assert problems(data, provider_key) == [], "the manifest hashes the CSV as written"
    files = members(data)
    for name in PACKAGE_CSVS:
        for row in csv.reader(io.StringIO(files[name].decode("utf-8-sig"))):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    safe = f"'{value}"
    [message] = [r for r in csv_rows(files, "transcript.csv") if r["message_id"] == safe]
    assert (message["sender_id"], message["text"], message["position"]) == (safe, safe, "4")
    people = {r["participant_id"]: r for r in csv_rows(files, "participants.csv")}
    reported = people[safe]
    for column in ("display_name", "screen_name", "email", "country", "region", "city"):
        assert reported[column] == safe, column
    assert (reported["ip_events"], reported["device_ids"]) == ("1", "1"), "counts stay numbers"
    assert (people["kid-0"]["declared_age"], people["kid-0"]["role_in_case"]) == ("13", "child")
    assert [
        (r["participant_id"], r["ip"], r["at_as_sent"], r["at_utc"], r["event"])
        for r in csv_rows(files, "ip_events.csv")
    ] == [(safe, safe, safe, "", safe)]
    assert [
        (r["participant_id"], r["role_in_case"], r["device_id"])
        for r in csv_rows(files, "devices.csv")
    ] == [(safe, "reported", safe)]
    custody = csv_rows(files, "chain_of_custody.csv")
    assert {r["actor"] for r in custody} == {safe, "sam"}
    assert all(int(r["sequence"]) > 0 for r in custody), "sequence numbers stay numbers"


@pytest.mark.parametrize("value", FORMULAS)
def test_the_json_files_of_the_package_keep_the_exact_values(
    acme: Tenant, sam: Any, provider_key: Any, value: str
) -> None:
    case = referral_full_of(value, acme, sam)

    files = members(referral_package_build(case=case, actor=sam)[0])

    transcript = json.loads(files["transcript.json"])["messages"]
    [message] = [m for m in transcript if m["message_id"] == value]
    assert (message["sender_id"], message["text"]) == (value, value)
    people = {p["external_id"]: p for p in json.loads(files["participants.json"])["participants"]}
    reported = people[value]
    assert [reported[k] for k in ("display_name", "screen_name", "email")] == [value] * 3
    assert reported["estimated_location"] == {"country": value, "region": value, "city": value}
    assert reported["ip_events"] == [{"ip": value, "at": value, "event": value}]
    assert reported["device_ids"] == [value]
    custody = json.loads(files["chain_of_custody.json"])["events"]
    assert {e["actor"] for e in custody} == {value, "sam"}
    assert json.loads(files["case.json"])["reported_participant"] == value


def test_the_package_readme_says_csv_cells_may_carry_an_apostrophe_and_json_is_exact(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    readme = " ".join(members(referral_package_build(case=case, actor=sam)[0])[
        "README.txt"
    ].decode().split())  # fmt: skip

    assert (
        "a CSV cell whose text begins with =, +, -, @, a tab or a carriage return carries one "
        "extra apostrophe in front of it: '=1+1 in a CSV file stands for =1+1."
    ) in readme
    assert "The JSON files hold the exact values, without the apostrophe" in readme


# --- when a package may be built --------------------------------------------------------------


def test_without_a_signing_key_building_fails_naming_the_setting(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any, settings: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = ""

    with pytest.raises(ReviewError, match=r"ARTEMIS_PACKAGE_SIGNING_KEY .*is not set"):
        referral_package_build(case=case, actor=sam)


def test_a_key_that_is_not_ed25519_is_refused_naming_the_setting(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any, settings: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    case = approved_referral(acme, alice, sam)
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(ReviewError, match=r"ARTEMIS_PACKAGE_SIGNING_KEY: holds a .*Ed25519"):
        referral_package_build(case=case, actor=sam)


def test_a_case_not_yet_approved_cannot_be_packaged(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = escalate(acme, alice, verdict="escalate_law_enforcement")

    with pytest.raises(ReviewError, match="once a supervisor has approved"):
        referral_package_build(case=case, actor=sam)


def test_an_ncmec_case_can_be_packaged_once_its_report_is_submitted(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = escalate(acme, alice, verdict="escalate_ncmec")
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    with pytest.raises(ReviewError, match="once the CyberTipline report is submitted"):
        referral_package_build(case=case, actor=sam)

    NcmecSubmission.objects.create(
        tenant=acme, case=case, state=NcmecState.FINISHED, report_id="123456"
    )
    case.submitted_at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    case = case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    files = members(referral_package_build(case=case, actor=sam)[0])

    assert json.loads(files["case.json"])["ncmec_report_id"] == "123456"


def test_a_delivered_referral_says_the_date_given_and_when_it_was_recorded(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    delivered_on = dj_timezone.localdate()
    before = dj_timezone.now()
    case = case_record_delivery(
        case=case, supervisor=sam, agency="County Sheriff", reference="CS-9",
        delivered_on=delivered_on,
    )  # fmt: skip

    record = json.loads(members(referral_package_build(case=case, actor=sam)[0])["case.json"])

    # The date as the supervisor gave it, and no time of day she did not give.
    assert record["delivered_on"] == delivered_on.isoformat()
    assert "delivered_at_utc" not in record
    recorded = datetime.fromisoformat(record["delivery_recorded_at_utc"])
    assert before <= recorded <= dj_timezone.now()
    assert (record["submitted_to"], record["submission_reference"]) == ("County Sheriff", "CS-9")
    assert record["ncmec_report_id"] == ""
    assert record["submitted_at_utc"] == ""


def test_a_moderator_cannot_build_a_package(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    with pytest.raises(ReviewError, match="only a supervisor or an admin"):
        referral_package_build(case=case, actor=alice)


# --- verification ------------------------------------------------------------------------------


def test_a_fresh_package_verifies(
    acme: Tenant, alice: Any, sam: Any, published_key: Path, tmp_path: Path
) -> None:
    case = approved_referral(acme, alice, sam)
    path = tmp_path / "package.zip"
    path.write_bytes(referral_package_build(case=case, actor=sam)[0])
    out = io.StringIO()

    call_command("verify_package", str(path), "--public-key", str(published_key), stdout=out)

    assert f"Case {case.reference}: 15 files match the manifest" in out.getvalue()
    assert "the signature verifies with key SHA256:" in out.getvalue()


def test_verification_catches_one_changed_byte(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]
    csv_bytes = bytearray(members(data)["transcript.csv"])
    csv_bytes[-3] ^= 0x01

    found = problems(rezip(data, change={"transcript.csv": bytes(csv_bytes)}), provider_key)

    assert found == [
        "transcript.csv: SHA-256 does not match the manifest",
        "transcript.csv: MD5 does not match the manifest",
    ]


def test_verification_catches_a_byte_changed_inside_the_zip(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = bytearray(referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0])
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("transcript.pdf")
    # Past the local header (30 bytes + name + extra), into the compressed data.
    data[info.header_offset + 30 + len(info.filename) + 40] ^= 0xFF

    found = problems(bytes(data), provider_key)

    assert len(found) == 1
    assert found[0].startswith("transcript.pdf: cannot be read from the ZIP")


def test_verification_catches_a_missing_file(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]

    assert problems(rezip(data, drop="cover.pdf"), provider_key) == ["missing file: cover.pdf"]


def test_verification_catches_an_extra_file(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]

    found = problems(rezip(data, change={"notes.txt": b"added later"}), provider_key)

    assert found == ["extra file not in the manifest: notes.txt"]


def test_verification_catches_a_bad_signature(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]
    impostor = signing.new_private_key()

    found = problems(data, impostor)

    assert found == [
        f"signature does not verify with key {signing.fingerprint(impostor.public_key())} "
        f"(the package names key {signing.fingerprint(provider_key.public_key())})"
    ]


def resigned(data: bytes, key: Any, **manifest_changes: Any) -> bytes:
    """The package with its manifest changed and signed again with ``key``."""
    manifest = json.loads(members(data)["manifest.json"])
    manifest.update(manifest_changes)
    body = json.dumps(manifest).encode()
    return rezip(data, change={"manifest.json": body, "manifest.sig": signing.sign(body, key)})


def test_a_package_of_the_earlier_format_still_verifies_and_an_unknown_one_does_not(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]
    assert json.loads(members(data)["manifest.json"])["format"] == "artemis-referral-package/2"

    # A package handed over before format /2 must verify as it did.
    assert (
        problems(resigned(data, provider_key, format="artemis-referral-package/1"), provider_key)
        == []
    )
    assert problems(
        resigned(data, provider_key, format="artemis-referral-package/9"), provider_key
    ) == [
        "manifest.json: format 'artemis-referral-package/9' is not one of "
        "artemis-referral-package/1, artemis-referral-package/2"
    ]


def test_a_manifest_rewritten_to_match_a_changed_file_fails_the_signature(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]
    files = members(data)
    forged = files["transcript.csv"] + b"m9,extra\r\n"
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["name"] == "transcript.csv":
            entry.update(
                bytes=len(forged),
                sha256=hashlib.sha256(forged).hexdigest(),
                md5=hashlib.md5(forged, usedforsecurity=False).hexdigest(),
            )
    tampered = rezip(
        data,
        change={"transcript.csv": forged, "manifest.json": json.dumps(manifest).encode()},
    )

    found = problems(tampered, provider_key)

    assert found == [
        f"signature does not verify with key {signing.fingerprint(provider_key.public_key())}"
    ]


def test_verify_package_exits_non_zero_and_names_each_problem(
    acme: Tenant, alice: Any, sam: Any, published_key: Path, tmp_path: Path
) -> None:
    data = referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(rezip(data, drop="cover.pdf", change={"notes.txt": b"x"}))

    # A real process, for the real exit code (a fresh package exits 0: see above).
    broken = subprocess.run(
        [sys.executable, "manage.py", "verify_package", str(bad), "--public-key",
         str(published_key)],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert broken.returncode == 1
    assert "missing file: cover.pdf" in broken.stderr
    assert "extra file not in the manifest: notes.txt" in broken.stderr
    assert "does not verify: 2 problems" in broken.stderr


def test_without_a_trusted_public_key_verification_does_not_pass(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any, settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(referral_package_build(case=approved_referral(acme, alice, sam), actor=sam)[0])
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = ""  # a recipient's machine: no provider key
    err = io.StringIO()

    with pytest.raises(CommandError, match="does not verify: 1 problem"):
        call_command("verify_package", str(path), stderr=err)

    assert "no public key to check the signature with: pass --public-key FILE" in err.getvalue()


# --- download ----------------------------------------------------------------------------------


def test_a_supervisor_downloads_the_package_and_the_download_is_audited(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    response = signed_in(sam).get(f"/t/acme/cases/{case.pk}/package")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store, private"
    sha256 = hashlib.sha256(response.content).hexdigest()
    assert response["X-Package-SHA256"] == sha256
    assert (
        f'filename="{case.reference}-referral-{sha256[:12]}.zip"'
        in (response["Content-Disposition"])
    )
    event = AuditEvent.objects.get(action=AuditAction.PACKAGE_DOWNLOAD)
    assert (event.actor, event.target_type, event.target_id) == (sam, "case", str(case.pk))
    assert event.detail["sha256"] == sha256
    assert event.detail["bytes"] == len(response.content)
    assert event.ip == "127.0.0.1"
    assert "dont tell" not in json.dumps(event.detail)
    assert package_verify(response.content, public_key=provider_key.public_key()).ok


def test_a_moderator_cannot_download_a_package(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)

    response = signed_in(alice).get(f"/t/acme/cases/{case.pk}/package")

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.PACKAGE_DOWNLOAD).exists()


def test_another_tenants_case_answers_404(
    acme: Tenant, globex: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    gina = MembershipFactory(tenant=globex, role=Role.SUPERVISOR, user__username="gina").user

    assert signed_in(gina).get(f"/t/globex/cases/{case.pk}/package").status_code == 404
    assert signed_in(gina).get(f"/t/acme/cases/{case.pk}/package").status_code == 404


def test_a_draft_case_answers_409_naming_the_reason(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = escalate(acme, alice, verdict="escalate_law_enforcement")

    response = signed_in(sam).get(f"/t/acme/cases/{case.pk}/package")

    assert response.status_code == 409
    assert "once a supervisor has approved the case" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.PACKAGE_DOWNLOAD).exists()


def test_the_panel_offers_the_download_to_supervisors_only(
    acme: Tenant, alice: Any, sam: Any, provider_key: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    referral_package_download(case=case, actor=sam)

    for_sam = render_to_string(
        "review/cases/_referral_panel.html",
        {"case": case, "membership": membership_get(user=sam, tenant_slug="acme")},
    )
    for_alice = render_to_string(
        "review/cases/_referral_panel.html",
        {"case": case, "membership": membership_get(user=alice, tenant_slug="acme")},
    )

    assert f'href="/t/acme/cases/{case.pk}/package"' in for_sam
    assert signing.fingerprint(provider_key.public_key()) in for_sam
    assert "sam" in for_sam.split("Downloads")[1]
    assert "/package" not in for_alice
    assert "Supervisors and admins can download" in for_alice


# --- the signing key ---------------------------------------------------------------------------


def test_package_signing_key_writes_a_private_key_only_its_owner_can_read(
    tmp_path: Path,
) -> None:
    out = tmp_path / "keys" / "signing.pem"
    printed = io.StringIO()

    call_command("package_signing_key", "--out", str(out), stdout=printed)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = signing.private_key_from_pem(out.read_bytes())
    public = signing.public_key_from_pem((tmp_path / "keys" / "signing.pub.pem").read_bytes())
    assert signing.fingerprint(key.public_key()) == signing.fingerprint(public)
    assert signing.fingerprint(public) in printed.getvalue()
    with pytest.raises(CommandError, match="exists"):
        call_command("package_signing_key", "--out", str(out), stdout=io.StringIO())
    call_command("package_signing_key", "--out", str(out), "--if-missing", stdout=io.StringIO())
    assert signing.private_key_from_pem(out.read_bytes()) is not None
