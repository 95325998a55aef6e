"""Moderator wellness preferences, kept in the session."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


@login_required
@require_POST
def toggle_calm(request: HttpRequest) -> HttpResponse:
    """Grayscale, motion-free pages for moderators who want fewer stimuli."""
    request.session["calm"] = not request.session.get("calm", False)
    back = request.POST.get("next", "/")
    safe = url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
    return redirect(back if safe else "/")
