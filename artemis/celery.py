"""The Celery app. Workers run ``celery -A artemis worker``; see README for scaling."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    task_failure,
    task_retry,
    task_success,
    worker_ready,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artemis.settings")

app = Celery("artemis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger: logging.Logger, **kwargs: object) -> None:
    """The worker logs a failed task's exception through its own handlers and formatters:
    make them withhold database errors' messages (they can quote chat text) from tracebacks,
    and cut the exception in Celery's failure and retry lines themselves ("raised unexpected:
    IntegrityError(...)") down to its class name. On the handlers, not the loggers: a
    logger's filter misses the records its children (celery.app.trace) pass up to it."""
    from artemis.logs import REDUCE_EXCEPTIONS, redact

    for handler in logger.handlers:
        if handler.formatter is not None:
            redact(handler.formatter)
        handler.addFilter(REDUCE_EXCEPTIONS)  # once: addFilter skips a filter it has


@worker_ready.connect
def _send_outbox_on_start(sender: object, **kwargs: object) -> None:
    """A worker that starts (after a deploy, or once the broker is back) asks at once for
    the tasks owed while none could be sent, instead of waiting for beat's next sweep."""
    from review.tasks import send_outbox

    try:
        send_outbox.delay()
    except Exception as exc:  # the broker went away again: beat's sweep sends them later
        logging.getLogger("artemis.outbox").warning(
            "could not ask for the outbox sweep on start: %s", type(exc).__name__
        )


def _count(task_name: str, outcome: str) -> None:
    from review.operations.metrics import TASKS

    TASKS.labels(task=task_name, outcome=outcome).inc()


@task_success.connect
def _count_success(sender: object = None, **kwargs: object) -> None:
    _count(getattr(sender, "name", "?"), "success")


@task_failure.connect
def _count_failure(sender: object = None, **kwargs: object) -> None:
    _count(getattr(sender, "name", "?"), "failure")


@task_retry.connect
def _count_retry(sender: object = None, **kwargs: object) -> None:
    # The retry signal's sender is the request; its task name is on it.
    request = kwargs.get("request")
    _count(getattr(request, "task", None) or getattr(sender, "name", "?"), "retry")
