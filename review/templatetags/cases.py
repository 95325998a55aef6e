"""Template helpers of the case pages: a field's problem, a status in words, and the inbox
count in the nav."""

from __future__ import annotations

from django import template

from review.cases import selectors as case_selectors
from review.cases.models import in_sentence, status_label
from review.models import Membership
from review.tenancy.capabilities import Capability, member_can

register = template.Library()


@register.filter
def problem(problems: dict[str, str] | None, name: str) -> str:
    """``{{ problems|problem:"narrative" }}``: what is missing in that field, or ""."""
    return (problems or {}).get(name, "")


@register.filter
def case_status_label(value: str, case: object = None) -> str:
    """``{{ "awaiting_approval"|case_status_label }}``: "awaiting approval", for the history;
    ``{{ "submitted"|case_status_label:case }}`` in the case's target's words ("submitted
    to NCMEC")."""
    return in_sentence(status_label(value, target=getattr(case, "target", None)))


@register.filter(name="in_sentence")
def in_sentence_filter(label: str) -> str:
    """``{{ case.status_label|in_sentence }}``: a label inside a sentence, acronyms kept."""
    return in_sentence(str(label))


@register.simple_tag
def escalations_waiting(membership: object) -> int | None:
    """How many cases wait for approval, for the nav of a member who approves cases; None
    for anyone else."""
    if not isinstance(membership, Membership):
        return None
    if not member_can(membership, Capability.APPROVE_CASE):
        return None
    return case_selectors.case_inbox_count(tenant=membership.tenant)
