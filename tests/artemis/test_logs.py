"""Logs never quote chat text, not even through a database error's message."""

from __future__ import annotations

import logging

import pytest
from django.db import IntegrityError, connection, transaction

from artemis.logs import WITHHELD, RedactingFormatter, redact
from review.models import Conversation, Message, Tenant

pytestmark = pytest.mark.django_db

SECRET_TEXT = "a line only the chat should ever hold"


def failing_insert(tenant: Tenant) -> BaseException:
    """A message row the database refuses (no sender), with text in it."""
    conversation = Conversation.objects.create(tenant=tenant, external_id="c1")
    try:
        with transaction.atomic():
            Message.objects.create(
                conversation=conversation,
                external_id="m1",
                sender=None,
                sent_at="2026-11-01T10:00Z",
                utc_offset_minutes=0,
                position=0,
                text=SECRET_TEXT,
            )
    except IntegrityError as exc:
        return exc
    raise AssertionError("a message without a sender was accepted")


def formatted(formatter: logging.Formatter, exc: BaseException) -> str:
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "failed", None, None)
    record.exc_info = (type(exc), exc, exc.__traceback__)
    return formatter.format(record)


def test_a_database_error_is_logged_with_its_type_and_place_but_not_its_message(
    acme: Tenant,
) -> None:
    exc = failing_insert(acme)

    line = formatted(RedactingFormatter("%(message)s"), exc)

    assert "IntegrityError" in line
    assert "test_logs.py" in line, "the traceback still says where it happened"
    assert WITHHELD in line
    assert SECRET_TEXT not in line
    if connection.vendor == "postgresql":
        # What a plain formatter would have written: PostgreSQL quotes the refused row.
        assert SECRET_TEXT in formatted(logging.Formatter("%(message)s"), exc)


def test_other_errors_keep_their_message() -> None:
    try:
        raise ValueError("conversation 42 has no participants")
    except ValueError as exc:
        line = formatted(RedactingFormatter("%(message)s"), exc)

    assert "ValueError: conversation 42 has no participants" in line


def test_the_workers_formatters_are_redacted_too(acme: Tenant) -> None:
    exc = failing_insert(acme)
    celery_like = logging.Formatter("[%(asctime)s: %(levelname)s/%(processName)s] %(message)s")

    redact(celery_like)

    assert SECRET_TEXT not in formatted(celery_like, exc)
