"""Template helpers of the admin pages."""

from __future__ import annotations

from typing import Any

from django import template

from review.policy.tuning import threshold_label

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def threshold(value: float) -> str:
    """0.70, or 0.995 when a threshold has a third decimal (``tuning.threshold_label``)."""
    return threshold_label(float(value))
