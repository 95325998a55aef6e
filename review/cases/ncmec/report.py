"""A case as one CyberTipline ``<report>``, and the problems a moderator must fix first.

Children follow the schema's ``xs:sequence`` order (``cyber_tipline.xsd``). What goes where:

- incidentSummary: incidentType "Online Enticement of Children for Sexual Acts"; platform;
  escalateToHighPriority with the case's urgency reason (only when there is one);
  reportAnnotations (the schema puts them here, before incidentDateTime); incidentDateTime
  with the incident's own UTC offset (2258A(b)(2): date, time *and time zone*).
- internetDetails/chatImIncident: chatClient (the platform), chatRoomName (the channel) and
  a short description as ``content``. The schema allows the chat log there ("The content of
  the chat, any chat logs") but does not require it; the full transcript travels as an
  uploaded file with message ids and timestamps, which is the form an analyst can cite.
- reporter/reportingPerson from the settings (NCMEC requires an email).
- personOrUserReported: the reported user's ids, names, IP and device events, location.
- the child: ``victim`` only when the child is known to be under 18. A child of unknown age
  is an ``intendedRecipient``: ``victim`` requires a ``victimPerson`` and is a statement that
  a child was victimised, which the platform cannot make without an age, while the
  recipient's person record is optional and no age is invented.
- additionalInfo: the case narrative and the case reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from django.conf import settings
from lxml import etree

from review.cases.models import in_sentence
from review.cases.ncmec import schema
from review.cases.ncmec.transcript import offset_label, transcript_name, utc_iso
from review.intake import selectors
from review.models import CASE_ANNOTATIONS, Case
from scoring import characteristics

INCIDENT_TYPE = "Online Enticement of Children for Sexual Acts"
ADULT_AGE = 18
_IP_EVENTS = {
    "login": "Login",
    "logon": "Login",
    "sign_in": "Login",
    "registration": "Registration",
    "register": "Registration",
    "signup": "Registration",
    "sign_up": "Registration",
    "purchase": "Purchase",
    "upload": "Upload",
    "unknown": "Unknown",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    """Something that stops the report from being sent, said so a moderator can fix it."""

    field: str  # where it comes from: a case field, a participant detail or a setting
    label: str  # that place in words
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


# --- small helpers --------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: object = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        element.text = str(text)
    return element


def _maybe(parent: etree._Element, tag: str, text: object) -> None:
    if text not in (None, ""):
        _sub(parent, tag, text)


def _parse_moment(raw: object) -> datetime | None:
    """An ISO 8601 timestamp that carries its offset, else None."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str) and raw.strip():
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else None


def _parse_date(raw: object) -> date | None:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and raw.strip():
        try:
            return date.fromisoformat(raw.strip()[:10])
        except ValueError:
            return None
    return None


def _age_at(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def incident_moment(case: Case) -> datetime | None:
    """The incident time in its own offset (UTC when the offset is unknown)."""
    if case.incident_at is None:
        return None
    minutes = case.incident_utc_offset_minutes or 0
    return case.incident_at.astimezone(timezone(timedelta(minutes=minutes)))


def child_age(case: Case) -> int | None:
    """The child's age at the incident: stated, else from the date of birth, else None."""
    details = case.victim_details or {}
    age = details.get("age")
    if isinstance(age, int) and not isinstance(age, bool):
        return age
    if isinstance(age, str) and age.strip().isdigit():
        return int(age.strip())
    born = _parse_date(details.get("date_of_birth"))
    if born is None:
        return None
    moment = incident_moment(case)
    return _age_at(born, moment.date() if moment else datetime.now(UTC).date())


def child_is_known_minor(case: Case) -> bool:
    age = child_age(case)
    return age is not None and age < ADULT_AGE


def _esp_name(case: Case) -> str:
    return settings.ARTEMIS_ESP_NAME or case.tenant.name


def _platform(case: Case) -> str:
    return case.conversation.platform or _esp_name(case)


# --- the report -----------------------------------------------------------------------------


def _ip_event(parent: etree._Element, event: dict[str, Any]) -> None:
    element = _sub(parent, "ipCaptureEvent")
    _sub(element, "ipAddress", str(event.get("ip", "")).strip())
    name = str(event.get("event") or "").strip().lower()
    if name:
        _sub(element, "eventName", _IP_EVENTS.get(name, "Other"))
    moment = _parse_moment(event.get("at"))
    if moment is not None:
        _sub(element, "dateTime", moment.isoformat())


def _device(parent: etree._Element, device: object) -> None:
    """A device id as the platform sent it: a dict with type/value (and optionally event and
    at), or a bare string whose type the platform did not say."""
    element = _sub(parent, "deviceId")
    if isinstance(device, dict):
        _sub(element, "idType", device.get("type") or device.get("id_type") or "Unknown")
        _sub(element, "idValue", device.get("value") or device.get("id") or "")
        name = str(device.get("event") or "").strip().lower()
        if name:
            _sub(element, "eventName", _IP_EVENTS.get(name, "Other"))
        moment = _parse_moment(device.get("at"))
        if moment is not None:
            _sub(element, "dateTime", moment.isoformat())
    else:
        _sub(element, "idType", "Platform device id")
        _sub(element, "idValue", str(device))


def _location(parent: etree._Element, location: object) -> None:
    if not isinstance(location, dict):
        return
    city, region = location.get("city"), location.get("region")
    country = str(location.get("country") or "").strip().upper()
    if not (city or region or country):
        return
    element = _sub(parent, "estimatedLocation")
    _maybe(element, "city", city)
    _maybe(element, "region", region)
    _maybe(element, "countryCode", country)


def _person(parent: etree._Element, tag: str, details: dict[str, Any], *, age: int | None) -> None:
    """A ``person`` record (email, age, date of birth), left out when there is nothing to
    say, unless the schema requires it (``victimPerson``)."""
    email = str(details.get("email") or "").strip()
    born = _parse_date(details.get("date_of_birth"))
    if not (email or age is not None or born) and tag != "victimPerson":
        return
    person = _sub(parent, tag)
    if email:
        _sub(person, "email", email)
    if age is not None:
        _sub(person, "age", age)
    if born is not None:
        _sub(person, "dateOfBirth", born.isoformat())


def _account(parent: etree._Element, case: Case, details: dict[str, Any]) -> None:
    """What personOrUserReported, intendedRecipient and victim share, in their common order
    (espIdentifier, espService, screenName, displayName, ipCaptureEvent, deviceId)."""
    _maybe(parent, "espIdentifier", details.get("esp_identifier"))
    _sub(parent, "espService", _platform(case))
    _maybe(parent, "screenName", details.get("screen_name"))
    _maybe(parent, "displayName", details.get("display_name"))


def _events(parent: etree._Element, details: dict[str, Any]) -> None:
    for event in details.get("ip_events") or []:
        if isinstance(event, dict):
            _ip_event(parent, event)
    for device in details.get("device_ids") or []:
        _device(parent, device)


def _reported(root: etree._Element, case: Case) -> None:
    details = case.reported_details or {}
    element = _sub(root, "personOrUserReported")
    age = details.get("age") if isinstance(details.get("age"), int) else None
    _person(element, "personOrUserReportedPerson", details, age=age)
    _account(element, case, details)
    _events(element, details)
    _location(element, details.get("estimated_location"))


def _child(root: etree._Element, case: Case) -> None:
    details = case.victim_details or {}
    age = child_age(case)
    if age is not None and age < ADULT_AGE:
        element = _sub(root, "victim")
        _person(element, "victimPerson", details, age=age)
        _account(element, case, details)
        _events(element, details)
        _location(element, details.get("estimated_location"))
        return
    element = _sub(root, "intendedRecipient")
    _person(element, "intendedRecipientPerson", details, age=age)
    _account(element, case, details)
    _events(element, details)
    _location(element, details.get("estimated_location"))
    if age is None:
        _sub(
            element,
            "additionalInfo",
            "The platform holds no age or date of birth for this user; the conversation "
            "indicates a child (see the incident summary and the attached transcript).",
        )


def _chat(root: etree._Element, case: Case) -> None:
    conversation = case.conversation
    messages = selectors.message_list(tenant=case.tenant, conversation=conversation)
    count = messages.count()
    first, last = messages.first(), messages.last()
    chat = _sub(_sub(root, "internetDetails"), "chatImIncident")
    _sub(chat, "chatClient", _platform(case))
    _maybe(chat, "chatRoomName", conversation.channel)
    reported = (case.reported_details or {}).get("esp_identifier") or "the reported user"
    child = (case.victim_details or {}).get("esp_identifier") or "the child"
    period = f" from {utc_iso(first.sent_at)} to {utc_iso(last.sent_at)}" if first and last else ""
    _sub(
        chat,
        "content",
        f"Chat between user {reported} and user {child}: {count} messages{period} (UTC). "
        f"The full transcript, with message ids, sender ids, UTC times and each sender's UTC "
        f"offset, is attached as {transcript_name(case)}.",
    )
    assessment = selectors.assessment_latest(tenant=case.tenant, conversation=conversation)
    flagged = assessment.flagged_characteristics if assessment else []
    info = f"Platform conversation id: {conversation.external_id}."
    if flagged:
        labels = ", ".join(characteristics.get(k).label.lower() for k in flagged)
        info += f" Grooming indicators found by the platform's review and confirmed: {labels}."
    _sub(chat, "additionalInfo", info)


def _reporter(root: etree._Element, case: Case) -> None:
    reporter = _sub(root, "reporter")
    person = _sub(reporter, "reportingPerson")
    _maybe(person, "firstName", settings.NCMEC_REPORTER_FIRST_NAME)
    _maybe(person, "lastName", settings.NCMEC_REPORTER_LAST_NAME)
    _maybe(person, "phone", settings.NCMEC_REPORTER_PHONE)
    _maybe(person, "email", settings.NCMEC_REPORTER_EMAIL)
    _sub(
        reporter,
        "companyTemplate",
        f"Reported by {_esp_name(case)}. Its trust-and-safety team reviewed the conversation "
        f"and a supervisor approved this report. Records are preserved for one year from "
        f"this report (18 U.S.C. 2258A(h)).",
    )


def report_tree(case: Case) -> etree._Element:
    root = etree.Element("report")
    summary = _sub(root, "incidentSummary")
    _sub(summary, "incidentType", INCIDENT_TYPE)
    _sub(summary, "platform", _platform(case))
    if case.urgency_reason.strip():
        _sub(summary, "escalateToHighPriority", case.urgency_reason.strip())
    annotations = [a for a in CASE_ANNOTATIONS if a in (case.annotations or [])]
    if annotations:
        tags = _sub(summary, "reportAnnotations")
        for key in annotations:
            _sub(tags, key, "true")
    moment = incident_moment(case)
    if moment is not None:
        _sub(summary, "incidentDateTime", moment.isoformat())
        _sub(
            summary,
            "incidentDateTimeDescription",
            f"Time of the first flagged message, in the sender's local time "
            f"(UTC{offset_label(case.incident_utc_offset_minutes or 0)}).",
        )
    _chat(root, case)
    _reporter(root, case)
    _reported(root, case)
    _child(root, case)
    info = f"Platform case reference: {case.reference}."
    if case.narrative.strip():
        info = f"{case.narrative.strip()}\n\n{info}"
    _sub(root, "additionalInfo", info)
    return root


def report_xml(case: Case) -> bytes:
    """The report as UTF-8 bytes, exactly what is sent to ``/submit``."""
    return etree.tostring(report_tree(case), xml_declaration=True, encoding="UTF-8")


# --- problems -------------------------------------------------------------------------------

# Schema paths in words, most specific first (indices such as [2] are dropped to match).
_PATH_LABELS: list[tuple[str, str, str]] = [
    ("/report/incidentSummary/incidentDateTime", "incident_at", "Incident date and time"),
    ("/report/incidentSummary/escalateToHighPriority", "urgency_reason", "Urgency reason"),
    ("/report/incidentSummary/reportAnnotations", "annotations", "Annotations"),
    ("/report/incidentSummary", "incident", "Incident summary"),
    ("/report/internetDetails", "conversation", "Chat details"),
    ("/report/reporter", "NCMEC_REPORTER_*", "Reporter (settings NCMEC_REPORTER_*)"),
    (
        "/report/personOrUserReported/estimatedLocation",
        "reported_details.estimated_location",
        "Reported user's estimated location",
    ),
    (
        "/report/personOrUserReported/ipCaptureEvent",
        "reported_details.ip_events",
        "Reported user's IP events",
    ),
    (
        "/report/personOrUserReported/deviceId",
        "reported_details.device_ids",
        "Reported user's device ids",
    ),
    ("/report/personOrUserReported", "reported_details", "Reported user"),
    ("/report/victim/estimatedLocation", "victim_details.estimated_location", "Child's location"),
    (
        "/report/intendedRecipient/estimatedLocation",
        "victim_details.estimated_location",
        "Child's location",
    ),
    ("/report/victim", "victim_details", "Child"),
    ("/report/intendedRecipient", "victim_details", "Child"),
    ("/report/additionalInfo", "narrative", "Narrative"),
]


def _in_words(error: schema.SchemaError) -> Problem:
    path = re.sub(r"\[\d+\]", "", error.path)
    field, label = "report", "Report"
    for prefix, f, words in _PATH_LABELS:
        if path.startswith(prefix):
            field, label = f, words
            break
    message = error.message
    # lxml quotes the value as "The value 'x'" for a facet, as "Element 'e': 'x'" for a type.
    value = re.search(r"(?:The value |^Element '[^']*': )'([^']*)'", message)
    if "[facet 'enumeration']" in message and value:
        if error.element == "countryCode":
            message = f"'{value.group(1)}' is not a two-letter ISO 3166 country code"
        else:
            message = f"'{value.group(1)}' is not one of the values NCMEC accepts"
    elif "is not a valid value of the atomic type" in message and value:
        kind = re.search(r"atomic type '(?:xs:)?(\w+)'", message)
        message = f"'{value.group(1)}' is not a valid {kind.group(1) if kind else 'value'}"
    elif "Missing child element" in message:
        expected = re.search(r"Expected is (?:one of )?\( ?([^)]*)\)", message)
        message = f"something required is missing ({expected.group(1).strip() if expected else ''})"
    return Problem(field=field, label=label, message=message)


def _check_ip_events(owner: str, label: str, details: dict[str, Any]) -> list[Problem]:
    problems = []
    for i, event in enumerate(details.get("ip_events") or [], start=1):
        where = f"{owner}.ip_events[{i - 1}]"
        if not isinstance(event, dict) or not str(event.get("ip") or "").strip():
            problems.append(Problem(where, f"{label} IP event {i}", "has no IP address"))
            continue
        if event.get("at") and _parse_moment(event.get("at")) is None:
            problems.append(
                Problem(
                    f"{where}.at",
                    f"{label} IP event {i} time",
                    f"{event.get('at')!r} is not a date and time with a UTC offset",
                )
            )
    return problems


# What XML 1.0 cannot carry: C0 controls other than tab, newline and carriage return, lone
# surrogates and the two non-characters. lxml refuses to build a report holding one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _strings(value: Any) -> list[str]:
    """Every string in ``value`` (account data nests lists and mappings)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _unreportable(case: Case) -> list[Problem]:
    """A character the report cannot carry, in a text it takes from the case (typed by the
    author, or the platform's account data copied in): named, instead of a report that
    cannot be built."""
    texts: list[tuple[str, str, Any]] = [
        ("narrative", "Narrative", case.narrative),
        ("urgency_reason", "Urgency reason", case.urgency_reason),
    ]
    for place, label in (("reported_details", "Reported user's"), ("victim_details", "Child's")):
        for key, value in sorted((getattr(case, place) or {}).items()):
            texts.append((f"{place}.{key}", f"{label} {key.replace('_', ' ')}", value))
    problems = []
    for field, label, value in texts:
        found = next(filter(None, (_NOT_XML.search(text) for text in _strings(value))), None)
        if found:
            problems.append(
                Problem(
                    field,
                    label,
                    f"holds a control character (U+{ord(found.group()):04X}) that a report "
                    "cannot carry; remove it",
                )
            )
    return problems


def ncmec_problems(case: Case) -> list[Problem]:
    """Everything that stops this case from going to NCMEC, each with the field it comes
    from, in words a moderator understands. Empty means the report is ready: it was built
    and it validates against NCMEC's schema."""
    problems: list[Problem] = []
    if case.target != "ncmec":
        problems.append(
            Problem(
                "target",
                "Reporting target",
                f"this case is a {in_sentence(case.target_label)}, not an NCMEC report",
            )
        )
    email = settings.NCMEC_REPORTER_EMAIL.strip()
    if not email:
        problems.append(
            Problem(
                "NCMEC_REPORTER_EMAIL",
                "Reporter email (setting NCMEC_REPORTER_EMAIL)",
                "is not set; NCMEC requires the reporting person's email",
            )
        )
    elif not _EMAIL.match(email):
        problems.append(
            Problem(
                "NCMEC_REPORTER_EMAIL",
                "Reporter email (setting NCMEC_REPORTER_EMAIL)",
                f"{email!r} is not an email address",
            )
        )
    if case.incident_at is None:
        problems.append(Problem("incident_at", "Incident date and time", "is missing"))
    reported = case.reported_details or {}
    if not (reported.get("esp_identifier") or reported.get("screen_name")):
        problems.append(
            Problem(
                "reported_details.esp_identifier",
                "Reported user",
                "say who is reported: their platform id or screen name",
            )
        )
    child = case.victim_details or {}
    if not (child.get("esp_identifier") or child.get("screen_name")):
        problems.append(
            Problem(
                "victim_details.esp_identifier",
                "Child",
                "say which user is the child: their platform id or screen name",
            )
        )
    age = child.get("age")
    if age not in (None, "") and child_age(case) is None:
        problems.append(
            Problem("victim_details.age", "Child's age", f"{age!r} is not a whole number")
        )
    elif (a := child_age(case)) is not None and not 0 <= a < 130:
        problems.append(Problem("victim_details.age", "Child's age", f"{a} is not a possible age"))
    if child.get("date_of_birth") and _parse_date(child.get("date_of_birth")) is None:
        problems.append(
            Problem(
                "victim_details.date_of_birth",
                "Child's date of birth",
                "is not a date (YYYY-MM-DD)",
            )
        )
    unknown = [a for a in case.annotations or [] if a not in CASE_ANNOTATIONS]
    if unknown:
        problems.append(
            Problem(
                "annotations", "Annotations", f"{', '.join(unknown)}: not an annotation NCMEC knows"
            )
        )
    problems += _check_ip_events("reported_details", "Reported user's", reported)
    problems += _check_ip_events("victim_details", "Child's", child)
    if not selectors.message_list(tenant=case.tenant, conversation=case.conversation).exists():
        problems.append(Problem("conversation", "Transcript", "the conversation has no messages"))
    problems += _unreportable(case)
    if problems:
        return problems
    return [_in_words(e) for e in schema.validate(report_xml(case), root="report")]
