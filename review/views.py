"""Server-rendered pages. Every tenant page resolves the tenant from the URL through the
signed-in user's memberships, so another tenant's page answers 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from review import selectors
from review.models import Membership


def _membership(request: HttpRequest, tenant_slug: str) -> Membership:
    membership = selectors.membership_get(user=request.user, tenant_slug=tenant_slug)
    if membership is None:
        raise Http404("no such tenant")
    return membership


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list(user=request.user)
    if len(memberships) == 1:
        return redirect("queue", tenant_slug=memberships[0].tenant.slug)
    return render(request, "review/home.html", {"memberships": memberships})


@login_required
@require_GET
def queue(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    membership = _membership(request, tenant_slug)
    items = selectors.queue_item_list(tenant=membership.tenant)[:100]
    return render(
        request,
        "review/queue.html",
        {"tenant": membership.tenant, "membership": membership, "items": items},
    )
