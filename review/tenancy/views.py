"""Tenancy pages: home (the tenants a person belongs to), a person's invitations, the calm
preference, and the admin's Members and API keys pages.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review.confirmation import confirm_page, confirmed
from review.errors import add_to_form
from review.models import ApiKey, Invitation, Membership, ReviewError, Role
from review.tenancy import selectors, services
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability, member_can
from review.tenancy.forms import ApiKeyForm, InvitationForm, MemberCreateForm

# A new account's password and a new API key's secret are shown once, in the answer to the
# POST that made them: never in the session, which the database keeps (signed, not
# encrypted) until it expires, and PostgreSQL's dead rows, WAL and backups for longer.
_KEY_FORM_TOKENS = "admin-key-form-tokens"
_KEY_FORM_TOKENS_KEPT = 10  # as many Create key forms as an admin may have open in tabs
ALREADY_SENT = (
    "This form was already sent, or comes from an old page: no key was made now. A key it "
    "made is in the list above; its secret is not shown again. To make a key, press Create "
    "key again."
)


def _page(
    request: ArtemisRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.update(tenant=request.tenant, membership=request.membership)
    response = render(request, template, context, status=status)
    if "once" in context:  # the secret is in this answer: no cache may keep a copy
        patch_cache_control(response, no_store=True, private=True)
    return response


def _notice(error: ReviewError) -> str:
    """A service's refusal as a sentence for a page's message: its message without the field
    name ``str(error)`` puts first (that is for forms and logs, not for people)."""
    text = error.message.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _confirm_page(
    request: ArtemisRequest, *, title: str, consequence: str, button: str, back_to: str
) -> HttpResponse:
    """Ask before something that cannot be undone (``review.confirmation``), on an admin page."""
    return confirm_page(
        request,
        heading="Admin",
        title=title,
        consequence=consequence,
        button=button,
        back_url=reverse(back_to, args=[request.tenant.slug]),
    )


def _own_or_404(rows: QuerySet[Any], pk: int, what: str) -> None:
    """Another tenant's id answers 404, as if it did not exist (the service would refuse it
    too, but with a message that tells it apart from an id that exists nowhere)."""
    if not rows.filter(pk=pk).exists():
        raise Http404(f"no such {what}")


def _key_form_token(request: ArtemisRequest) -> str:
    """A token for one Create key form, spent by the key it makes. The page with a new key
    answers the POST itself, so a browser's reload sends the same form again: with its token
    spent, that makes no second key. (The token is no secret: it only tells the forms apart.)"""
    token = secrets.token_urlsafe(16)
    kept = request.session.get(_KEY_FORM_TOKENS, [])[-(_KEY_FORM_TOKENS_KEPT - 1) :]
    request.session[_KEY_FORM_TOKENS] = [*kept, token]
    return token


def _key_form_token_spend(request: ArtemisRequest) -> bool:
    token = request.POST.get("form_token", "")
    kept = request.session.get(_KEY_FORM_TOKENS, [])
    if token not in kept:
        return False
    request.session[_KEY_FORM_TOKENS] = [t for t in kept if t != token]
    return True


@tenant_page(Capability.ADMINISTER)
@require_GET
def admin_home(request: ArtemisRequest) -> HttpResponse:
    return redirect("tenancy:admin_members", tenant_slug=request.tenant.slug)


def _members_page(
    request: ArtemisRequest,
    *,
    create_form: MemberCreateForm | None = None,
    invite_form: InvitationForm | None = None,
    once: dict[str, str] | None = None,
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
    if once:
        context["once"] = once
    failed = create_form.errors or invite_form.errors
    status = 400 if failed else 201 if once else 200
    return _page(request, "review/tenancy/admin_members.html", context, status=status)


@tenant_page(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def admin_members(request: ArtemisRequest) -> HttpResponse:
    """The members, the invitations, and (POST) a new account created for this tenant. Its
    password is shown in the answer to the POST; sending the form again (a reload) makes no
    second account: the name is taken."""
    if request.method != "POST":
        return _members_page(request)
    form = MemberCreateForm(request.POST)
    if form.is_valid():
        try:
            membership, password = services.member_create(
                tenant=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except ReviewError as exc:
            add_to_form(form, exc)
        else:
            name = membership.user.get_username()
            messages.success(request, f"{name} is now a {membership.get_role_display().lower()}.")
            return _members_page(
                request, once={"kind": "password", "label": name, "secret": password}
            )
    return _members_page(request, create_form=form)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_invite(request: ArtemisRequest) -> HttpResponse:
    """Invite a username or e-mail address. The answer is the same whether or not an
    account by that name exists anywhere: the service never looks."""
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_send(
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
            return redirect("tenancy:admin_members", tenant_slug=request.tenant.slug)
    return _members_page(request, invite_form=form)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_invitation_revoke(request: ArtemisRequest, invitation_id: int) -> HttpResponse:
    _own_or_404(selectors.invitation_rows(tenant=request.tenant), invitation_id, "invitation")
    try:
        invitation = services.invitation_revoke(
            tenant=request.tenant, actor=request.user, invitation_id=invitation_id
        )
    except ReviewError as exc:
        messages.error(request, _notice(exc))
    else:
        messages.success(request, f"Invitation of {invitation.invitee} revoked.")
    return redirect("tenancy:admin_members", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_member_role(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    _own_or_404(selectors.member_list(tenant=request.tenant), membership_id, "member")
    try:
        membership = services.member_set_role(
            tenant=request.tenant,
            actor=request.user,
            membership_id=membership_id,
            role=request.POST.get("role", ""),
        )
    except ReviewError as exc:
        messages.error(request, _notice(exc))
    else:
        messages.success(
            request,
            f"{membership.user.get_username()} is now a {membership.get_role_display().lower()}.",
        )
    return redirect("tenancy:admin_members", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def admin_member_remove(request: ArtemisRequest, membership_id: int) -> HttpResponse:
    """Remove a member, after a page that names them: a GET, or a POST without ``confirm``
    (an old page's one-press form), only asks. Nothing undoes a removal but a new invitation."""
    membership = found_or_404(
        lambda: selectors.member_list(tenant=request.tenant).get(pk=membership_id), "member"
    )
    name = membership.user.get_username()
    back = redirect("tenancy:admin_members", tenant_slug=request.tenant.slug)
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself; ask another admin.")
        return back
    if not confirmed(request):
        return _confirm_page(
            request,
            title=f"Remove {name} from {request.tenant.name}?",
            consequence=(
                f"{name} can no longer open {request.tenant.name}'s pages. Their account, "
                "their decisions and the audit trail stay. To undo it, invite them again."
            ),
            button=f"Remove {name}",
            back_to="tenancy:admin_members",
        )
    try:
        services.member_remove(
            tenant=request.tenant, actor=request.user, membership_id=membership_id
        )
    except ReviewError as exc:
        messages.error(request, _notice(exc))
    else:
        messages.success(request, f"{name} was removed from {request.tenant.name}.")
    return back


@tenant_page(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def admin_keys(request: ArtemisRequest) -> HttpResponse:
    """The tenant's API keys and (POST) a new one, whose secret is shown in the answer."""
    form = ApiKeyForm(request.POST or None)
    once: dict[str, str] | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if not _key_form_token_spend(request):
            form.add_error(None, ALREADY_SENT)
            status = 409
        else:
            try:
                api_key, raw = services.api_key_issue(
                    tenant=request.tenant, actor=request.user, name=form.cleaned_data["name"]
                )
            except ReviewError as exc:
                add_to_form(form, exc)
            else:
                once = {"kind": "api_key", "label": api_key.name, "secret": raw}
                form, status = ApiKeyForm(), 201
    if form.errors and status == 200:
        status = 400
    context = {
        "form": form,
        "form_token": _key_form_token(request),
        "keys": selectors.api_key_list(tenant=request.tenant),
    }
    if once:
        context["once"] = once
    return _page(request, "review/tenancy/admin_keys.html", context, status=status)


def _key_label(api_key: ApiKey) -> str:
    return f"{api_key.name} ({api_key.prefix}…)"


@tenant_page(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def admin_key_revoke(request: ArtemisRequest, key_id: int) -> HttpResponse:
    """Revoke a key, after a page that names it: the platform's requests with it fail at
    once, so a GET, or a POST without ``confirm``, only asks."""
    api_key = found_or_404(
        lambda: selectors.api_key_list(tenant=request.tenant).get(pk=key_id), "API key"
    )
    back = redirect("tenancy:admin_keys", tenant_slug=request.tenant.slug)
    if api_key.revoked_at is not None:
        messages.error(request, f"The key {_key_label(api_key)} is already revoked.")
        return back
    if not confirmed(request):
        return _confirm_page(
            request,
            title=f"Revoke the key {_key_label(api_key)}?",
            consequence=(
                "Every request the platform sends with this key fails from now on, so its "
                "conversations stop reaching Artemis until it uses another key. A revoked "
                "key cannot be used again."
            ),
            button=f"Revoke {api_key.prefix}…",
            back_to="tenancy:admin_keys",
        )
    try:
        api_key = services.api_key_withdraw(
            tenant=request.tenant, actor=request.user, api_key_id=key_id
        )
    except ReviewError as exc:
        messages.error(request, _notice(exc))
    else:
        messages.success(request, f"The key {_key_label(api_key)} was revoked.")
    return back


@login_required
@require_GET
def invitations(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "review/tenancy/invitations.html",
        {"invitations": selectors.invitation_open_list(user=request.user)},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def invitation_accept(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        membership = services.invitation_accept(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None
    except ReviewError as exc:
        messages.error(request, exc.message)
        return redirect("invitations")
    messages.success(
        request,
        f"You joined {membership.tenant.name} as {membership.get_role_display().lower()}.",
    )
    return redirect(landing(membership), tenant_slug=membership.tenant.slug)


@login_required
@require_POST
def invitation_decline(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = services.invitation_decline(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None
    messages.success(request, f"You declined the invitation to {invitation.tenant.name}.")
    return redirect("invitations")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list(user=request.user)
    invitation_count = len(selectors.invitation_open_list(user=request.user))
    if len(memberships) == 1 and not invitation_count:
        return redirect(landing(memberships[0]), tenant_slug=memberships[0].tenant.slug)
    return render(
        request,
        "review/tenancy/home.html",
        {
            "memberships": [(m, landing(m)) for m in memberships],
            "invitation_count": invitation_count,
        },
    )


def landing(membership: Membership) -> str:
    """The URL name of a member's first page in the tenant: the queue for those who decide,
    the decision log for those who only read (an auditor)."""
    if member_can(membership, Capability.DECIDE):
        return "queue:queue"
    if member_can(membership, Capability.READ_DECISIONS):
        return "decisions:decision_log"
    return "cases:cases"


@login_required
@require_POST
def toggle_calm(request: HttpRequest) -> HttpResponse:
    """Grayscale, motion-free pages for moderators who want fewer stimuli."""
    request.session["calm"] = not request.session.get("calm", False)
    back = request.POST.get("next", "/")
    safe = url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
    return redirect(back if safe else "/")
