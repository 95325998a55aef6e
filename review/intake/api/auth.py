"""API key authentication: ``Authorization: Bearer <key>``.

A client that keeps sending wrong keys is throttled by address: past
``ARTEMIS_API_KEY_FAILURES_PER_MINUTE`` failures in a minute, a wrong key answers 429 with
``Retry-After`` instead of 401. The key is looked up first, so a valid key is never slowed,
even from an address that also sends wrong ones (a shared NAT, a misconfigured sibling
service); guessing a 256-bit key is hopeless anyway, the throttle stops the flood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from review.models import ApiKey, Tenant
from review.tenancy import selectors


@dataclass(frozen=True, slots=True)
class PlatformClient:
    """``request.user`` of an API request: the platform calling with one tenant's key."""

    tenant: Tenant
    api_key: ApiKey
    is_authenticated: bool = True


class FailedApiKeyThrottle(SimpleRateThrottle):
    """Counts failed authentications per client address, in Django's cache (shared by every
    web process: see CACHES). DRF's NUM_PROXIES decides the address, as for sign-in."""

    scope = "api_key_failure"

    def __init__(self) -> None:
        self.rate = f"{settings.ARTEMIS_API_KEY_FAILURES_PER_MINUTE}/min"
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _failed(request: Any, message: str) -> exceptions.APIException:
    throttle = FailedApiKeyThrottle()
    if not throttle.allow_request(request, None):
        return exceptions.Throttled(
            wait=throttle.wait(),
            detail="too many failed API-key attempts from this address; retry later.",
        )
    return exceptions.AuthenticationFailed(message)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[PlatformClient, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            raise exceptions.NotAuthenticated("send your API key as 'Authorization: Bearer <key>'.")
        keyword, _, raw = header.partition(" ")
        # The scheme is case-insensitive (RFC 9110, 11.1): "bearer <key>", as some HTTP
        # clients write it, is the same credential, not a wrong key counted to a throttle.
        if keyword.lower() != self.keyword.lower() or not raw.strip():
            raise _failed(request, "the Authorization header must be 'Bearer <key>'.")
        api_key = selectors.api_key_get_active(raw_key=raw.strip())
        if api_key is None:
            raise _failed(request, "unknown or revoked API key.")
        return (PlatformClient(tenant=api_key.tenant, api_key=api_key), api_key)

    def authenticate_header(self, request: HttpRequest) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema (drf-spectacular finds it by subclassing)."""

    target_class = "review.intake.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A tenant API key (art_...)."}
