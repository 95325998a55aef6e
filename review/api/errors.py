"""One error shape for the whole API, naming each bad field by its path in the request:

{"error": "invalid", "detail": "...", "fields": {"conversations[2].messages[0].text": ["..."]}}
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        first = next(iter(fields.items()))
        return error_response(
            "invalid", f"{first[0]}: {first[1][0]}", fields, status.HTTP_400_BAD_REQUEST
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = {"error": code, "detail": str(exc.detail)}
    return response
