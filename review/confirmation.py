"""Asking before something that cannot be undone (removing a member, revoking a key, sending
a case to NCMEC): a GET, or a POST without ``confirm``, answers a page that names what will
happen; only that page's own POST, carrying ``confirm=yes``, acts. The page is a plain form
posting to the same URL, so it works without JavaScript and from the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from review.tenancy.access import ArtemisRequest

KEEP_IT = "Cancel, keep it as it is"


def confirmed(request: ArtemisRequest) -> bool:
    """Whether the request is the confirmation page's POST, not a GET or an old one-press form."""
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def confirm_page(
    request: ArtemisRequest,
    *,
    heading: str,
    title: str,
    consequence: str,
    button: str,
    back_url: str,
    facts: Iterable[tuple[str, str]] = (),
    carry: Iterable[tuple[str, str]] = (),
    cancel: str = KEEP_IT,
) -> HttpResponse:
    """The page that asks. ``facts`` are named particulars shown above the consequence
    (which case, to whom); ``carry`` are the fields the first form sent (a reason, an
    agency), posted again as they were with the confirmation."""
    context = {
        "tenant": request.tenant,
        "membership": request.membership,
        "heading": heading,
        "title": title,
        "consequence": consequence,
        "button": button,
        "back_url": back_url,
        "facts": list(facts),
        "carry": list(carry),
        "cancel": cancel,
    }
    response = render(request, "review/confirm.html", context)
    patch_cache_control(response, no_store=True, private=True)  # never replayed from a cache
    return response
