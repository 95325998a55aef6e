"""The model versions page: who may see it, promotion and rollback with a reason, the
labelled-data download, and what each of those leaves in the audit trail."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from review import tasks
from review.intake.scoring import conversation_score
from review.models import AuditEvent, Role, Tenant
from scoring.feedback import train_challenger
from scoring.models import ModelVersion
from scoring.seed import load_seed_messages
from scoring.services import model_version_active, model_version_register
from scoring.training import TrainResult
from tests.factories import MembershipFactory
from tests.feedback_support import decide_as_labelled, decision_set, ingest
from tests.review_support import signed_in
from tests.scoring_support import grooming_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


@pytest.fixture
def gus(globex: Tenant) -> Any:
    """Gus, Globex's admin."""
    return MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user


@cache
def _other_engine() -> TrainResult:
    """A second real engine (same seed corpus, fewer generated conversations): trained once."""
    return train_challenger(seed_messages=load_seed_messages(), decisions=[], generated=120)


def own_version(tenant: Tenant, *, activate: bool = False) -> ModelVersion:
    result = _other_engine()
    return model_version_register(
        engine=result.engine,
        metrics={"conversation": {"pr_auc": 0.97, "roc_auc": 0.98, "precision": 0.9,
                                  "recall": 0.95, "f1": 0.92, "f0.5": 0.91,
                                  "threshold": 0.5, "n": 14.0}},
        data_fingerprint=result.data_fingerprint,
        training_source=f"seed corpus + 120 generated + 0 decisions of {tenant.slug}",
        tenant=tenant,
        activate=activate,
    )  # fmt: skip


def test_an_admin_sees_the_default_and_the_tenants_own_versions(
    acme: Tenant, ada: Any, active_model: ModelVersion
) -> None:
    ours = own_version(acme)

    page = signed_in(ada).get("/t/acme/admin/models")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="model-{active_model.version}" class="in-use"' in html
    assert f'id="model-{ours.version}"' in html
    for shown in (ours.training_source, ours.sklearn_version, ours.data_fingerprint[:12], "0.970"):
        assert shown in html
    assert "Promote</button>" in html
    assert "holds message text" in html
    assert 'href="/t/acme/admin/models"' in html, "admins find it in the navigation"


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_moderators_and_supervisors_are_refused_the_page_and_its_actions(
    acme: Tenant, active_model: ModelVersion, who: str, request: pytest.FixtureRequest
) -> None:
    client = signed_in(request.getfixturevalue(who))
    ours = own_version(acme)

    assert client.get("/t/acme/admin/models").status_code == 403
    assert client.get("/t/acme/admin/models/labels.jsonl").status_code == 403
    refused = client.post(f"/t/acme/admin/models/{ours.pk}/promote", {"reason": "mine now"})
    assert refused.status_code == 403
    assert model_version_active(tenant=acme) == active_model
    assert not AuditEvent.objects.filter(tenant=acme, action__in=["export", "model_activate"])
    assert 'href="/t/acme/admin/models"' not in client.get("/t/acme/queue").content.decode()


def test_another_tenants_admin_gets_404_and_never_sees_acmes_versions(
    acme: Tenant, globex: Tenant, gus: Any, active_model: ModelVersion
) -> None:
    ours = own_version(acme)
    client = signed_in(gus)

    assert client.get("/t/acme/admin/models").status_code == 404
    assert (
        client.post(f"/t/globex/admin/models/{ours.pk}/promote", {"reason": "x"}).status_code == 404
    )
    assert ours.version not in client.get("/t/globex/admin/models").content.decode()
    assert model_version_active(tenant=globex) == active_model


def test_promotion_needs_a_reason(acme: Tenant, ada: Any, active_model: ModelVersion) -> None:
    ours = own_version(acme)
    client = signed_in(ada)

    response = client.post(f"/t/acme/admin/models/{ours.pk}/promote", {"reason": "  "})

    assert response.status_code == 400, "the page again, with the refusal"
    assert model_version_active(tenant=acme) == active_model
    assert "say why the model in use should change" in response.content.decode()
    assert not AuditEvent.objects.filter(tenant=acme, action="model_activate").exists()


def test_an_admin_promotes_a_version_and_rolls_back_to_the_default_both_audited(
    acme: Tenant, globex: Tenant, ada: Any, active_model: ModelVersion
) -> None:
    ours = own_version(acme)
    client = signed_in(ada)

    promoted = client.post(
        f"/t/acme/admin/models/{ours.pk}/promote", {"reason": "better on our own decisions"}
    )

    assert promoted.status_code == 302
    assert model_version_active(tenant=acme) == ours
    assert model_version_active(tenant=globex) == active_model
    [conversation] = ingest(acme, [grooming_conversation()])
    assert conversation_score(conversation_id=conversation.pk).model_version == ours.version

    rolled_back = client.post(
        f"/t/acme/admin/models/{active_model.pk}/promote", {"reason": "too many false flags"}
    )

    assert rolled_back.status_code == 302
    assert model_version_active(tenant=acme) == active_model
    ours.refresh_from_db()
    assert not ours.is_active
    events = list(
        AuditEvent.objects.filter(tenant=acme, action="model_activate").order_by("sequence")
    )
    assert [(e.actor, e.detail["from"], e.detail["to"], e.detail["reason"]) for e in events] == [
        (ada, active_model.version, ours.version, "better on our own decisions"),
        (ada, ours.version, active_model.version, "too many false flags"),
    ]
    assert events[1].detail["default"] is True
    page = client.get("/t/acme/admin/models").content.decode()
    assert "too many false flags" in page, "the page lists the changes of model"


def test_rolling_back_to_an_earlier_own_version(acme: Tenant, ada: Any, active_model: Any) -> None:
    earlier = own_version(acme)
    later_result = train_challenger(seed_messages=load_seed_messages(), decisions=[], generated=100)
    later = model_version_register(
        engine=later_result.engine, metrics={}, data_fingerprint="later",
        training_source="later", tenant=acme,
    )  # fmt: skip
    client = signed_in(ada)
    assert "Roll back to this</button>" in client.get("/t/acme/admin/models").content.decode()

    client.post(f"/t/acme/admin/models/{earlier.pk}/promote", {"reason": "later one misfires"})

    assert model_version_active(tenant=acme) == earlier
    event = AuditEvent.objects.get(tenant=acme, action="model_activate")
    assert (event.detail["kind"], event.detail["from"]) == ("rollback", later.version)


def test_an_earlier_default_cannot_be_chosen_by_a_tenant(
    acme: Tenant, ada: Any, active_model: ModelVersion
) -> None:
    older = own_version(acme)
    ModelVersion.objects.filter(pk=older.pk).update(tenant=None)  # an old default, now retired

    client = signed_in(ada)

    response = client.post(f"/t/acme/admin/models/{older.pk}/promote", {"reason": "old times"})

    assert model_version_active(tenant=acme) == active_model
    assert "is an earlier default model" in response.content.decode()
    page = client.get("/t/acme/admin/models").content.decode()
    assert "an earlier default; the operator chooses the default" in page
    assert not AuditEvent.objects.filter(tenant=acme, action="model_activate").exists()


def test_an_admin_downloads_the_labels_and_the_download_is_audited(
    acme: Tenant, ada: Any, alice: Any, active_model: ModelVersion
) -> None:
    decide_as_labelled(acme, alice, decision_set(grooming=2, benign=1))
    ingest(acme, [replace(grooming_conversation(), external_id="undecided")])

    response = signed_in(ada).get("/t/acme/admin/models/labels.jsonl")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    assert 'filename="labels-acme.jsonl"' in response["Content-Disposition"]
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert sorted(r["label"] for r in rows) == [0, 1, 1]
    assert "undecided" not in {r["external_id"] for r in rows}
    event = AuditEvent.objects.get(tenant=acme, action="export", target_type="labels")
    assert event.actor == ada
    assert (event.detail["conversations"], event.detail["grooming"], event.detail["benign"]) == (
        3, 2, 1,
    )  # fmt: skip
