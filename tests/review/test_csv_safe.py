"""The one CSV writer: cells a spreadsheet would run as a formula get a leading apostrophe
(OWASP's rule, exactly), everything else is written as it is."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from review import csv_safe
from tests.review_support import FORMULAS


def written(row: list[object]) -> list[str]:
    """``row`` written by the project's writer and read back by a CSV reader."""
    out = io.StringIO()
    csv_safe.writer(out).writerow(row)
    return next(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_starts_with_a_formula_character_gets_an_apostrophe(value: str) -> None:
    assert written([value]) == [f"'{value}"]


@pytest.mark.parametrize(
    "value",
    ["alice", "c-0", "kid-1", "2026-11-01T18:00:00+01:00", "a=b", "1-2", "user@example.org"],
)
def test_ordinary_text_is_written_as_it_is(value: str) -> None:
    assert written([value]) == [value]


def test_only_the_first_character_counts_as_owasp_says() -> None:
    # A leading space or line feed is not on OWASP's list; nor is a formula character later
    # in the cell, which the csv module keeps inside its quoted cell.
    harmless = [" =1+1", "\n=1+1", "1,=2", 'say "=1"']

    assert written(harmless) == harmless


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert written([-1, -0.25, Decimal("-0.2500"), 0, 42]) == ["-1", "-0.25", "-0.2500", "0", "42"]


def test_none_is_empty_and_other_values_are_text_under_the_same_rule() -> None:
    class Id:
        def __str__(self) -> str:
            return "=HYPERLINK(1)"

    assert written([None, date(2026, 11, 1), Id(), True]) == [
        "",
        "2026-11-01",
        "'=HYPERLINK(1)",
        "True",
    ]


def test_a_streaming_writer_yields_each_written_line() -> None:
    class Echo:
        def write(self, value: str) -> str:
            return value

    lines = csv_safe.writer(Echo())

    assert lines.writerow(["=1+1", "ok"]) == "'=1+1,ok\r\n"


def test_writerows_neutralises_every_row() -> None:
    out = io.StringIO()

    csv_safe.writer(out, lineterminator="\n").writerows([["@a"], ["b"]])

    assert out.getvalue() == "'@a\nb\n"
