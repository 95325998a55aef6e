"""Root URLs: the API (/api/v1/, its schema and docs), Django's admin and the console."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("api/v1/", include("review.api.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("django-admin/", admin.site.urls),
    path("", include("review.urls")),
]

# Under /api/ even Django's own errors answer in the API's JSON shape (review/api/errors.py).
handler400 = "review.api.errors.bad_request"
handler403 = "review.api.errors.permission_denied"
handler404 = "review.api.errors.page_not_found"
handler500 = "review.api.errors.server_error"
