"""The referral package download: supervisors and admins only, every download audited."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from review import selectors
from review.models import Case, ReviewError, Role
from review.referral.package import package_filename
from review.services.referral import referral_package_download
from review.views.base import ArtemisRequest, tenant_page


@tenant_page(Role.SUPERVISOR)
@require_GET
def case_package(request: ArtemisRequest, case_id: int) -> HttpResponse:
    try:
        case = selectors.case_get(tenant=request.tenant, pk=case_id)
    except Case.DoesNotExist:
        raise Http404("no such case") from None
    try:
        data, sha256 = referral_package_download(
            case=case, actor=request.user, ip=request.META.get("REMOTE_ADDR")
        )
    except ReviewError as exc:
        return HttpResponse(
            str(exc), status=exc.http_status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{package_filename(case, sha256)}"'
    response["Content-Length"] = str(len(data))
    # Evidence: no shared cache or browser cache may keep a copy.
    response["Cache-Control"] = "no-store, private"
    response["X-Package-SHA256"] = sha256
    return response
