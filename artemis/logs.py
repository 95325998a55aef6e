"""Log formatting that keeps chat text out of logs.

Artemis' own loggers only ever get ids and counts. The one way text could still reach a log
is an exception message written by someone else: PostgreSQL explains a refused row with a
``DETAIL: Failing row contains (...)`` line that quotes the row's values, a message's text
among them. These formatters keep the exception's type and traceback (where it happened) and
withhold the message of any database error.

Celery's worker also writes the exception into the line itself ("Task x[id] raised unexpected:
IntegrityError('... Failing row contains (...)')", "Task x[id] retry: Retry in 4s:
OperationalError('...')"): ``ExceptionKindFilter`` cuts such a line down to the exception's
class name, whatever the exception, as Artemis' own lines do. Its traceback, if any, follows
under the formatter's rule above.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from celery.exceptions import Retry
from django.db import DatabaseError

WITHHELD = "(message withheld: database errors can quote row values, such as chat text)"


def _redacted(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:
    kind, value, tb = exc_info
    lines = traceback.format_exception(kind, value, tb)
    chain: BaseException | None = value
    withhold = False
    while chain is not None:  # Django wraps the driver's error: look down the chain too
        withhold = withhold or isinstance(chain, DatabaseError) or _is_driver_error(chain)
        chain = chain.__cause__ or chain.__context__
    if not withhold:
        return "".join(lines).rstrip("\n")
    frames = traceback.format_tb(tb)
    return (
        "".join(
            [
                "Traceback (most recent call last):\n",
                *frames,
                f"{kind.__module__}.{kind.__name__}: ",
            ]
        )
        + WITHHELD
    )


def _is_driver_error(exc: BaseException) -> bool:
    # psycopg's and sqlite3's own errors, before Django wraps them.
    return type(exc).__module__.split(".")[0] in {"psycopg", "psycopg2", "sqlite3"}


class RedactingFormatter(logging.Formatter):
    def formatException(self, ei):  # type: ignore[no-untyped-def,override]
        return _redacted(ei)


def redact(formatter: logging.Formatter) -> None:
    """Make an existing formatter (Celery's, say, which adds task ids) withhold database
    errors' messages too."""
    formatter.formatException = _redacted  # type: ignore[method-assign,assignment]


TRACEBACK_WITHHELD = "(traceback withheld: no exception to redact it from)"
_REDUCED = "_artemis_exceptions_reduced"


def exception_kind(exc: BaseException) -> str:
    """What a log may say about an exception: its class, never its message."""
    # Celery wraps an exception it cannot pickle, keeping only the class's name and module.
    wrapped = getattr(exc, "exc_cls_name", None)
    if isinstance(wrapped, str):
        module = getattr(exc, "exc_module", "")
        return f"{module}.{wrapped}" if module and module != "builtins" else wrapped
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _retry_kind(retry: BaseException) -> str:
    """A Celery ``Retry`` says when, and (in its ``excs``) the repr of what caused it."""
    humanize = getattr(retry, "humanize", None)
    when = humanize() if callable(humanize) else "later"
    cause = getattr(retry, "exc", None)
    if isinstance(cause, BaseException):
        return f"Retry {when}: {exception_kind(cause)}"
    if getattr(retry, "excs", None):  # a cause given as text: withheld
        return f"Retry {when}: (reason withheld)"
    return f"Retry {when}"


class _Said(str):
    """What stands in for an exception among a line's arguments: the same under %s and %r
    (a plain str would gain quotes under %r)."""

    def __repr__(self) -> str:
        return str(self)


def _reduced(value: Any) -> Any:
    if not isinstance(value, BaseException):
        return value
    return _Said(_retry_kind(value) if isinstance(value, Retry) else exception_kind(value))


def _reduced_text(record: logging.LogRecord, text: str) -> str:
    """Celery has already turned the exception into text (its repr, or a Retry's str) in its
    trace lines' context: say what the exception being handled is instead, if that text is
    about it; otherwise withhold all of it."""
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    exc = exc or sys.exc_info()[1]  # Celery logs a failure or retry while handling it
    if exc is not None:
        if isinstance(exc, Retry) and text.startswith("Retry"):
            return _retry_kind(exc)
        name = getattr(exc, "exc_cls_name", None) or type(exc).__name__
        if text.startswith(name):
            return exception_kind(exc)
    return "(exception withheld)"


class ExceptionKindFilter(logging.Filter):
    """Rewrites a record's arguments so that an exception in them is only its class name:
    exceptions passed as arguments (``"...: %r", exc``), and the ``exc`` and ``traceback`` of
    the context Celery's trace logs a task's failure or retry with (its ``data`` too, which
    handlers may print). Attached to a handler; changes each record once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDUCED, False):
            return True
        setattr(record, _REDUCED, True)
        if isinstance(record.exc_info, tuple) and record.exc_info[1] is not None:
            # Formatters reuse the first one's text of the traceback: make it the redacted one.
            record.exc_text = _redacted(record.exc_info)
        args = record.args
        if isinstance(args, Mapping):
            reduced = dict(args)
            exc = reduced.get("exc")
            if isinstance(exc, str):
                reduced["exc"] = _reduced_text(record, exc)
            if "traceback" in reduced:  # Celery's own text of it, the message unredacted
                ei = record.exc_info
                has_exc = isinstance(ei, tuple) and ei[1] is not None
                reduced["traceback"] = _redacted(ei) if has_exc else TRACEBACK_WITHHELD
            reduced = {key: _reduced(value) for key, value in reduced.items()}
            if getattr(record, "data", None) is args:
                record.data = reduced
            record.args = reduced
        elif isinstance(args, tuple):
            record.args = tuple(_reduced(value) for value in args)
        return True


REDUCE_EXCEPTIONS = ExceptionKindFilter()
