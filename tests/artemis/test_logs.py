"""Logs never quote chat text, not even through a database error's message."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery
from celery.app.trace import build_tracer
from celery.exceptions import Retry
from celery.signals import after_setup_logger
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


# --- the worker's own lines about a task's failure or retry ---------------------------------
# Celery writes the exception into the line itself ("Task x[id] raised unexpected:
# IntegrityError('...')"), not only into the traceback. These run a task through Celery's real
# tracer (the code a worker process runs it with) and log through a handler set up by Celery's
# own logging code and the worker's after_setup_logger signal.

WORKER_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] %(message)s"


@pytest.fixture
def worker_log() -> Iterator[Callable[[bool], io.StringIO]]:
    """``worker_log(redacted)``: a stream the "celery" logger writes to through Celery's own
    handler and formatter, after the worker's after_setup_logger signal if ``redacted``."""
    celery_logger = logging.getLogger("celery")
    level, handlers = celery_logger.level, list(celery_logger.handlers)

    def start(redacted: bool) -> io.StringIO:
        stream = io.StringIO()
        celery_logger.handlers = []
        celery_logger.setLevel(logging.INFO)
        worker_app.log.setup_handlers(celery_logger, stream, WORKER_FORMAT, colorize=False)
        assert len(celery_logger.handlers) == 1
        if redacted:
            after_setup_logger.send(
                sender=None,
                logger=celery_logger,
                loglevel=logging.INFO,
                logfile=None,
                format=WORKER_FORMAT,
                colorize=False,
            )
        return stream

    yield start
    celery_logger.handlers, celery_logger.level = handlers, level


# A Celery app of its own, so that no test task joins Artemis' and the tracer's process
# cleanup (Django's fixup closes the database connection) stays out of the test's transaction.
worker_app = Celery("artemis-log-tests", set_as_current=False)


def _refused_row_task(*, retried: bool = False, **options: Any) -> Any:
    """A task whose insert the database refuses; it raises the error, or (``retried``) asks
    for a retry because of it."""

    @worker_app.task(name=f"tests.refused_row.{len(worker_app.tasks)}", **options)
    def insert_refused_row(tenant_id: int) -> None:
        exc = failing_insert(Tenant.objects.get(pk=tenant_id))
        if retried:
            raise Retry(exc=exc, when=5)  # what Task.retry raises once it has re-sent the task
        raise exc

    return insert_refused_row


def run_in_worker(task: Any, tenant: Tenant) -> None:
    tracer = build_tracer(task.name, task, eager=False, propagate=False, app=worker_app)
    tracer("0b5e5f0e-task-id", (tenant.pk,), {}, {"id": "0b5e5f0e-task-id", "retries": 0})


def _error_text(tenant: Tenant) -> str:
    """The refused insert's message as the database words it (SQLite names the column;
    PostgreSQL also quotes the row, chat text included)."""
    text = str(failing_insert(tenant)).splitlines()[0]
    Conversation.objects.filter(tenant=tenant).delete()
    return text


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({}, "raised unexpected: django.db.utils.IntegrityError"),
        ({"throws": (IntegrityError,)}, "raised expected: django.db.utils.IntegrityError"),
        ({"retried": True}, "retry: Retry in 5s: django.db.utils.IntegrityError"),
    ],
    ids=["failure", "expected-failure", "retry"],
)
def test_the_workers_failure_and_retry_lines_name_the_exception_but_never_quote_it(
    acme: Tenant, worker_log: Any, options: dict[str, Any], line: str
) -> None:
    error_text = _error_text(acme)
    task = _refused_row_task(**options)

    plain = worker_log(False)
    run_in_worker(task, acme)
    Conversation.objects.filter(tenant=acme).delete()
    assert error_text in plain.getvalue(), "without the filter, Celery's line quotes it"

    redacted = worker_log(True)
    run_in_worker(task, acme)
    log = redacted.getvalue()

    assert f"Task {task.name}[0b5e5f0e-task-id] {line}" in log
    assert error_text not in log
    assert SECRET_TEXT not in log
    if "unexpected" in line:  # this one has its traceback: where, but not what
        assert "test_logs.py" in log
        assert WITHHELD in log


def test_an_exception_passed_to_a_worker_line_as_an_argument_is_only_its_class(
    acme: Tenant, worker_log: Any
) -> None:
    exc = failing_insert(acme)
    redacted = worker_log(True)

    # As celery.worker.request writes when a task's handler fails, and when a retry is sent.
    logging.getLogger("celery.worker.request").error("Task handler raised error: %r", exc)
    logging.getLogger("celery.worker.request").info(
        "Task %s[%s] retry: %s", "review.tasks.x", "id-1", Retry(exc=exc, when=30)
    )
    log = redacted.getvalue()

    assert "Task handler raised error: django.db.utils.IntegrityError\n" in log
    assert "Task review.tasks.x[id-1] retry: Retry in 30s: django.db.utils.IntegrityError" in log
    assert str(exc).splitlines()[0] not in log
    assert SECRET_TEXT not in log


def test_every_exception_in_a_worker_line_is_its_class_not_only_a_database_error(
    worker_log: Any,
) -> None:
    redacted = worker_log(True)

    logging.getLogger("celery.worker.request").error(
        "Task handler raised error: %r", ValueError("quoting a message: hello there")
    )

    assert "Task handler raised error: ValueError\n" in redacted.getvalue()
    assert "hello there" not in redacted.getvalue()
