"""Sign-ins, sign-outs and lockouts go to the audit trail of every tenant the account
belongs to.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from review.audit.services import audit_record
from review.models import AuditAction, Membership
from review.signin.client_ip import client_ip
from review.signin.services import signin_lockout_record


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def _record(user: Any, action: str, request: HttpRequest | None, label: str | None = None) -> None:
    for membership in Membership.objects.filter(user=user).select_related("tenant"):
        audit_record(
            tenant=membership.tenant,
            actor=user,
            action=action,
            target_type="user",
            target_id=str(user.pk),
            ip=_ip(request),
            actor_label=label,
        )


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record(user, AuditAction.LOGIN, request)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _record(user, AuditAction.LOGOUT, request)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username is kept (the password never is), and only for a real member.
    username = str(credentials.get("username", ""))
    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        _record(user, AuditAction.LOGIN_FAILED, request, label=username)


@receiver(user_locked_out)
def on_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    # django-axes signals every failed try while locked; the audit trail records the try
    # that reached the limit (the later ones are each a "failed sign-in" already).
    failures = getattr(request, "axes_failures_since_start", None)
    if username and failures == settings.AXES_FAILURE_LIMIT:
        signin_lockout_record(username=username, ip=ip_address, failures=failures)
