"""What a page held under a lease needs, shared by the decision, second-review and appeal
pages: the countdown's starting figures, the skip (hand the lease back) and the heartbeat
(renew it). Views only: the lease logic itself is in ``review.queue.leases``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from review.models import ReviewError
from review.queue.leases import Lease
from review.tenancy.access import ArtemisRequest

Released = TypeVar("Released")


def lease_left(until: datetime | None, lease: Lease) -> dict[str, int]:
    """What the page's countdown starts from: the seconds left on the lease now, and the
    seconds a renewal gives (the script counts down from these, not from the clocks)."""
    left = (until - timezone.now()).total_seconds() if until else 0
    return {"lease_left": max(0, int(left)), "lease_seconds": int(lease.duration.total_seconds())}


def lease_released(
    request: ArtemisRequest,
    release: Callable[[], Released],
    *,
    back: str,
    said: Callable[[Released], str] | None = None,
) -> HttpResponse:
    """Hand a lease back (skip): the item, review or appeal returns to the pool. The list
    the person goes back to (the URL name ``back``) says what became of it (``said``, from
    what ``release`` returned) or why it was refused: a skip is never silent."""
    try:
        released = release()
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        if said is not None:
            messages.info(request, said(released))
    return redirect(back, tenant_slug=request.tenant.slug)


def lease_renewed(renew: Callable[[], object]) -> HttpResponse:
    """The open page's heartbeat extends its lease: 204, or the refusal with its status
    (409 when the lease was lost), which the page's script shows."""
    try:
        renew()
    except ReviewError as exc:
        return HttpResponse(str(exc), status=exc.http_status)
    return HttpResponse(status=204)
