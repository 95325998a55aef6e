"""The client's address, the same way for sign-in lockouts (django-axes) and API throttling
(DRF's NUM_PROXIES): REMOTE_ADDR, or the address our own proxies put in X-Forwarded-For.

With ``ARTEMIS_PROXY_COUNT=0`` (the default) X-Forwarded-For is ignored: a client can write
anything there, and a throttle keyed on it would be no throttle.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.ARTEMIS_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies == 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Each of our proxies appends the address it saw; the one ours first saw is the client.
    return hops[-min(proxies, len(hops))] if hops else remote
