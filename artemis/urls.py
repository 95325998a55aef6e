"""Root URLs: the API (/api/v1/, its schema and docs), Django's admin and the console."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("api/v1/", include("review.intake.api.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (api/docs?script), so
    # the page needs no inline script under the Content-Security-Policy.
    # Swagger UI's stylesheet draws its icons as data: images. (There is no ReDoc page: its
    # bundle needs inline styles and blob: workers and loads its logo from a CDN.)
    path(
        "api/docs",
        csp_update({"img-src": "data:"})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("django-admin/", admin.site.urls),
    path("", include("review.urls")),
]

# Under /api/ even Django's own errors answer in the API's JSON shape (review/intake/api/errors.py).
handler400 = "review.intake.api.errors.bad_request"
handler403 = "review.intake.api.errors.permission_denied"
handler404 = "review.intake.api.errors.page_not_found"
handler500 = "review.intake.api.errors.server_error"
