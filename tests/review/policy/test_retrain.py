"""An admin retrains the tenant's model from the model versions page: the request becomes a
training run, a Celery task trains the challenger with the same service as
``manage.py train_model --tenant``, and the page shows the run's state and the comparison."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.html import escape

from review import tasks
from review.models import AuditEvent, Role, Tenant, TrainingRun, TrainingStatus
from review.policy.retrain import training_run_request
from scoring.models import ModelVersion
from scoring.services import model_version_active
from tests.conftest import wait_for
from tests.factories import MembershipFactory
from tests.feedback_support import decide_as_labelled, decision_set
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db

# Small but real, as in test_feedback: 200 generated conversations plus the decisions.
GENERATED = 200


@pytest.fixture(autouse=True)
def _small_training(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ARTEMIS_CHALLENGER_GENERATED = GENERATED
    # Ingest sends scoring tasks after commit; nothing here needs them scored.
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    """The training tasks sent to the broker (the real worker is tried further down)."""
    calls: list[tuple[int, int, int]] = []
    monkeypatch.setattr(tasks.train_challenger, "delay", lambda *ids: calls.append(ids))
    return calls


@pytest.fixture
def gus(globex: Tenant) -> Any:
    """Gus, Globex's admin."""
    return MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user


def test_an_admin_queues_a_challenger_and_the_task_is_sent_only_after_commit(
    acme: Tenant,
    ada: Any,
    active_model: ModelVersion,
    sent: list[tuple[int, int, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = signed_in(ada)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/t/acme/admin/models/train", {"reason": "a month of decisions"})
        assert sent == [], "nothing reaches the broker before the run is committed"

    assert response.status_code == 302
    run = TrainingRun.objects.get(tenant=acme)
    assert (run.status, run.requested_by, run.reason) == ("queued", ada, "a month of decisions")
    for callback in callbacks:
        callback()
    assert sent == [(acme.pk, run.pk, ada.pk)]
    event = AuditEvent.objects.get(tenant=acme, action="model_train_request")
    assert (event.actor, event.detail) == (ada, {"run": run.pk, "reason": "a month of decisions"})

    html = client.get("/t/acme/admin/models").content.decode()
    assert "<strong>Queued</strong>" in html
    assert 'hx-get="/t/acme/admin/models/train/status?poll=1"' in html
    assert 'href="/t/acme/admin/models" hx-get=' in html, "the poll has a link without htmx"
    assert 'id="train-challenger"' not in html, "no second Train button while one runs"


def test_a_second_request_is_refused_while_a_run_is_queued_or_training(
    acme: Tenant, ada: Any, active_model: ModelVersion, sent: list[tuple[int, int, int]]
) -> None:
    client = signed_in(ada)
    client.post("/t/acme/admin/models/train")
    TrainingRun.objects.filter(tenant=acme).update(status=TrainingStatus.TRAINING)

    response = client.post("/t/acme/admin/models/train", {"reason": "again"}, follow=True)

    assert "a challenger is already training" in response.content.decode()
    assert TrainingRun.objects.filter(tenant=acme).count() == 1
    assert AuditEvent.objects.filter(tenant=acme, action="model_train_request").count() == 1


def test_a_run_whose_worker_vanished_hours_ago_no_longer_blocks_a_new_one(
    acme: Tenant, ada: Any, active_model: ModelVersion, sent: list[tuple[int, int, int]]
) -> None:
    lost = training_run_request(tenant=acme, actor=ada)
    TrainingRun.objects.filter(pk=lost.pk).update(
        status=TrainingStatus.TRAINING, started_at=timezone.now() - timedelta(hours=3)
    )

    fresh = training_run_request(tenant=acme, actor=ada)

    lost.refresh_from_db()
    assert lost.status == "failed"
    assert "the worker stopped before finishing" in lost.error
    assert fresh.status == "queued"


def test_the_task_trains_a_real_challenger_and_records_the_comparison(
    acme: Tenant, ada: Any, alice: Any, active_model: ModelVersion, sent: list[Any]
) -> None:
    decide_as_labelled(acme, alice, decision_set(grooming=28, benign=28))
    run = training_run_request(tenant=acme, actor=ada, reason="first retrain")

    tasks.train_challenger(acme.pk, run.pk, ada.pk)

    run.refresh_from_db()
    challenger = ModelVersion.objects.get(tenant=acme)
    assert run.status == "done"
    assert (run.champion_version, run.challenger_version) == (
        active_model.version,
        challenger.version,
    )
    assert run.comparison == challenger.metrics["comparison"]
    # The same rule as the command: the default model is not beaten by a clear margin here.
    assert run.promoted is False
    assert model_version_active(tenant=acme) == active_model
    trained = AuditEvent.objects.get(tenant=acme, action="model_train")
    assert (trained.actor, trained.detail["challenger"]) == (ada, challenger.version)

    client = signed_in(ada)
    html = client.get("/t/acme/admin/models").content.decode()
    assert "<strong>Done</strong>" in html
    assert f"Challenger <code>{challenger.version}</code>" in html
    assert f"{run.comparison['challenger']['pr_auc']:.3f}" in html
    assert "<strong>Not promoted</strong>: " + escape(run.comparison["why"]) in html
    assert 'id="train-challenger"' in html, "a new run can be asked for"
    finished = client.get("/t/acme/admin/models/train/status?poll=1", HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true", "the whole page reloads to show the new version"

    tasks.train_challenger(acme.pk, run.pk, ada.pk)  # a duplicate delivery
    assert ModelVersion.objects.filter(tenant=acme).count() == 1


def test_too_few_decisions_fail_the_run_and_say_how_many_are_needed(
    acme: Tenant, ada: Any, alice: Any, active_model: ModelVersion, sent: list[Any]
) -> None:
    decide_as_labelled(acme, alice, decision_set(grooming=8, benign=8))
    run = training_run_request(tenant=acme, actor=ada)

    tasks.train_challenger(acme.pk, run.pk, ada.pk)

    run.refresh_from_db()
    assert run.status == "failed"
    assert "about 20 decided conversations of each kind" in run.error
    assert not ModelVersion.objects.filter(tenant=acme).exists()
    event = AuditEvent.objects.get(tenant=acme, action="model_train_failed")
    assert event.detail["run"] == run.pk
    assert event.detail["requested_by"] == ada.pk
    html = signed_in(ada).get("/t/acme/admin/models").content.decode()
    assert "<strong>Training failed</strong>" in html
    assert "about 20 decided conversations of each kind" in html


def test_the_status_panel_without_htmx_is_the_whole_page(
    acme: Tenant, ada: Any, active_model: ModelVersion
) -> None:
    response = signed_in(ada).get("/t/acme/admin/models/train/status")

    assert response.status_code == 302
    assert response["Location"] == "/t/acme/admin/models"


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_moderators_and_supervisors_cannot_train_or_watch_a_run(
    acme: Tenant, active_model: ModelVersion, who: str, request: pytest.FixtureRequest,
    sent: list[Any],
) -> None:  # fmt: skip
    client = signed_in(request.getfixturevalue(who))

    assert client.post("/t/acme/admin/models/train").status_code == 403
    assert (
        client.get("/t/acme/admin/models/train/status", HTTP_HX_REQUEST="true").status_code == 403
    )
    assert not TrainingRun.objects.exists()
    assert sent == []


def test_another_tenants_admin_gets_404_and_never_sees_acmes_run(
    acme: Tenant, ada: Any, gus: Any, active_model: ModelVersion, sent: list[Any]
) -> None:
    training_run_request(tenant=acme, actor=ada, reason="acme only")
    client = signed_in(gus)

    assert client.post("/t/acme/admin/models/train").status_code == 404
    assert client.get("/t/acme/admin/models/train/status").status_code == 404
    panel = client.get("/t/globex/admin/models/train/status", HTTP_HX_REQUEST="true")
    assert "acme only" not in panel.content.decode()
    assert 'id="train-challenger"' in panel.content.decode()
    assert TrainingRun.objects.filter(tenant__slug="globex").count() == 0


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_trains_the_challenger_an_admin_asked_for(
    acme: Tenant, ada: Any, alice: Any, active_model: ModelVersion,
    worker: subprocess.Popen[bytes],
) -> None:  # fmt: skip
    decide_as_labelled(acme, alice, decision_set(grooming=28, benign=28))

    signed_in(ada).post("/t/acme/admin/models/train", {"reason": "from the worker"})

    run = TrainingRun.objects.get(tenant=acme)
    # The bound is for a hung worker: it fits the message model first, minutes under load.
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).status in ("done", "failed"), 300)
    run.refresh_from_db()
    assert (run.status, run.error) == ("done", "")
    assert run.challenger_version == ModelVersion.objects.get(tenant=acme).version
    assert run.comparison["champion_version"] == active_model.version


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"ARTEMIS_CHALLENGER_GENERATED": str(GENERATED)}


def test_a_refused_training_request_keeps_the_reason_typed(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    too_long = "x" * 501

    response = client.post("/t/acme/admin/models/train", {"reason": too_long})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'value="{too_long}"' in html, "the typed reason is still in the form"
    assert "keep it under 500 characters" in html
