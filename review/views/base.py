"""What every tenant page shares: the typed request and the tenant/role check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from review import selectors
from review.models import Membership, Role, Tenant

RANK = {Role.MODERATOR: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class ArtemisRequest(HttpRequest):
    htmx: HtmxDetails
    user: AbstractBaseUser
    membership: Membership
    tenant: Tenant


View = Callable[..., HttpResponse]


def tenant_page(min_role: str = Role.MODERATOR) -> Callable[[View], View]:
    """Resolve the tenant in the URL through the user's own memberships (another tenant's
    slug answers 404, as if it did not exist) and require at least ``min_role`` (403)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, tenant_slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponse:
            membership = selectors.membership_get(user=request.user, tenant_slug=tenant_slug)
            if membership is None:
                raise Http404("no such tenant")
            if RANK[Role(membership.role)] < RANK[Role(min_role)]:
                raise PermissionDenied(f"this page is for {Role(min_role).label.lower()}s")
            request.membership = membership  # type: ignore[attr-defined]
            request.tenant = membership.tenant  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
