"""What the case editor accepts and what a case still lacks: each field the author edits
cleaned to what is stored (or refused with ReviewError naming the field by its path, as
``reported_details.ip_events[2].at``), and ``case_problems``, the one list of what stops a
draft from going to a supervisor. ``review.cases.flow`` does the work with them; the
editor's form checks with the same functions, so the page and the service agree.
"""

from __future__ import annotations

import ipaddress
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from review.cases.labels import case_field_label
from review.intake.account_data import IP_EVENTS, ISO_3166_ALPHA2, MAX_DEVICE_IDS, MAX_IP_EVENTS
from review.intake.api.inputs import FIRST_YEAR, LATEST_AHEAD, offset_is_valid
from review.models import CASE_ANNOTATIONS, Case, ReviewError

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
    if at > timezone.now() + CLOCK_SKEW:
        raise ReviewError("is in the future", field=f"{path}.at")
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
    if out.get("email"):
        try:
            validate_email(out["email"])
        except ValidationError:
            raise ReviewError(
                f"{out['email']!r} is not an email address", field=f"{path}.email"
            ) from None
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


def editor_clean(case: Case, fields: dict[str, Any]) -> dict[str, Any]:
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


def changed_names(case: Case, cleaned: dict[str, Any]) -> list[str]:
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
            offset = offset_minutes(value)
            if value != case.incident_at or offset != case.incident_utc_offset_minutes:
                names.append(key)
        elif getattr(case, key) != value:
            names.append(key)
    return names


def offset_minutes(at: datetime | None) -> int | None:
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
    else:
        mismatch = _age_mismatch(victim, at=case.incident_at)
        if mismatch:
            problems.setdefault("victim_details.age", mismatch)
    bad = [a for a in case.annotations or [] if a not in CASE_ANNOTATIONS]
    if bad:
        problems["annotations"] = f"Unknown annotation {bad[0]!r}."
    if not problems:
        # Then what the target itself needs (NCMEC: the report builds and validates
        # against its schema) before a supervisor sees the case.
        for name, message in case.reporting_target.problems(case).items():
            problems.setdefault(name, message)
    return problems


def _age_mismatch(victim: dict[str, Any], *, at: datetime | None) -> str:
    """Why the child's age and date of birth contradict each other, or "": a report must not
    state both a 12-year-old and a birth in 1980. A year either way is allowed (an age given
    as of another day than the incident)."""
    age, born = victim.get("age"), victim.get("date_of_birth")
    if not isinstance(age, int) or isinstance(age, bool) or not born:
        return ""
    try:
        born_on = date.fromisoformat(str(born))
    except ValueError:
        return ""
    on = timezone.localdate(at) if at is not None else timezone.localdate()
    years = on.year - born_on.year - ((on.month, on.day) < (born_on.month, born_on.day))
    if abs(years - age) <= 1:
        return ""
    return (
        f"An age of {age} does not fit the date of birth {born_on.isoformat()} ({years} at the "
        "incident); correct one of them, or leave the one you are unsure of empty."
    )


def problem_said(name: str, message: str) -> str:
    """A problem for a message, its field by its label; a target's own problem may already
    start with it ("Incident date and time: is missing")."""
    label = case_field_label(name)
    return message if message.startswith(f"{label}:") else f"{label}: {message}"
