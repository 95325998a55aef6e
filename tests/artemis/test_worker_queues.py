"""Routed workers: every task has a queue and time limits, a task lands on its queue in the
real broker, and a hung NCMEC call is cut by its time limit and retried without a second
report (a real worker process, a real Redis, the local CyberTipline)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction

from artemis.celery import app
from review.cases.ncmec.localserver import CyberTiplineServer
from review.cases.ncmec.services import ncmec_submission_request
from review.models import AuditAction, AuditEvent, CaseStatus, NcmecSubmission, Tenant
from tests.conftest import wait_for, worker_start, worker_stop
from tests.review.cases.test_ncmec import approved_case

NCMEC_LOGIN = {"NCMEC_USERNAME": "acme-esp", "NCMEC_PASSWORD": "s3cret"}
REPORTER = {
    "NCMEC_REPORTER_FIRST_NAME": "Rita",
    "NCMEC_REPORTER_LAST_NAME": "Reyes",
    "NCMEC_REPORTER_EMAIL": "safety@acme.example",
}


def review_task_names() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if name.startswith("review.")}


def test_every_task_has_a_queue_and_a_soft_limit_below_its_hard_one() -> None:
    names = review_task_names()
    assert names == set(settings.CELERY_TASK_ROUTES), "a task without a queue, or a stale route"
    for name in names:
        limits = settings.CELERY_TASK_ANNOTATIONS[name]
        assert 0 < limits["soft_time_limit"] < limits["time_limit"], name
    assert set(settings.ARTEMIS_TASK_QUEUES) == {"scoring", "outbound", "training", "maintenance"}


def test_the_time_limits_reach_the_tasks_themselves() -> None:
    review_task_names()
    soft = settings.ARTEMIS_TASK_QUEUES["outbound"][1]
    assert app.tasks["review.tasks.submit_ncmec"].soft_time_limit == soft
    hard = settings.ARTEMIS_TASK_QUEUES["scoring"][2]
    assert app.tasks["review.tasks.score_conversations"].time_limit == hard


@pytest.mark.celery_worker
def test_each_task_lands_on_its_own_queue_in_the_broker(redis_broker: str) -> None:
    """Sent as the outbox sends them, with no worker running: each message waits on the
    queue its machines read, and on no other."""
    broker = redis.Redis.from_url(redis_broker)  # the broker the settings name
    sent = {
        "review.tasks.score_conversations": ([1],),
        "review.tasks.deliver_webhook": (1,),
        "review.tasks.submit_ncmec": (1, 1, 1),
        "review.tasks.train_challenger": (1, 1, 1),
        "review.tasks.purge_expired": (),
    }
    for name, args in sent.items():
        app.send_task(name, args=args)
    lengths = {queue: broker.llen(queue) for queue in settings.ARTEMIS_TASK_QUEUES}
    assert lengths == {"scoring": 1, "outbound": 2, "training": 1, "maintenance": 1}
    assert broker.llen("celery") == 0, "nothing waits on Celery's default queue"


@pytest.fixture
def cybertipline() -> Iterator[CyberTiplineServer]:
    server = CyberTiplineServer(
        ("127.0.0.1", 0),
        username=NCMEC_LOGIN["NCMEC_USERNAME"],
        password=NCMEC_LOGIN["NCMEC_PASSWORD"],
    ).start()
    yield server
    server.stop()


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_hung_ncmec_call_is_cut_by_the_time_limit_and_retried_without_a_second_report(
    acme: Tenant,
    alice: Any,
    sam: Any,
    redis_broker: str,
    cybertipline: CyberTiplineServer,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """NCMEC takes the /finish but its answer hangs far longer than the client would wait.
    The outbound queue's soft limit cuts the task; the retry asks /finish again, NCMEC says
    "already finished" (5102), and the case is reported once."""
    env = {
        "NCMEC_URL": cybertipline.url,
        **NCMEC_LOGIN,
        **REPORTER,
        "NCMEC_TIMEOUT_SECONDS": "600",  # the client alone would wait for the hung answer
        "ARTEMIS_OUTBOUND_SOFT_SECONDS": "3",
        "ARTEMIS_OUTBOUND_HARD_SECONDS": "60",
        "ARTEMIS_NCMEC_RETRY_BACKOFF_SECONDS": "1",
    }
    # The sender stamps the task's limits on its message, so the web process (this test) and
    # the worker are configured alike, as README "Scaling" asks.
    # (The task object the outbox sends through: the app's own, whatever app is current.)
    submit = app.tasks["review.tasks.submit_ncmec"]
    monkeypatch.setattr(submit, "soft_time_limit", 3)
    monkeypatch.setattr(submit, "time_limit", 60)
    monkeypatch.setattr(submit, "_exec_options", None)  # Celery caches them at the first send
    for name, value in {"NCMEC_URL": cybertipline.url, **NCMEC_LOGIN, **REPORTER}.items():
        setattr(settings, name, value)  # the request checks the report is ready to send
    cybertipline.state.delay("finish", 30.0)
    case = approved_case(acme, alice, sam)
    worker: subprocess.Popen[bytes] = worker_start(
        broker=redis_broker, log=tmp_path / "worker.log", env=env
    )
    try:
        with transaction.atomic():  # the outbox sends the task once this commits
            ncmec_submission_request(case=case, actor=sam)
        wait_for(lambda: case_status(case.pk) == CaseStatus.PRESERVED, seconds=60)
    finally:
        worker_stop(worker)

    assert len([p for _, p in cybertipline.state.requests if p == "submit"]) == 1
    assert len(cybertipline.state.reports) == 1, "one CyberTipline report, never a second"
    [report] = cybertipline.state.finished()
    submission = NcmecSubmission.objects.get(case=case)
    assert submission.report_id == str(report.report_id)
    assert AuditEvent.objects.filter(
        action=AuditAction.NCMEC, detail__step="time_limit", detail__ok=False
    ).exists(), "the cut is in the audit trail"
    log = (tmp_path / "worker.log").read_text()
    assert "SoftTimeLimitExceeded" in log or "soft time limit" in log.lower()


def case_status(pk: int) -> str:
    from review.models import Case

    return Case.objects.get(pk=pk).status
