"""Admin pages: members and roles, invitations, API keys, the tenant policy and its versions.

Admins only (``tenant_page(Role.ADMIN)``: moderators and supervisors get 403, another
tenant's slug 404). Every POST redirects; secrets shown once (a new user's password, a new
API key) travel to the next page in the server-side session and are removed as they are
shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import admin_selectors as selectors
from review.admin_forms import (
    ApiKeyForm,
    InvitationForm,
    MemberCreateForm,
    PolicyForm,
    RollbackForm,
    policy_form_field,
)
from review.errors import add_to_form
from review.models import ReviewError, Role
from review.services import members, policy
from review.views.base import ArtemisRequest, tenant_page

_ONCE = "admin-show-once"


def _page(
    request: ArtemisRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.update(tenant=request.tenant, membership=request.membership)
    response = render(request, template, context, status=status)
    if "once" in context:
        response["Cache-Control"] = "no-store"
    return response


def _own_or_404(rows: QuerySet[Any], pk: int, what: str) -> None:
    """Another tenant's id answers 404, as if it did not exist (the service would refuse it
    too, but with a message that tells it apart from an id that exists nowhere)."""
    if not rows.filter(pk=pk).exists():
        raise Http404(f"no such {what}")


def _show_once(request: ArtemisRequest, **secret: str) -> None:
    request.session[_ONCE] = secret


def _pop_once(request: ArtemisRequest) -> dict[str, str] | None:
    return request.session.pop(_ONCE, None)


@tenant_page(Role.ADMIN)
@require_GET
def admin_home(request: ArtemisRequest) -> HttpResponse:
    return redirect("admin_members", tenant_slug=request.tenant.slug)


def _members_page(
    request: ArtemisRequest,
    *,
    create_form: MemberCreateForm | None = None,
    invite_form: InvitationForm | None = None,
) -> HttpResponse:
    create_form = create_form or MemberCreateForm()
    invite_form = invite_form or InvitationForm()
    context = {
        "create_form": create_form,
        "invite_form": invite_form,
        "members": selectors.member_list(tenant=request.tenant),
        "invitations": selectors.invitation_list(tenant=request.tenant),
        "roles": Role.choices,
    }
    once = _pop_once(request)
    if once:
        context["once"] = once
    failed = create_form.errors or invite_form.errors
    return _page(request, "review/admin_members.html", context, status=400 if failed else 200)


@tenant_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_members(request: ArtemisRequest) -> HttpResponse:
    """The members, the invitations, and (POST) a new account created for this tenant."""
    if request.method != "POST":
        return _members_page(request)
    form = MemberCreateForm(request.POST)
    if form.is_valid():
        try:
            membership, password = members.member_create(
                tenant=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            name = membership.user.get_username()
            _show_once(request, kind="password", label=name, secret=password)
            messages.success(request, f"{name} is now a {membership.get_role_display().lower()}.")
            return redirect("admin_members", tenant_slug=request.tenant.slug)
    return _members_page(request, create_form=form)


@tenant_page(Role.ADMIN)
@require_POST
def admin_invite(request: ArtemisRequest) -> HttpResponse:
    """Invite a username or e-mail address. The answer is the same whether or not an
    account by that name exists anywhere: the service never looks."""
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = members.invitation_send(
                tenant=request.tenant,
                actor=request.user,
                invitee=form.cleaned_data["invitee"],
                role=form.cleaned_data["role"],
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.invitee} as "
                f"{invitation.get_role_display().lower()}. If they have an account, they see it "
                f"when they sign in; it expires on {invitation.expires_at:%Y-%m-%d}.",
            )
            return redirect("admin_members", tenant_slug=request.tenant.slug)
    return _members_page(request, invite_form=form)


@tenant_page(Role.ADMIN)
@require_POST
def admin_invitation_revoke(request: ArtemisRequest, invitation_id: int) -> HttpResponse:
    _own_or_404(selectors.invitation_rows(tenant=request.tenant), invitation_id, "invitation")
    try:
        invitation = members.invitation_revoke(
            tenant=request.tenant, actor=request.user, invitation_id=invitation_id
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation of {invitation.invitee} revoked.")
    return redirect("admin_members", tenant_slug=request.tenant.slug)


@tenant_page(Role.ADMIN)
@require_POST
def admin_member_role(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    _own_or_404(selectors.member_list(tenant=request.tenant), membership_id, "member")
    try:
        membership = members.member_set_role(
            tenant=request.tenant,
            actor=request.user,
            membership_id=membership_id,
            role=request.POST.get("role", ""),
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{membership.user.get_username()} is now a {membership.get_role_display().lower()}.",
        )
    return redirect("admin_members", tenant_slug=request.tenant.slug)


@tenant_page(Role.ADMIN)
@require_POST
def admin_member_remove(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    _own_or_404(selectors.member_list(tenant=request.tenant), membership_id, "member")
    try:
        members.member_remove(
            tenant=request.tenant, actor=request.user, membership_id=membership_id
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Member removed.")
    return redirect("admin_members", tenant_slug=request.tenant.slug)


@tenant_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_keys(request: ArtemisRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, raw = members.api_key_issue(
                tenant=request.tenant, actor=request.user, name=form.cleaned_data["name"]
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            _show_once(request, kind="api_key", label=api_key.name, secret=raw)
            return redirect("admin_keys", tenant_slug=request.tenant.slug)
    context = {"form": form, "keys": selectors.api_key_list(tenant=request.tenant)}
    once = _pop_once(request)
    if once:
        context["once"] = once
    return _page(request, "review/admin_keys.html", context, status=400 if form.errors else 200)


@tenant_page(Role.ADMIN)
@require_POST
def admin_key_revoke(request: ArtemisRequest, key_id: int) -> HttpResponse:
    _own_or_404(selectors.api_key_list(tenant=request.tenant), key_id, "API key")
    try:
        api_key = members.api_key_withdraw(
            tenant=request.tenant, actor=request.user, api_key_id=key_id
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Key {api_key.prefix}… ({api_key.name}) revoked.")
    return redirect("admin_keys", tenant_slug=request.tenant.slug)


def _queue_message(version: Any) -> str:
    queue = version.reevaluation
    if not queue:
        return f"Policy version {version.number} saved."
    return (
        f"Policy version {version.number} saved. Queue: {queue['entered']} entered, "
        f"{queue['left']} left, {queue['updated']} re-prioritised, {queue['deferred']} "
        "claimed (applied when released)."
    )


@tenant_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_policy(request: ArtemisRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(request.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            version = policy.policy_change(
                tenant=request.tenant,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
                webhook_secret=form.secret(),
            )
        except ReviewError as exc:
            add_to_form(form, exc, field_of=policy_form_field)
        else:
            messages.success(request, _queue_message(version))
            return redirect("admin_policy", tenant_slug=request.tenant.slug)
    context = {
        "form": form,
        "versions": selectors.policy_version_list(tenant=request.tenant),
        "secret_set": bool(request.tenant.webhook_secret),
        "runs": selectors.retention_run_list(tenant=request.tenant)[:10],
    }
    return _page(request, "review/admin_policy.html", context, status=400 if form.errors else 200)


@tenant_page(Role.ADMIN)
@require_POST
def admin_policy_rollback(request: ArtemisRequest) -> HttpResponse:
    form = RollbackForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Not rolled back. {problems}")
        return redirect("admin_policy", tenant_slug=request.tenant.slug)
    try:
        version = policy.policy_rollback(
            tenant=request.tenant,
            actor=request.user,
            version_number=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except ReviewError as exc:
        messages.error(request, f"Not rolled back: {exc}")
    else:
        messages.success(
            request,
            f"Rolled back to version {form.cleaned_data['version']}. " + _queue_message(version),
        )
    return redirect("admin_policy", tenant_slug=request.tenant.slug)
