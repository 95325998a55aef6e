"""Template helpers that read the characteristics table, the one source of truth."""

from __future__ import annotations

from django import template
from django.template import Context
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from scoring import characteristics

register = template.Library()


@register.simple_tag(takes_context=True)
def characteristic_styles(context: Context) -> SafeString:
    """One CSS class per characteristic (`c-<key>`): highlight, chip and legend swatch, each
    with its colour and, before it, its symbol (the second cue, for calm mode and colour-blind
    moderators; `/ ""` keeps screen readers to the label, which already names it).

    The block carries the request's Content-Security-Policy nonce (django-csp adds it to the
    header once read), the one inline style the policy allows.
    """
    rules = format_html_join(
        "\n",
        '.c-{0}{{background:{1};}}.c-{0}::before{{content:"{2}" / "";}}',
        ((c.key, c.colour, c.symbol) for c in characteristics.CHARACTERISTICS),
    )
    request = context.get("request")
    nonce = getattr(request, "csp_nonce", "") if request is not None else ""
    return format_html('<style nonce="{}">{}</style>', nonce, rules)


@register.filter
def characteristic_label(key: str) -> str:
    return characteristics.get(key).label
