"""The transactional outbox: every Celery task a change calls for is sent through here.

``outbox_add`` writes the task as a row in the caller's transaction and, once it commits,
tries to send it; the row is deleted in the transaction that sends it, so it is deleted only
after the broker took it. If the broker is down the attempt is logged (ids only) and the
request carries on: its data is committed and the task is owed, not lost. ``outbox_send``
without ids is the sweep, run by celery beat and by each worker as it starts.

Two senders never send one row: each claims its rows with ``SELECT ... FOR UPDATE SKIP
LOCKED`` (on SQLite, transactions begin IMMEDIATE and so run one at a time). A row can still
go out twice if a sender dies between the broker's answer and its commit, as with any broker
delivery, so every task sent this way is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Task
from django.db import transaction

from artemis.celery import app
from review.models import OutboxMessage

logger = logging.getLogger("artemis.outbox")

# Rows claimed per transaction: the claim holds their locks while they are sent.
BATCH = 100


def outbox_add(*, task: Task, calls: Sequence[Sequence[Any]]) -> None:
    """Owe the broker one call of ``task`` per item of ``calls`` (positional arguments, ids
    only), in the current transaction; they are sent once it commits."""
    if not calls:
        return
    rows = OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=task.name, args=list(args)) for args in calls]
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _send_after_commit(ids))


def _send_after_commit(ids: list[int]) -> None:
    # The caller's data is committed: whatever goes wrong here, its request must not fail.
    try:
        outbox_send(message_ids=ids)
    except Exception as exc:
        logger.warning(
            "outbox send failed after commit messages=%s error=%s; the sweep sends them",
            ids[:10],
            type(exc).__name__,
        )


def outbox_send(*, message_ids: Sequence[int] | None = None, limit: int = 5000) -> int:
    """Send owed tasks to the broker, oldest first: the rows ``message_ids`` names, or any
    (the sweep), at most ``limit``. Rows another sender holds are skipped; a broker failure
    ends the run, leaving the rest for the next. Returns how many were sent."""
    import review.tasks  # noqa: F401  (registers the tasks by name in this process)

    sent, after = 0, 0
    while sent < limit:
        with transaction.atomic():
            rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk__gt=after)
            if message_ids is not None:
                rows = rows.filter(pk__in=message_ids)
            batch = list(rows.order_by("pk")[: min(BATCH, limit - sent)])
            if not batch:
                break
            done, failure = _publish(batch)
            OutboxMessage.objects.filter(pk__in=done).delete()
        sent += len(done)
        after = batch[-1].pk
        if failure is not None:
            row, error = failure
            logger.warning(
                "outbox: the broker refused message=%s task=%s error=%s; %d message(s) wait "
                "for the next sweep",
                row.pk,
                row.task,
                type(error).__name__,
                OutboxMessage.objects.count(),
            )
            break
    if sent and message_ids is None:
        logger.info("outbox sweep sent %d message(s)", sent)
    return sent


def _publish(
    batch: list[OutboxMessage],
) -> tuple[list[int], tuple[OutboxMessage, Exception] | None]:
    """Send each row's task in order; stop at the first the broker refuses. Returns the ids
    sent and, if one was refused, that row and the error."""
    done: list[int] = []
    for row in batch:
        task = app.tasks.get(row.task)
        if task is None:
            # A task renamed or removed while rows for it waited: kept for the operator, and
            # skipped so it holds nothing else up.
            logger.error("outbox: no task named %s for message=%s", row.task, row.pk)
            continue
        try:
            task.delay(*row.args)
        except Exception as exc:  # the broker is down or refused: try again later
            return done, (row, exc)
        done.append(row.pk)
    return done, None
