"""Response headers that keep chat, account and case data out of caches (issue 12).

Every response Django renders says `Cache-Control: no-store, private`, whoever asked and
whatever the status, except the few views named in CACHEABLE_VIEW_NAMES. A new page or
export is therefore private from its first line of code; making something cacheable is an
explicit edit here. Static files never reach this middleware: WhiteNoise, placed before it,
answers them with its own long-lived caching headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

# The public API description and its viewer: the same for everyone, no tenant data.
CACHEABLE_VIEW_NAMES = frozenset({"api-schema", "api-docs"})


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in CACHEABLE_VIEW_NAMES:
            # patch_cache_control drops a "public" a view may have set, and no-store
            # overrides any max-age left beside it.
            patch_cache_control(response, no_store=True, private=True)
        return response
