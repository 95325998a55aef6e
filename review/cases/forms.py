"""Forms of the case pages. The editor's form turns plain inputs (a line per IP event, the
incident's local time and its offset) into the fields ``case_update`` takes; the service
checks them again, so the form is only the HTML side of the same rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from django import forms

from review.cases.editor import OFFSET_RULE, clean_incident_at, clean_reported, clean_victim
from review.errors import add_to_form
from review.intake.api.inputs import offset_is_valid
from review.models import CASE_ANNOTATIONS, Case, ReviewError

_OFFSET = re.compile(r"^[+-][0-9]{2}:[0-9]{2}$")


def _parse_offset(value: str) -> timezone | None:
    """The offset typed as Z, UTC, +HH:MM or -HH:MM, if the ingest API would accept it
    (``offset_is_valid``); None otherwise. Checked before ``timezone()``, which raises past
    24 hours, and so that "+05:99" is refused rather than read as +06:39."""
    value = value.strip().upper()
    if value in ("Z", "UTC"):
        return UTC
    if not _OFFSET.match(value):
        return None
    hours, minutes = int(value[1:3]), int(value[4:6])
    offset = (-1 if value[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or not offset_is_valid(offset):
        return None
    return timezone(offset)


def format_offset(minutes: int | None) -> str:
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# The editor's fields for the service's names of the case's fields, where they differ.
_FORM_FIELDS = {"incident_at": "incident_local"}
_DETAILS = {"reported_details": "reported_", "victim_details": "victim_"}


def case_form_field(path: str) -> str:
    """The editor's field for a field path ``case_update`` names: ``victim_details.age`` is
    ``victim_age``, ``reported_details.ip_events[2].ip`` is ``reported_ip_events`` (one box,
    a line per event) and ``reported_details.estimated_location.country`` is
    ``reported_country``."""
    head, _, rest = path.partition(".")
    if head not in _DETAILS or not rest:
        return _FORM_FIELDS.get(head, head)
    keys = [part.split("[")[0] for part in rest.split(".")]
    key = keys[-1] if keys[0] == "estimated_location" and len(keys) > 1 else keys[0]
    return _DETAILS[head] + key


def case_form_fields(path: str) -> frozenset[str]:
    """Every editor box the value at ``path`` is typed in: the incident's time is two (its
    local time and its offset), any other field one."""
    field = case_form_field(path)
    if field == "incident_local":
        return frozenset({field, "incident_offset"})
    return frozenset({field})


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class CaseForm(forms.Form):
    narrative = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, in your words, and which messages show it.",
    )
    incident_local = forms.CharField(
        required=False,
        label="Incident date and time (local)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    incident_offset = forms.CharField(
        required=False,
        label="UTC offset",
        max_length=6,
        widget=forms.TextInput(attrs={"placeholder": "+01:00", "size": 6}),
        help_text="The sender's offset, e.g. +01:00, -05:00 or Z.",
    )
    urgency_reason = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Urgency reason",
        help_text="Fill in only if the case is urgent (a planned meeting, a threat).",
    )
    annotations = forms.MultipleChoiceField(
        required=False, choices=list(CASE_ANNOTATIONS.items()), widget=forms.CheckboxSelectMultiple
    )
    reported_esp_identifier = forms.CharField(
        required=False, max_length=255, label="Platform user id"
    )
    reported_screen_name = forms.CharField(required=False, max_length=255, label="Screen name")
    reported_display_name = forms.CharField(required=False, max_length=255, label="Display name")
    reported_email = forms.CharField(required=False, max_length=255, label="Email")
    reported_ip_events = forms.CharField(
        required=False,
        label="IP capture events",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: address, time with offset, event "
        "(e.g. 203.0.113.7 2026-11-01T18:00:00+01:00 login).",
    )
    reported_device_ids = forms.CharField(
        required=False,
        label="Device ids",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line.",
    )
    reported_country = forms.CharField(
        required=False, max_length=2, label="Country (ISO 3166, e.g. US)"
    )
    reported_region = forms.CharField(required=False, max_length=100, label="Region")
    reported_city = forms.CharField(required=False, max_length=100, label="City")
    victim_age = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=120,
        label="Age",
        help_text="Leave empty when unknown.",
    )
    victim_date_of_birth = forms.DateField(
        required=False,
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="If known.",
    )
    victim_screen_name = forms.CharField(required=False, max_length=255, label="Screen name")
    victim_display_name = forms.CharField(required=False, max_length=255, label="Display name")

    @staticmethod
    def initial_for(case: Case) -> dict[str, Any]:
        reported, victim = case.reported_details or {}, case.victim_details or {}
        local = ""
        if case.incident_at is not None:
            offset = timedelta(minutes=case.incident_utc_offset_minutes or 0)
            local = (case.incident_at.astimezone(timezone(offset))).strftime("%Y-%m-%dT%H:%M:%S")
        location = reported.get("estimated_location") or {}
        return {
            "narrative": case.narrative,
            "incident_local": local,
            "incident_offset": format_offset(case.incident_utc_offset_minutes),
            "urgency_reason": case.urgency_reason,
            "annotations": case.annotations,
            "reported_esp_identifier": reported.get("esp_identifier") or "",
            "reported_screen_name": reported.get("screen_name") or "",
            "reported_display_name": reported.get("display_name") or "",
            "reported_email": reported.get("email") or "",
            "reported_ip_events": "\n".join(
                f"{e.get('ip', '')} {e.get('at', '')} {e.get('event', '')}".strip()
                for e in reported.get("ip_events") or []
            ),
            "reported_device_ids": "\n".join(reported.get("device_ids") or []),
            "reported_country": location.get("country", ""),
            "reported_region": location.get("region", ""),
            "reported_city": location.get("city", ""),
            "victim_age": victim.get("age"),
            "victim_date_of_birth": victim.get("date_of_birth"),
            "victim_screen_name": victim.get("screen_name") or "",
            "victim_display_name": victim.get("display_name") or "",
        }

    def clean_incident_offset(self) -> str:
        value = self.cleaned_data["incident_offset"].strip()
        if value and _parse_offset(value) is None:
            raise forms.ValidationError(
                f"Write the offset as +HH:MM, -HH:MM or Z, in {OFFSET_RULE}."
            )
        return value

    def clean_reported_ip_events(self) -> list[dict[str, str]]:
        events = []
        for number, line in enumerate(_lines(self.cleaned_data["reported_ip_events"]), 1):
            parts = line.split()
            if len(parts) < 2 or len(parts) > 3:
                raise forms.ValidationError(
                    f"Line {number}: write the address, the time with its offset and the event."
                )
            event = {"ip": parts[0], "at": parts[1], "event": parts[2] if len(parts) > 2 else ""}
            try:
                [cleaned] = clean_reported({"ip_events": [event]}, path="x")["ip_events"]
            except ReviewError as exc:
                raise forms.ValidationError(f"Line {number}: {exc.message}") from None
            events.append(cleaned)
        return events

    def clean_reported_country(self) -> str:
        value = self.cleaned_data["reported_country"].strip().upper()
        try:
            clean_reported({"estimated_location": {"country": value}})
        except ReviewError as exc:
            raise forms.ValidationError(exc.message) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        local, offset = data.get("incident_local", ""), data.get("incident_offset", "")
        data["incident_at"] = None
        if local and not offset and "incident_offset" not in self.errors:
            self.add_error("incident_offset", "Give the offset of the incident time.")
        elif local and offset:
            try:
                naive = datetime.fromisoformat(local)
            except ValueError:
                self.add_error("incident_local", "Not a date and time (YYYY-MM-DDTHH:MM).")
            else:
                if naive.tzinfo is not None:
                    self.add_error("incident_local", "Give the offset in its own field.")
                else:
                    try:
                        data["incident_at"] = clean_incident_at(
                            naive.replace(tzinfo=_parse_offset(offset))
                        )
                    except ReviewError as exc:
                        add_to_form(self, exc, field_of=case_form_field)
        try:
            clean_victim(
                {
                    "date_of_birth": data.get("victim_date_of_birth"),
                    "age": data.get("victim_age"),
                }
            )
        except ReviewError as exc:
            add_to_form(self, exc, field_of=case_form_field)
        return data

    def case_fields(self) -> dict[str, Any]:
        """What ``case_update`` takes, from a valid form."""
        d = self.cleaned_data
        born = d.get("victim_date_of_birth")
        return {
            "narrative": d["narrative"],
            "incident_at": d["incident_at"],
            "urgency_reason": d["urgency_reason"],
            "annotations": d["annotations"],
            "reported_details": {
                "esp_identifier": d["reported_esp_identifier"],
                "screen_name": d["reported_screen_name"],
                "display_name": d["reported_display_name"],
                "email": d["reported_email"],
                "ip_events": d["reported_ip_events"],
                "device_ids": _lines(d["reported_device_ids"]),
                "estimated_location": {
                    "country": d["reported_country"],
                    "region": d["reported_region"],
                    "city": d["reported_city"],
                },
            },
            "victim_details": {
                "age": d.get("victim_age"),
                "date_of_birth": born.isoformat() if born else None,
                "screen_name": d["victim_screen_name"],
                "display_name": d["victim_display_name"],
            },
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DeliveryForm(forms.Form):
    agency = forms.CharField(max_length=255, label="Agency")
    reference = forms.CharField(max_length=255, label="Their reference")
    delivered_on = forms.DateField(
        label="Delivered on", widget=forms.DateInput(attrs={"type": "date"})
    )


class ExtendForm(forms.Form):
    until = forms.DateField(label="Preserve until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
