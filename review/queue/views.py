"""The moderation queue page. With htmx it refreshes its table every 30 seconds; without
JavaScript the filters are a plain GET form and the page works the same.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from review.decisions import selectors as decisions_selectors
from review.models import QueueStatus
from review.presentation import waited_label
from review.queue import selectors
from review.tenancy.access import ArtemisRequest, tenant_page
from review.tenancy.capabilities import Capability, member_can
from scoring import characteristics


@tenant_page(Capability.DECIDE)
@require_GET
def queue(request: ArtemisRequest) -> HttpResponse:
    filters = {
        "characteristic": request.GET.get("characteristic", "")
        if request.GET.get("characteristic", "") in characteristics.BY_KEY
        else "",
        "band": request.GET.get("band", "")
        if request.GET.get("band") in selectors.SCORE_BANDS
        else "",
        "status": request.GET.get("status", "")
        if request.GET.get("status") in (QueueStatus.WAITING, QueueStatus.CLAIMED)
        else "",
    }
    page = selectors.queue_page(tenant=request.tenant, **filters)
    now = timezone.now()
    sla = timedelta(minutes=settings.ARTEMIS_QUEUE_SLA_MINUTES)
    # Display values made here, not by template filters: on 50 rows those filters were about
    # a third of the page's own time (cProfile on bench/queue.py's data).
    rows = [
        {
            "item": item,
            "probability": f"{item.probability:.2f}",
            "chips": [(key, characteristics.get(key).label) for key in item.characteristic_keys],
            "waited": waited_label(now - item.enqueued_at),
            "late": now - item.enqueued_at > (sla / 4 if item.urgent else sla),
        }
        for item in page.items
    ]
    context = {
        "tenant": request.tenant,
        "membership": request.membership,
        "page": page,
        "rows": rows,
        "filters": filters,
        "query": request.GET.urlencode(),
        "legend": characteristics.CHARACTERISTICS,
        "bands": list(selectors.SCORE_BANDS),
        "sla_minutes": settings.ARTEMIS_QUEUE_SLA_MINUTES,
        "exposure": decisions_selectors.moderator_exposure(
            tenant=request.tenant, moderator=request.user
        ),
    }
    if not request.htmx:
        # Outside the self-refreshing table: what waits besides the queue.
        context["second_reviews_waiting"] = decisions_selectors.second_review_waiting_for(
            tenant=request.tenant, reviewer=request.user
        )
        if member_can(request.membership, Capability.SUPERVISE):
            context["supervision"] = decisions_selectors.supervision_counts(tenant=request.tenant)
    template = "review/queue/queue.html#queue-table" if request.htmx else "review/queue/queue.html"
    return render(request, template, context)
