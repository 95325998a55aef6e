"""A signed-in person's invitations to join tenants: the list, accept and decline.

Only the invitee sees an invitation (it is addressed to their username or e-mail address);
any other id answers 404, as if it did not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from review import selectors
from review.models import Invitation, ReviewError
from review.services import members


@login_required
@require_GET
def invitations(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "review/invitations.html",
        {"invitations": selectors.invitation_open_list(user=request.user)},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def invitation_accept(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        membership = members.invitation_accept(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None
    except ReviewError as exc:
        messages.error(request, exc.message)
        return redirect("invitations")
    messages.success(
        request,
        f"You joined {membership.tenant.name} as {membership.get_role_display().lower()}.",
    )
    return redirect("queue", tenant_slug=membership.tenant.slug)


@login_required
@require_POST
def invitation_decline(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = members.invitation_decline(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None
    messages.success(request, f"You declined the invitation to {invitation.tenant.name}.")
    return redirect("invitations")
