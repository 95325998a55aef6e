"""The moderation queue page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from review import selectors
from review.views.base import ArtemisRequest, tenant_page


@tenant_page()
@require_GET
def queue(request: ArtemisRequest) -> HttpResponse:
    items = selectors.queue_item_list(tenant=request.tenant)[:100]
    return render(
        request,
        "review/queue.html",
        {"tenant": request.tenant, "membership": request.membership, "items": items},
    )
