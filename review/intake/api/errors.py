"""One error shape for the whole API, naming each bad field by its path in the request:

{"error": "invalid", "detail": "...", "fields": {"conversations[2].messages[0].text": ["..."]}}

Every answer under /api/ has this shape, an unexpected error included: a 500 says only that
it happened and gives an incident id; the log line with the same id names the exception's
type, where it was raised and the tenant and key, never the exception's message (a database
error can quote a row, and a row can be chat text).
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from review.errors import ReviewError
from review.intake.api.inputs import UNDECLARED, declared_field_names
from review.operations.metrics import INGEST_REJECTS

logger = logging.getLogger("artemis.api")


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"a[1].b": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a ListSerializer's errors, keyed by item index
                base = prefix.rstrip(".")
                for k, v in flatten(value, f"{base}[{key}].").items():
                    out.setdefault(k, []).extend(v)
                continue
            if key == "non_field_errors":
                name = prefix.rstrip(".") or "body"
                out.setdefault(name, []).extend(flatten(value, "").get("body", []))
                continue
            for k, v in flatten(value, f"{prefix}{key}.").items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix.rstrip(".") or "body"] = [str(item) for item in detail]
        else:
            base = prefix.rstrip(".")
            for index, item in enumerate(detail):
                if item:
                    for k, v in flatten(item, f"{base}[{index}].").items():
                        out.setdefault(k, []).extend(v)
    else:
        out[prefix.rstrip(".") or "body"] = [str(detail)]
    return out


def error_response(
    code: str, detail: str, fields: dict[str, list[str]] | None, status_code: int
) -> Response:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return Response(body, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _answer(exc, context)
    if response is not None and 400 <= response.status_code < 500:
        _count_reject(response)
    return response


def _count_reject(response: Response) -> None:
    """A refused request for the metrics, by its error code and the first field it names,
    with list positions dropped (``messages[].text``): names only, never values."""
    data = response.data if isinstance(response.data, dict) else {}
    fields = data.get("fields") or {}
    first = next(iter(fields), "") if isinstance(fields, dict) else ""
    field = re.sub(r"\[\d+\]", "[]", first)
    if first and any(str(m).startswith(UNDECLARED) for m in fields[first]):
        # An undeclared key is the client's own text (a key can be anything, chat too, and
        # may hold dots): never a label, and never a new series per key. Its parent is named
        # only when the part before the key is made of declared field names alone.
        field = _undeclared_label(field)
    INGEST_REJECTS.labels(code=str(data.get("error", response.status_code)), field=field).inc()


def _undeclared_label(path: str) -> str:
    """``participants[].<undeclared>`` for the path of an undeclared key under a declared
    field, ``<undeclared>`` where the key cannot be told apart from its parent."""
    declared = declared_field_names()
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = parts[:cut]
        if all(p.removesuffix("[]") in declared for p in parent):
            return ".".join(parent) + ".<undeclared>"
    return "<undeclared>"


def _answer(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ReviewError):
        # A service's refusal: its code is the answer's error and decides the status.
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.field else None
        return error_response(exc.code, str(exc), fields, exc.http_status)
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        first = next(iter(fields.items()))
        return error_response(
            "invalid", f"{first[0]}: {first[1][0]}", fields, status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException("request body over the size limit (10 MB).")
        exc.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("the request was refused as malformed.")
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()
        incident = _log_unexpected(exc, context)
        return error_response("server_error", _SERVER_ERROR.format(incident=incident), None, 500)
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = {"error": code, "detail": str(exc.detail)}
        if isinstance(exc, exceptions.ParseError):
            # The body as a whole is what cannot be read: named like any other bad field,
            # so a client reads every 400 the same way.
            response.data["fields"] = {"body": [str(exc.detail)]}
    return response


_SERVER_ERROR = "an unexpected error on our side; it was logged as incident {incident}."


def _log_unexpected(exc: BaseException, context: dict[str, Any]) -> str:
    """Log an unexpected error with ids only: its type, where it was raised, the view, the
    tenant and the API key; not its message. Returns the incident id the client is shown."""
    incident = secrets.token_hex(6)
    request = context.get("request")
    client = getattr(request, "user", None) if request is not None else None
    tenant_id = getattr(getattr(client, "tenant", None), "pk", None)
    key_id = getattr(getattr(client, "api_key", None), "pk", None)
    where = "".join(traceback.format_tb(exc.__traceback__)).rstrip("\n")
    logger.error(
        "incident %s: unexpected %s.%s in %s (tenant=%s api_key=%s); message withheld\n%s",
        incident,
        type(exc).__module__,
        type(exc).__name__,
        type(context.get("view")).__name__,
        tenant_id,
        key_id,
        where,
    )
    return incident


# Django's own error views, for what happens outside an API view (an unknown URL under
# /api/, an error in middleware): the API's shape under /api/, the usual pages elsewhere.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json("bad_request", "the request was refused as malformed.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json("permission_denied", "you may not do this.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json("not_found", "no such endpoint; see /api/docs.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django has already logged the error (django.request, message redacted for database
    # errors by artemis.logs); here only the answer changes.
    if _is_api(request):
        return _json("server_error", "an unexpected error; it has been logged.", 500)
    return defaults.server_error(request)
