"""Template helpers that read the characteristics table, the one source of truth."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from scoring import characteristics

register = template.Library()


@register.simple_tag
def characteristic_styles() -> SafeString:
    """One CSS class per characteristic (`c-<key>`): highlight, chip and legend swatch."""
    rules = format_html_join(
        "\n",
        ".c-{0}{{background:{1};}}",
        ((c.key, c.colour) for c in characteristics.CHARACTERISTICS),
    )
    return format_html_join("", "<style>{}</style>", [(rules,)])


@register.filter
def characteristic_label(key: str) -> str:
    return characteristics.get(key).label
