"""Request parameters no field can hold: a NUL character, refused at the door.

PostgreSQL stores no NUL in text, so a filter or form value holding one (``?moderator=%00``)
reached the database and came back as a 500 from whichever query read it first, after the
view had started its work. No field of Artemis accepts one (Django's form fields refuse it;
the API's serializers too), so a query parameter or form field that holds one, in its name
or its value, is a 400 naming the parameter, before any view runs. The value is never echoed:
it may be searched chat text. JSON bodies are the API's serializers' to check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.request import QueryDict

NUL = "\x00"


def _holding_nul(params: QueryDict) -> str | None:
    """The name of the first parameter whose name or value holds a NUL, as printable text."""
    for name, values in params.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\x00")[:60]
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        where, name = "query parameter", _holding_nul(request.GET)
        if name is None and request.method == "POST":
            # Only form bodies are parsed here (JSON is left for the API to read).
            where, name = "form field", _holding_nul(request.POST)
        if name is None:
            return self.get_response(request)
        detail = f"the {where} {name!r} holds a NUL character, which no field accepts"
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": "invalid", "detail": detail, "fields": {name: [detail]}}, status=400
            )
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
