"""Landing: send a member of one tenant to its queue, let a member of several choose; anyone
with invitations waiting sees them first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from review import selectors


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list(user=request.user)
    invitation_count = len(selectors.invitation_open_list(user=request.user))
    if len(memberships) == 1 and not invitation_count:
        return redirect("queue", tenant_slug=memberships[0].tenant.slug)
    return render(
        request,
        "review/home.html",
        {"memberships": memberships, "invitation_count": invitation_count},
    )
