"""Log formatting that keeps chat text out of logs.

Artemis' own loggers only ever get ids and counts. The one way text could still reach a log
is an exception message written by someone else: PostgreSQL explains a refused row with a
``DETAIL: Failing row contains (...)`` line that quotes the row's values, a message's text
among them. These formatters keep the exception's type and traceback (where it happened) and
withhold the message of any database error.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

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
