"""API key authentication: ``Authorization: Bearer <key>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from review import selectors
from review.models import ApiKey, Tenant


@dataclass(frozen=True, slots=True)
class PlatformClient:
    """``request.user`` of an API request: the platform calling with one tenant's key."""

    tenant: Tenant
    api_key: ApiKey
    is_authenticated: bool = True


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[PlatformClient, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            raise exceptions.NotAuthenticated("send your API key as 'Authorization: Bearer <key>'.")
        keyword, _, raw = header.partition(" ")
        if keyword != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed(
                "the Authorization header must be 'Bearer <key>'."
            )
        api_key = selectors.api_key_get_active(raw_key=raw.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("unknown or revoked API key.")
        return (PlatformClient(tenant=api_key.tenant, api_key=api_key), api_key)

    def authenticate_header(self, request: HttpRequest) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema (drf-spectacular finds it by subclassing)."""

    target_class = "review.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A tenant API key (art_...)."}
