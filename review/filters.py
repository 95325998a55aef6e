"""Query-string filters that list pages share: a period given as two dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = f"{field}: {value!r} is not a date; use YYYY-MM-DD"
        return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def date_range(
    params: Mapping[str, str],
) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """[start, end) in UTC from ``from`` and ``to`` (dates, both inclusive; either may be left
    out), and an error per bad field, keyed by the field's name."""
    errors: dict[str, str] = {}
    first = _day(params.get("from", ""), "from", errors)
    last = _day(params.get("to", ""), "to", errors)
    if first and last and last < first:
        errors["to"] = "to: the period ends before it starts"
    start = _midnight(first) if first else None
    end = _midnight(last + timedelta(days=1)) if last else None
    return start, end, errors
