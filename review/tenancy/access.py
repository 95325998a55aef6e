"""What every tenant page shares: the typed request and the tenant/capability check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from review.audit.services import audit_events_recorded, audit_page_view
from review.models import Membership, Tenant
from review.signin.client_ip import client_ip
from review.tenancy import selectors
from review.tenancy.capabilities import AUDITED_PAGES, Capability, member_can


class ArtemisRequest(HttpRequest):
    htmx: HtmxDetails
    user: AbstractBaseUser
    membership: Membership
    tenant: Tenant


View = Callable[..., HttpResponse]
T = TypeVar("T")


def tenant_page(
    capability: Capability, *, post: Capability | None = None, htmx_part: bool = False
) -> Callable[[View], View]:
    """Resolve the tenant in the URL through the user's own memberships (another tenant's
    slug answers 404, as if it did not exist) and require ``capability`` (403), and ``post``
    as well for a POST when given (a page anyone who reads it may see, but fewer may change).

    A page whose ``capability`` is in ``AUDITED_PAGES`` records each view (a GET answered
    2xx) in the audit trail, unless the view recorded an event itself (a conversation it
    showed, an export): one event per view, never two. Only a view declared ``htmx_part``
    (it answers htmx with a part of a page already recorded: a status panel's poll, a
    what-if recomputed as its inputs change) skips the record for an htmx request; any other
    page is recorded whatever the request's headers say, since a client sets them.
    """

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, tenant_slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponse:
            membership = selectors.membership_get(user=request.user, tenant_slug=tenant_slug)
            if membership is None:
                raise Http404("no such tenant")
            needs = [capability] + ([post] if post and request.method == "POST" else [])
            for need in needs:
                if not member_can(membership, need):
                    raise PermissionDenied(f"this needs the capability {need.value!r}")
            request.membership = membership  # type: ignore[attr-defined]
            request.tenant = membership.tenant  # type: ignore[attr-defined]
            audited = capability in AUDITED_PAGES and request.method == "GET"
            if not audited or (htmx_part and getattr(request, "htmx", False)):
                return view(request, *args, **kwargs)
            with audit_events_recorded() as recorded:
                response = view(request, *args, **kwargs)
            if 200 <= response.status_code < 300 and not recorded:
                match = request.resolver_match
                audit_page_view(
                    tenant=membership.tenant,
                    actor=request.user,  # type: ignore[arg-type]
                    page=match.view_name if match else request.path,
                    path=request.path,
                    filters=request.GET.keys(),
                    ip=client_ip(request),
                )
            return response

        return wrapper

    return decorate


def found_or_404(lookup: Callable[[], T], what: str) -> T:
    """``lookup()``'s row, or a 404 naming ``what``: a selector raises ``DoesNotExist`` for a
    row that is not the tenant's as for one that does not exist, and the page says neither."""
    try:
        return lookup()
    except ObjectDoesNotExist:
        raise Http404(f"no such {what}") from None
