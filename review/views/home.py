"""Landing: send a member of one tenant to its first page (the queue, for those who decide),
let a member of several choose; anyone with invitations waiting sees them first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from review import selectors
from review.capabilities import Capability, member_can
from review.models import Membership


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list(user=request.user)
    invitation_count = len(selectors.invitation_open_list(user=request.user))
    if len(memberships) == 1 and not invitation_count:
        return redirect(landing(memberships[0]), tenant_slug=memberships[0].tenant.slug)
    return render(
        request,
        "review/home.html",
        {
            "memberships": [(m, landing(m)) for m in memberships],
            "invitation_count": invitation_count,
        },
    )


def landing(membership: Membership) -> str:
    """The URL name of a member's first page in the tenant: the queue for those who decide,
    the decision log for those who only read (an auditor)."""
    if member_can(membership, Capability.DECIDE):
        return "queue"
    if member_can(membership, Capability.READ_DECISIONS):
        return "decision_log"
    return "cases"
