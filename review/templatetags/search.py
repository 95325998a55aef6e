"""Template filters of the search and participant pages."""

from __future__ import annotations

from django import template

from review.models import Verdict

register = template.Library()


@register.filter
def verdict_label(value: str | None) -> str:
    """A stored verdict in words; empty for none (an undecided conversation)."""
    if not value:
        return ""
    return str(Verdict(value).label) if value in Verdict.values else value
