"""The work on a case after it is opened: the author completes it in the editor, submits it
for approval, a supervisor approves it or sends it back, records the delivery of a referral
(which starts preservation), and a case is closed when that is allowed. What differs between
reporting targets (what else blocks a case, whether a person records its submission) is
asked of ``case.reporting_target``.

Every function is one transaction and leaves an audit event. Edits are audited by the
*names* of the fields that changed, never their values: a narrative quotes the chat, and the
audit trail must never hold what was said. Moves go through ``case_transition``.
"""

from __future__ import annotations

import ipaddress
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.cases.labels import case_field_label
from review.cases.models import in_sentence
from review.cases.services import case_lock, case_preserve, case_transition, case_transition_refusal
from review.intake.account_data import IP_EVENTS, ISO_3166_ALPHA2, MAX_DEVICE_IDS, MAX_IP_EVENTS
from review.intake.api.inputs import FIRST_YEAR, LATEST_AHEAD, offset_is_valid
from review.models import (
    CASE_ANNOTATIONS,
    AuditAction,
    Case,
    CaseStatus,
    Membership,
    ReviewError,
)
from review.tenancy.capabilities import Capability, member_can, user_can

# What the case editor may change, and nothing else.
EDITABLE_FIELDS = (
    "narrative",
    "incident_at",
    "urgency_reason",
    "annotations",
    "reported_details",
    "victim_details",
)
REPORTED_KEYS = (
    "esp_identifier",
    "screen_name",
    "display_name",
    "email",
    "ip_events",
    "device_ids",
    "estimated_location",
)
VICTIM_KEYS = ("age", "date_of_birth", "screen_name", "display_name")
MAX_TEXT = 20_000
# A platform's clock may run a little ahead of ours; an incident time within this margin of
# now is taken as now, not refused as being in the future.
CLOCK_SKEW = timedelta(hours=1)
MAX_SHORT = 255
# The ingest API's rule for an offset (``offset_is_valid``), in the editor's words.
OFFSET_RULE = "whole minutes from -14:00 to +14:00, e.g. +05:45 or -03:30"


# -- validation -------------------------------------------------------------------------


def _short(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReviewError("must be text", field=path)
    value = value.strip()
    if len(value) > MAX_SHORT:
        raise ReviewError(f"at most {MAX_SHORT} characters", field=path)
    return value


def _ip_event(event: Any, path: str) -> dict[str, str]:
    if not isinstance(event, dict):
        raise ReviewError("must be an object with ip, at and event", field=path)
    try:
        ip = str(ipaddress.ip_address(str(event.get("ip", "")).strip()))
    except ValueError:
        raise ReviewError(
            f"{event.get('ip')!r} is not an IPv4 or IPv6 address", field=f"{path}.ip"
        ) from None
    try:
        at = datetime.fromisoformat(str(event.get("at", "")).strip())
    except ValueError:
        raise ReviewError(
            f"{event.get('at')!r} is not an ISO 8601 timestamp (e.g. 2026-11-01T18:00:00+01:00)",
            field=f"{path}.at",
        ) from None
    if at.utcoffset() is None:
        raise ReviewError("has no UTC offset (e.g. +01:00 or Z)", field=f"{path}.at")
    kind = str(event.get("event") or "unknown").strip().lower()
    if kind not in IP_EVENTS:
        raise ReviewError(f"{kind!r} is not one of {', '.join(IP_EVENTS)}", field=f"{path}.event")
    return {"ip": ip, "at": at.isoformat(), "event": kind}


def clean_reported(details: dict[str, Any], *, path: str = "reported_details") -> dict[str, Any]:
    """The reported user's details, checked; raises ReviewError naming the first bad key."""
    unknown = set(details) - set(REPORTED_KEYS)
    if unknown:
        raise ReviewError("not a field of the reported user", field=f"{path}.{sorted(unknown)[0]}")
    out: dict[str, Any] = {}
    for key in ("esp_identifier", "screen_name", "display_name", "email"):
        if key in details:
            out[key] = _short(details[key], f"{path}.{key}")
    if "ip_events" in details:
        events = details["ip_events"] or []
        if not isinstance(events, list) or len(events) > MAX_IP_EVENTS:
            raise ReviewError(
                f"a list of at most {MAX_IP_EVENTS} events", field=f"{path}.ip_events"
            )
        out["ip_events"] = [_ip_event(e, f"{path}.ip_events[{i}]") for i, e in enumerate(events)]
    if "device_ids" in details:
        ids = details["device_ids"] or []
        if not isinstance(ids, list) or len(ids) > MAX_DEVICE_IDS:
            raise ReviewError(f"a list of at most {MAX_DEVICE_IDS} ids", field=f"{path}.device_ids")
        out["device_ids"] = [
            v for i, d in enumerate(ids) if (v := _short(d, f"{path}.device_ids[{i}]"))
        ]
    if "estimated_location" in details:
        location = details["estimated_location"] or {}
        if not isinstance(location, dict) or set(location) - {"country", "region", "city"}:
            raise ReviewError("only country, region and city", field=f"{path}.estimated_location")
        cleaned = {
            k: v
            for k in ("country", "region", "city")
            if (v := _short(location.get(k), f"{path}.estimated_location.{k}"))
        }
        if "country" in cleaned:
            cleaned["country"] = cleaned["country"].upper()
            if cleaned["country"] not in ISO_3166_ALPHA2:
                raise ReviewError(
                    f"{cleaned['country']!r} is not an ISO 3166-1 alpha-2 code (e.g. US, GB, DE)",
                    field=f"{path}.estimated_location.country",
                )
        out["estimated_location"] = cleaned
    return out


def clean_victim(details: dict[str, Any], *, path: str = "victim_details") -> dict[str, Any]:
    """The child's details, checked. Age and date of birth may both be unknown."""
    unknown = set(details) - set(VICTIM_KEYS)
    if unknown:
        raise ReviewError("not a field of the child", field=f"{path}.{sorted(unknown)[0]}")
    out: dict[str, Any] = {}
    for key in ("screen_name", "display_name"):
        if key in details:
            out[key] = _short(details[key], f"{path}.{key}")
    if "age" in details:
        age = details["age"]
        if age in (None, ""):
            out["age"] = None
        elif isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
            raise ReviewError("a whole number of years, or empty when unknown", field=f"{path}.age")
        else:
            out["age"] = age
    if "date_of_birth" in details:
        born = details["date_of_birth"]
        if born in (None, ""):
            out["date_of_birth"] = None
        else:
            try:
                parsed = born if isinstance(born, date) else date.fromisoformat(str(born))
            except ValueError:
                raise ReviewError(
                    "not a date (YYYY-MM-DD)", field=f"{path}.date_of_birth"
                ) from None
            if parsed > timezone.localdate():
                raise ReviewError("is in the future", field=f"{path}.date_of_birth")
            out["date_of_birth"] = parsed.isoformat()
    return out


def clean_incident_at(at: Any) -> datetime | None:
    """The incident's time, checked as the ingest API checks a platform's times: with a UTC
    offset it accepts (NCMEC's xs:dateTime refuses any other, at submission), from the
    year 1990, and not in the future. Raises ReviewError naming ``incident_at``."""
    if at is None:
        return None
    offset = at.utcoffset() if isinstance(at, datetime) else None
    if offset is None:
        raise ReviewError("a date and time with its UTC offset", field="incident_at")
    if not offset_is_valid(offset):
        raise ReviewError(f"its UTC offset must be {OFFSET_RULE}", field="incident_at")
    # The year first, as written: converting year 1 or 9999 to UTC can overflow.
    now = timezone.now()
    if at.year < FIRST_YEAR:
        raise ReviewError(f"is before the year {FIRST_YEAR}", field="incident_at")
    if at.year > (now + LATEST_AHEAD).year + 1 or at > now + CLOCK_SKEW:
        raise ReviewError("is in the future", field="incident_at")
    return at


def _clean(case: Case, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ReviewError("not a field the case editor changes", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key in ("narrative", "urgency_reason"):
        if key in fields:
            value = fields[key] or ""
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ReviewError(f"text of at most {MAX_TEXT:,} characters", field=key)
            out[key] = value.strip()
    if "incident_at" in fields:
        out["incident_at"] = clean_incident_at(fields["incident_at"])
    if "annotations" in fields:
        chosen = list(dict.fromkeys(fields["annotations"] or []))
        bad = [a for a in chosen if a not in CASE_ANNOTATIONS]
        if bad:
            raise ReviewError(
                f"{bad[0]!r} is not one of {', '.join(CASE_ANNOTATIONS)}", field="annotations"
            )
        out["annotations"] = chosen
    # Details merge into what the case holds: keys the editor does not show (the account's
    # creation date, say) are kept as they were prefilled.
    if "reported_details" in fields:
        out["reported_details"] = {
            **case.reported_details,
            **clean_reported(fields["reported_details"] or {}),
        }
    if "victim_details" in fields:
        out["victim_details"] = {
            **case.victim_details,
            **clean_victim(fields["victim_details"] or {}),
        }
    return out


def _changed_names(case: Case, cleaned: dict[str, Any]) -> list[str]:
    names = []
    for key, value in cleaned.items():
        if key in ("reported_details", "victim_details"):
            before = getattr(case, key) or {}
            names += [
                f"{key}.{k}"
                for k in sorted(set(before) | set(value))
                if before.get(k) != value.get(k)
            ]
        elif key == "incident_at":
            offset = _offset_minutes(value)
            if value != case.incident_at or offset != case.incident_utc_offset_minutes:
                names.append(key)
        elif getattr(case, key) != value:
            names.append(key)
    return names


def _offset_minutes(at: datetime | None) -> int | None:
    if at is None:
        return None
    offset = at.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


# -- what is missing --------------------------------------------------------------------


def case_problems(case: Case) -> dict[str, str]:
    """Each missing or invalid field of the case, by name, with what to do about it. Empty
    when the case can be submitted for approval."""
    problems: dict[str, str] = {}
    if not case.narrative.strip():
        problems["narrative"] = "Write the narrative: what happened and which messages show it."
    if case.incident_at is None:
        problems["incident_at"] = "Give the incident date and time."
    elif case.incident_utc_offset_minutes is None:
        problems["incident_at"] = (
            "Give the incident's UTC offset (the report states the time zone)."
        )
    elif not offset_is_valid(timedelta(minutes=case.incident_utc_offset_minutes)):
        problems["incident_at"] = f"Give the incident's UTC offset as {OFFSET_RULE}."
    elif case.incident_at > timezone.now() + CLOCK_SKEW + CLOCK_SKEW:
        problems["incident_at"] = "The incident time is in the future."
    reported = case.reported_details or {}
    if not any(
        str(reported.get(k) or "").strip() for k in ("esp_identifier", "screen_name", "email")
    ):
        problems["reported_details.esp_identifier"] = (
            "The reported user has no identifier: give the platform's user id, a screen name "
            "or an email."
        )
    try:
        clean_reported({k: v for k, v in reported.items() if k in REPORTED_KEYS})
    except ReviewError as exc:
        problems.setdefault((exc.field or "reported_details").split("[")[0], exc.message)
    victim = case.victim_details or {}
    age = victim.get("age")
    if isinstance(age, int) and age >= 18:
        problems["victim_details.age"] = (
            f"An age of {age} is not a child's; correct it or leave it empty when unknown."
        )
    try:
        clean_victim({k: v for k, v in victim.items() if k in VICTIM_KEYS})
    except ReviewError as exc:
        problems.setdefault(exc.field or "victim_details", exc.message)
    bad = [a for a in case.annotations or [] if a not in CASE_ANNOTATIONS]
    if bad:
        problems["annotations"] = f"Unknown annotation {bad[0]!r}."
    if not problems:
        # Then what the target itself needs (NCMEC: the report builds and validates
        # against its schema) before a supervisor sees the case.
        for name, message in case.reporting_target.problems(case).items():
            problems.setdefault(name, message)
    return problems


def _problem_said(name: str, message: str) -> str:
    """A problem for a message, its field by its label; a target's own problem may already
    start with it ("Incident date and time: is missing")."""
    label = case_field_label(name)
    return message if message.startswith(f"{label}:") else f"{label}: {message}"


# -- the author's work ------------------------------------------------------------------


@transaction.atomic
def case_update(*, case: Case, actor: AbstractBaseUser, **fields: Any) -> Case:
    """The author completes the draft. Only the fields given change; ``reported_details``
    and ``victim_details`` merge key by key. Audits CASE_EDIT with the changed fields' names."""
    case = case_lock(case=case)
    if case.status != CaseStatus.DRAFT:
        raise ReviewError(
            f"case {case.reference} is {in_sentence(CaseStatus(case.status).label)}; "
            "only a draft can be edited"
        )
    if case.author_id != actor.pk:
        raise ReviewError("only the case's author edits it while it is a draft", code="forbidden")
    cleaned = _clean(case, fields)
    changed = _changed_names(case, cleaned)
    if not changed:
        return case
    for key, value in cleaned.items():
        setattr(case, key, value)
    if "incident_at" in cleaned:
        case.incident_utc_offset_minutes = _offset_minutes(cleaned["incident_at"])
    case.save()
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.CASE_EDIT,
        target_type="case",
        target_id=str(case.pk),
        detail={"fields": changed},
    )
    return case


@transaction.atomic
def case_submit(*, case: Case, actor: AbstractBaseUser) -> Case:
    """The author hands the finished draft to a supervisor. Refused, naming every field,
    while anything is missing."""
    case = case_lock(case=case)
    if case.author_id != actor.pk:
        raise ReviewError("only the case's author submits it for approval", code="forbidden")
    if case.status == CaseStatus.DRAFT:
        problems = case_problems(case)
        if problems:
            listed = "; ".join(_problem_said(name, message) for name, message in problems.items())
            raise ReviewError(f"case {case.reference} is not complete. {listed}", code="invalid")
    return case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=actor)


@transaction.atomic
def case_send_back(*, case: Case, supervisor: AbstractBaseUser, reason: str) -> Case:
    """A supervisor returns the case to its author's draft, saying what to change."""
    case = case_lock(case=case)
    if not user_can(tenant_id=case.tenant_id, user=supervisor, capability=Capability.APPROVE_CASE):
        raise ReviewError("only a supervisor or an admin sends a case back", code="forbidden")
    if not reason.strip():
        raise ReviewError("say what the author should change", field="reason")
    if case.status != CaseStatus.AWAITING_APPROVAL:
        raise ReviewError(f"case {case.reference} is not awaiting approval")
    return case_transition(
        case=case, to=CaseStatus.DRAFT, actor=supervisor, detail={"reason": reason.strip()[:2000]}
    )


# -- delivery, preservation, closing ----------------------------------------------------


def case_delivery_check(
    *,
    case: Case,
    supervisor: AbstractBaseUser,
    agency: str,
    reference: str,
    delivered_on: date | None,
) -> tuple[str, str, date]:
    """The delivery as it will be recorded (agency, reference, date), or ReviewError if
    ``supervisor`` may not record it on ``case`` now. The one rule: ``case_record_delivery``
    checks it under the case's lock, and the case page before it asks to confirm."""
    if not user_can(tenant_id=case.tenant_id, user=supervisor, capability=Capability.SUBMIT_REPORT):
        raise ReviewError("only a supervisor or an admin records a delivery", code="forbidden")
    target = case.reporting_target
    if not target.recorded_by_hand:
        raise ReviewError(
            f"case {case.reference} is reported by Artemis itself ({target.label}): it is "
            "submitted, not delivered"
        )
    agency, reference = (agency or "").strip(), (reference or "").strip()
    if not agency:
        raise ReviewError("name the agency the referral was delivered to", field="agency")
    if not reference:
        raise ReviewError("give the agency's reference for the referral", field="reference")
    for name, value in (("agency", agency), ("reference", reference)):
        if len(value) > MAX_SHORT:
            raise ReviewError(f"at most {MAX_SHORT} characters", field=name)
    if delivered_on is None:
        raise ReviewError("give the date the referral was delivered", field="delivered_on")
    if delivered_on > timezone.localdate():
        raise ReviewError("is in the future", field="delivered_on")
    if case.approved_at and delivered_on < timezone.localdate(case.approved_at):
        raise ReviewError("is before the case was approved", field="delivered_on")
    refusal = case_transition_refusal(case=case, to=CaseStatus.SUBMITTED)
    if refusal:
        raise ReviewError(refusal)
    return agency, reference, delivered_on


@transaction.atomic
def case_record_delivery(
    *,
    case: Case,
    supervisor: AbstractBaseUser,
    agency: str,
    reference: str,
    delivered_on: date | None,
) -> Case:
    """A supervisor records that an approved case was handed over by hand (a referral to a
    law-enforcement agency): the case becomes submitted, with the agency and its reference
    as the receipt, then preserved by its target's rule from the delivery date."""
    case = case_lock(case=case)
    agency, reference, delivered_on = case_delivery_check(
        case=case,
        supervisor=supervisor,
        agency=agency,
        reference=reference,
        delivered_on=delivered_on,
    )
    case.submitted_to = agency
    case.submission_reference = reference
    # The date is the supervisor's word; the time is when Artemis recorded it. Neither is
    # dressed up as the other (a midnight "delivered at" claims a time nobody gave).
    case.delivered_on = delivered_on
    case.submitted_at = timezone.now()
    case_transition(
        case=case,
        to=CaseStatus.SUBMITTED,
        actor=supervisor,
        detail={"agency": agency, "reference": reference, "delivered_on": delivered_on.isoformat()},
    )
    return case_preserve(case=case, actor=supervisor, start=delivered_on)


def case_close_refusal(
    *, case: Case, actor: AbstractBaseUser, membership: Membership | None
) -> str | None:
    """Why ``actor`` (through ``membership``) may not close ``case`` now; None if they may.
    The one place that decides it: ``case_close`` refuses with this, and the case page
    offers the button only when it is None. A draft opened by mistake closes (its author,
    or whoever approves cases); a preserved case closes after its preservation date (whoever
    approves cases). Nothing else closes."""
    if membership is None or not member_can(membership, Capability.WRITE_CASE):
        return "only a member who writes cases closes one"
    approver = member_can(membership, Capability.APPROVE_CASE)
    if case.status == CaseStatus.DRAFT:
        if case.author_id != actor.pk and not approver:
            return "only the author or a supervisor closes a draft case"
    elif case.status == CaseStatus.PRESERVED:
        if not approver:
            return "only a supervisor or an admin closes a preserved case"
        if case.preserve_until is None or case.preserve_until >= timezone.localdate():
            return (
                f"case {case.reference} is preserved until "
                f"{case.preserve_until.isoformat() if case.preserve_until else '?'}; "
                "it can be closed only after that date"
            )
    return case_transition_refusal(case=case, to=CaseStatus.CLOSED)


def case_close_check(*, case: Case, actor: AbstractBaseUser, reason: str) -> str:
    """The reason as it will be recorded, or ReviewError if ``actor`` may not close
    ``case`` now (``case_close_refusal``) or gave no reason; the case page checks it
    before it asks to confirm."""
    if not reason.strip():
        raise ReviewError("say why the case is closed", field="reason")
    membership = Membership.objects.filter(tenant_id=case.tenant_id, user=actor).first()
    refusal = case_close_refusal(case=case, actor=actor, membership=membership)
    if refusal:
        raise ReviewError(refusal)
    return reason.strip()[:2000]


@transaction.atomic
def case_close(*, case: Case, actor: AbstractBaseUser, reason: str) -> Case:
    """Close a case, when ``case_close_refusal`` allows it, with a reason."""
    case = case_lock(case=case)
    reason = case_close_check(case=case, actor=actor, reason=reason)
    return case_transition(case=case, to=CaseStatus.CLOSED, actor=actor, detail={"reason": reason})


def case_record_view(*, case: Case, actor: AbstractBaseUser, ip: str | None) -> None:
    """Who opened the case, and when: a case page holds a child's details."""
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.CASE_VIEW,
        target_type="case",
        target_id=str(case.pk),
        detail={"status": case.status},
        ip=ip,
    )
