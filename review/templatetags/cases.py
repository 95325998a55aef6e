"""Template helpers of the case pages: a field's problem, a status in words, and the inbox
count in the nav."""

from __future__ import annotations

from django import template

from review import case_selectors
from review.models import CaseStatus, Role

register = template.Library()


@register.filter
def problem(problems: dict[str, str] | None, name: str) -> str:
    """``{{ problems|problem:"narrative" }}``: what is missing in that field, or ""."""
    return (problems or {}).get(name, "")


@register.filter
def case_status_label(value: str) -> str:
    """``{{ "awaiting_approval"|case_status_label }}``: "awaiting approval", for the history."""
    try:
        return CaseStatus(value).label.lower()
    except ValueError:
        return value


@register.simple_tag
def escalations_waiting(membership: object) -> int | None:
    """How many cases wait for approval, for a supervisor's nav; None for a moderator."""
    role = getattr(membership, "role", None)
    if role not in (Role.SUPERVISOR, Role.ADMIN):
        return None
    return case_selectors.case_inbox_count(tenant=membership.tenant)  # type: ignore[attr-defined]
