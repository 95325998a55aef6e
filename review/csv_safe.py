"""The one way the project writes CSV: cells a spreadsheet would run as a formula are
neutralised (CSV or formula injection, CWE-1236; issue 12, finding 3).

Platform-controlled text (conversation and participant ids, chat text, account data) reaches
supervisors' and investigators' spreadsheets through our exports. A cell such as ``=1+1`` or
``@SUM(1)`` is a formula there, and formulas can fetch URLs or run commands.

The rule is OWASP's, exactly (https://owasp.org/www-community/attacks/CSV_Injection): a cell
whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
quote in front, so ``=1+1`` is written ``'=1+1``. Only the first character counts; a cell
that starts with a space (`` =1``) or a line feed is left as it is, as OWASP leaves it. The
csv module quotes every cell that holds a comma, a quote or a line break, so no text can
start a new cell of its own (OWASP's other half).

Numbers are numbers: an ``int``, ``float`` or ``Decimal`` is written unchanged, since its text
cannot be a formula and a negative one (a kappa of ``-0.2500``) should stay a number for the
reader. Everything else is text and follows the rule, including text the project formats
itself, such as the UTC offsets ``+01:00`` and ``-05:30``: a spreadsheet would otherwise do
arithmetic on them.

The csv module's own ``writer`` and ``DictWriter`` are banned elsewhere by ruff (TID251 in
pyproject.toml), so a new export cannot forget this. Exact values belong in JSON, which is
never touched.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def cell_neutralise(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet will run: ``None`` is empty, a number is kept,
    any other value becomes text with a ``'`` in front if it starts with a formula trigger."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


class Writer:
    """``csv.writer`` with every cell passed through ``cell_neutralise``."""

    def __init__(self, stream: _Writable, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        # Returns what the stream's write returned, as csv.writer does: a streaming response
        # yields it.
        return self._writer.writerow([cell_neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable, **fmtparams: Any) -> Writer:
    """A CSV writer over ``stream`` (a file, an ``HttpResponse``, ``io.StringIO``) that
    neutralises formula cells. Takes the csv module's format parameters."""
    return Writer(stream, **fmtparams)
