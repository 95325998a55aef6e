"""Sign-in security pages: the lockout page, two-factor enrolment (the secret, a QR code,
recovery codes shown once) and verification, and the admin's Sign-in page (the tenant's
two-factor requirement, members' two-factor and lockout state, unlocking).
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import segno
from axes.helpers import get_client_username
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from review.errors import add_to_form
from review.models import ReviewError
from review.signin import lockout, selectors, services
from review.signin.client_ip import client_ip
from review.signin.two_factor import SecondFactor, second_factor_state
from review.tenancy import selectors as tenancy_selectors
from review.tenancy.access import ArtemisRequest, tenant_page
from review.tenancy.capabilities import Capability

_CODES = "two-factor-recovery-codes"


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (the console's or the Django admin's):
    the sign-in page, 429, saying which lock holds (this username from this address, this
    username from everywhere, or this address as any username: only the first two are an
    admin's to lift) and for how long. It names no account: a username that has none locks
    the same way."""
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    held = lockout.locks_held(username=get_client_username(request, credentials), ip=ip)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": AuthenticationForm(request),
        "locks": held,
        "lock_account_at_address": lockout.ACCOUNT_AT_ADDRESS,
        "lock_account": lockout.ACCOUNT,
        "lockout_minutes": minutes,
        "next": request.POST.get("next", "") or request.GET.get("next", ""),
    }
    response = render(request, "review/signin/locked_out.html", context, status=429)
    # When every lock that holds has lifted.
    response["Retry-After"] = str(max((h.seconds_left for h in held), default=minutes * 60))
    return response


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), enter a code."""
    user: Any = request.user
    if second_factor_state(user) is SecondFactor.VERIFY:
        # Already set up: this page never shows an existing secret again.
        return redirect(_next(request) if user.is_verified() else reverse("two_factor_verify"))
    device = services.two_factor_enrol_begin(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_enrol_finish(
                user=user, token=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            otp_login(request, device)
            request.session.cycle_key()
            request.session[_CODES] = codes
            return redirect(_with_next("two_factor_codes", request))
    uri = device.config_url
    secret = b32encode(device.bin_key).decode()
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, svgclass="qr", title="QR code of the key, for an authenticator app"
    )
    context = {
        "form": form,
        "secret": _grouped(secret),
        "uri": uri,
        # segno writes the SVG from the URI's bits alone: no text of ours reaches it unescaped.
        "qr_svg": mark_safe(qr),  # noqa: S308
        "next": _next(request),
    }
    status = 400 if form.errors else 200
    return _no_store(render(request, "registration/two_factor_setup.html", context, status=status))


@login_required
@require_GET
def two_factor_codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes, once, right after enrolment."""
    codes = request.session.pop(_CODES, None)
    if not codes:
        return redirect(_next(request))
    context = {"codes": [f"{c[:4]}-{c[4:]}" for c in codes], "next": _next(request)}
    return _no_store(render(request, "registration/two_factor_codes.html", context))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator, or a recovery code."""
    user: Any = request.user
    if user.is_verified():
        return redirect(_next(request))
    if second_factor_state(user) is SecondFactor.ENROL:
        return redirect(_with_next("two_factor_setup", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.two_factor_check(
                user=user, token=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            otp_login(request, result.device)
            request.session.cycle_key()
            if result.recovery_codes_left is not None:
                left = result.recovery_codes_left
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. If you lost your "
                    "authenticator, ask an admin of your team to reset it.",
                )
            return redirect(_next(request))
    context = {"form": form, "next": _next(request)}
    status = 400 if form.errors else 200
    return _no_store(render(request, "registration/two_factor_verify.html", context, status=status))


# --- The admin's Sign-in page ----------------------------------------------------------------


def _member_or_404(request: ArtemisRequest, membership_id: int) -> None:
    """Another tenant's member is a 404, as on every admin page: the service would refuse
    too, but with a message that tells an id that exists elsewhere from one that does not."""
    if not tenancy_selectors.member_list(tenant=request.tenant).filter(pk=membership_id).exists():
        raise Http404("no such member")


@tenant_page(Capability.ADMINISTER)
@require_GET
def admin_signin(request: ArtemisRequest) -> HttpResponse:
    context = {
        "tenant": request.tenant,
        "membership": request.membership,
        "members": selectors.member_signin_list(tenant=request.tenant),
        "addresses_locked": selectors.addresses_locked(
            tenant=request.tenant, also=[client_ip(request)]
        ),
        "failure_limit": lockout.limit(lockout.ACCOUNT_AT_ADDRESS),
        "account_limit": lockout.limit(lockout.ACCOUNT),
        "address_limit": lockout.limit(lockout.ADDRESS),
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "review/signin/admin_signin.html", context)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_signin_two_factor(request: ArtemisRequest) -> HttpResponse:
    required = request.POST.get("require_two_factor") == "on"
    services.tenant_two_factor_set(
        tenant=request.tenant, actor=request.user, required=required, ip=client_ip(request)
    )
    messages.success(
        request,
        "Everyone now signs in with a second factor."
        if required
        else "Supervisors, admins and auditors sign in with a second factor; moderators may.",
    )
    return redirect("signin:admin_signin", tenant_slug=request.tenant.slug)


# What an admin's action on a member returns (a Membership, or what an unlock found).
Result = TypeVar("Result")


def _on_member(
    request: ArtemisRequest,
    membership_id: int,
    service: Callable[..., Result],
    done: Callable[[Result], tuple[int, str]],
) -> HttpResponse:
    """An admin's action on one member's sign-in: 404 for another tenant's member, the
    service's refusal as a message, else ``done(result)``'s (message level, text)."""
    _member_or_404(request, membership_id)
    try:
        result = service(
            tenant=request.tenant,
            actor=request.user,
            membership_id=membership_id,
            ip=client_ip(request),
        )
    except ReviewError as exc:
        messages.error(request, exc.message)
    else:
        messages.add_message(request, *done(result))
    return redirect("signin:admin_signin", tenant_slug=request.tenant.slug)


def _unlocked_said(unlocked: services.Unlocked) -> tuple[int, str]:
    who = unlocked.membership.user.get_username()
    if unlocked.addresses_locked:
        # "can sign in again" would be false from there.
        locks = services.address_locks_text(unlocked.addresses_locked)
        return messages.WARNING, f"{who}'s failed sign-ins are cleared, but {locks}."
    return messages.SUCCESS, f"{who} can sign in again."


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_signin_unlock(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    return _on_member(request, membership_id, services.member_signin_unlock, _unlocked_said)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_signin_reset(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    return _on_member(
        request,
        membership_id,
        services.member_two_factor_reset,
        lambda membership: (
            messages.SUCCESS,
            f"{membership.user.get_username()}'s second factor is reset: they set up a new "
            "authenticator at their next sign-in.",
        ),
    )
