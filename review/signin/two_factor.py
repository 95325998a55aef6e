"""Who must sign in with a second factor, and the gate that holds them to it.

Supervisors and admins (and Django staff) always; everyone in a tenant that asks it of all
its members; and anyone who has set up an authenticator, whatever their role. Until such a
user has passed the second factor in this session, every page but enrolment, verification
and sign-out sends them there. The API is not gated: it authenticates with API keys, never
with a session.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.models import Membership
from review.tenancy.capabilities import roles_needing_two_factor


class SecondFactor(StrEnum):
    NONE = "none"  # nothing asked of this user
    ENROL = "enrol"  # required, but no authenticator yet: set one up
    VERIFY = "verify"  # has an authenticator: enter a code


def two_factor_required(user: Any) -> bool:
    """A second factor is required of this user by role or by a tenant's policy."""
    if user.is_staff or user.is_superuser:
        return True
    return (
        Membership.objects.filter(user=user)
        .filter(Q(role__in=roles_needing_two_factor()) | Q(tenant__require_two_factor=True))
        .exists()
    )


def has_authenticator(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: Any) -> int:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return device.token_set.count() if device else 0


def second_factor_state(user: Any) -> SecondFactor:
    if has_authenticator(user):
        return SecondFactor.VERIFY
    if two_factor_required(user):
        return SecondFactor.ENROL
    return SecondFactor.NONE


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("two_factor_setup"),
        reverse("two_factor_verify"),
        reverse("two_factor_codes"),
        reverse("logout"),
        reverse("login"),
    )


def _open_prefixes() -> tuple[str, ...]:
    return ("/api/", "/" + settings.STATIC_URL.lstrip("/"))


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and request.path_info not in _open_paths()
            and not request.path_info.startswith(_open_prefixes())
        ):
            state = second_factor_state(user)
            if state is not SecondFactor.NONE:
                return _send_to(request, state)
        return self.get_response(request)


def _send_to(request: HttpRequest, state: SecondFactor) -> HttpResponse:
    target = reverse("two_factor_setup" if state is SecondFactor.ENROL else "two_factor_verify")
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):
        # An htmx swap would put the whole page into a fragment: have htmx load it instead.
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)
