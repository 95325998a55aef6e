"""The review domain's one error, raised by services and shown to the person who caused it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

Code = Literal[
    "invalid",  # bad input; usually names its field
    "forbidden",  # the actor may not do this
    "not_found",  # no such row for this tenant
    "conflict",  # the row's state does not allow it now
    "lease_lost",  # the caller does not (or no longer) hold the lease it acts under
    "upstream",  # another system (NCMEC) refused or did not answer
    "not_configured",  # the operator has not set what this needs
]

CODES: frozenset[str] = frozenset(get_args(Code))

HTTP_STATUS: dict[str, int] = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "lease_lost": 409,
    "upstream": 502,
    "not_configured": 503,
}


class ReviewError(Exception):
    """A state change the review domain does not allow; views and APIs turn it into a 4xx.

    A subclass may set its own default ``code`` as a class attribute."""

    code: str = ""

    def __init__(self, message: str, *, field: str | None = None, code: Code | None = None):
        self.message = message
        self.field = field or None
        chosen = code or type(self).code or ("invalid" if self.field else "conflict")
        if chosen not in CODES:
            raise ValueError(f"unknown ReviewError code {chosen!r}; one of {sorted(CODES)}")
        self.code = chosen
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r}, code={self.code!r})"

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


def add_to_form(
    form: Any, error: ReviewError, *, field_of: Callable[[str], str] | None = None
) -> None:
    """Put ``error`` on a Django form: by its field when the form has one of that name
    (``field_of`` turns a service's field path into the form's field name), else as a
    non-field error that still names the field."""
    name = error.field
    if name is not None and field_of is not None:
        name = field_of(name)
    if name is not None and name in form.fields:
        form.add_error(name, error.message)
    else:
        form.add_error(None, str(error))
