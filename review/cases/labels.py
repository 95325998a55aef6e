"""What a person calls each field of a case. Services, problems and the audit trail name a
field by its key (``victim_details.age``), which stays machine-readable; pages and messages
show these words instead, the ones the editor's boxes are labelled with.
"""

from __future__ import annotations

from review.errors import ReviewError

# By the service's name of the field (see ``review.cases.editor``), and the names the other
# steps of a case use (a delivery, an extension, a reason).
_LABELS: dict[str, str] = {
    "narrative": "Narrative",
    "incident_at": "Incident date and time",
    "urgency_reason": "Urgency reason",
    "annotations": "Annotations",
    "reported_details": "Reported user",
    "reported_details.esp_identifier": "Reported user's platform user id",
    "reported_details.screen_name": "Reported user's screen name",
    "reported_details.display_name": "Reported user's display name",
    "reported_details.email": "Reported user's email",
    "reported_details.ip_events": "Reported user's IP capture events",
    "reported_details.device_ids": "Reported user's device ids",
    "reported_details.estimated_location": "Reported user's estimated location",
    "reported_details.estimated_location.country": "Reported user's country",
    "reported_details.estimated_location.region": "Reported user's region",
    "reported_details.estimated_location.city": "Reported user's city",
    "victim_details": "Victim",
    "victim_details.age": "Victim's age",
    "victim_details.date_of_birth": "Victim's date of birth",
    "victim_details.screen_name": "Victim's screen name",
    "victim_details.display_name": "Victim's display name",
    "agency": "Agency",
    "reference": "Their reference",
    "delivered_on": "Delivered on",
    "until": "Preserve until",
    "reason": "Reason",
}
# Keys the editor does not show (prefilled account data) are named after their owner.
_OWNERS = {"reported_details": "Reported user's", "victim_details": "Victim's"}


def case_field_label(path: str) -> str:
    """The words for a field path: ``victim_details.age`` is "Victim's age",
    ``reported_details.ip_events[2].at`` is "Reported user's IP capture events, line 3" (the
    editor's box holds a line per event), an unknown key is its name in words."""
    base, _, index = path.partition("[")
    label = _LABELS.get(base)
    if label is None:
        owner, _, key = base.partition(".")
        words = key.rsplit(".", 1)[-1].replace("_", " ")
        if owner in _OWNERS and key:
            label = f"{_OWNERS[owner]} {words}"
        else:
            label = base.replace("_", " ").replace(".", " ").strip().capitalize() or path
    number = index.split("]", 1)[0]
    if number.isdigit():
        label = f"{label}, line {int(number) + 1}"
    return label


def said(error: ReviewError, *, labels: dict[str, str] | None = None) -> str:
    """A refusal for a message: its field by its label ("Delivered on: is in the future"),
    not by its key as ``str(error)`` has it. ``labels`` are a form's own, where it has one
    of that name."""
    if error.field is None:
        return error.message
    label = (labels or {}).get(error.field) or case_field_label(error.field)
    return f"{label}: {error.message}"
