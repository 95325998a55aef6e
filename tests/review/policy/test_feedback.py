"""The feedback loop: decisions as labels, the held-out split, and champion vs challenger."""

from __future__ import annotations

import json
import random
import stat
from dataclasses import replace
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from review import tasks
from review.intake.scoring import conversation_score
from review.models import AuditEvent, Message, Role, Tenant
from review.policy.feedback_selectors import labelled_conversations
from scoring import feedback
from scoring.dataset import read_jsonl
from scoring.feedback import (
    MIN_HELD_OUT_PER_CLASS,
    is_held_out,
    promotion_verdict,
    split_decisions,
)
from scoring.models import ModelVersion
from scoring.services import (
    model_version_active,
    model_version_register,
    model_version_use_default,
)
from scoring.training import _fit
from tests.factories import MembershipFactory
from tests.feedback_support import decide, decide_as_labelled, decision_set, ingest
from tests.scoring_support import benign_conversation, grooming_conversation

pytestmark = pytest.mark.django_db

# Small but real: the challenger trains on 200 generated conversations plus the decisions.
GENERATED = 200


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ingest sends scoring tasks after commit; these tests score (when they do) directly.
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


@pytest.fixture
def gina(globex: Tenant) -> Any:
    """Gina, a moderator at Globex."""
    return MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gina").user


def texts_of(tenant: Tenant) -> list[str]:
    return list(Message.objects.filter(conversation__tenant=tenant).values_list("text", flat=True))


# -- decisions as labels ------------------------------------------------------------------


def test_the_latest_decision_of_each_conversation_is_its_label(acme: Tenant, alice: Any) -> None:
    groomer, benign = grooming_conversation(), benign_conversation()
    turned = replace(grooming_conversation(30), external_id="turned")
    pending = replace(benign_conversation(12), external_id="pending")
    reopened = replace(benign_conversation(14), external_id="reopened")
    stored = dict(
        zip(
            ["groomer", "benign", "turned", "pending", "reopened"],
            ingest(acme, [groomer, benign, turned, pending, reopened]),
            strict=True,
        )
    )
    decide(stored["groomer"], alice, "escalate_ncmec")
    decide(stored["benign"], alice, "no_violation")
    decide(stored["turned"], alice, "no_violation")
    decide(stored["turned"], alice, "suspend")  # supersedes the no violation
    decide(stored["pending"], alice, "ask_supervisor")
    decide(stored["reopened"], alice, "no_violation")
    decide(stored["reopened"], alice, "ask_supervisor")  # the question reopens it

    labels = labelled_conversations(tenant=acme)

    assert {c.external_id: c.label for c in labels.conversations} == {
        groomer.external_id: 1,
        benign.external_id: 0,
        "turned": 1,
    }
    assert labels.awaiting_supervisor == 2
    exported = next(c for c in labels.conversations if c.external_id == "turned")
    assert exported.kind == "decided:suspend"
    assert [m.text for m in exported.messages] == [m.text for m in turned.messages]
    assert exported.messages[0].sent_at == turned.messages[0].sent_at
    assert exported.messages[0].sent_at.utcoffset() == turned.messages[0].sent_at.utcoffset()


def test_messages_that_arrived_after_the_decision_are_not_labelled(
    acme: Tenant, alice: Any
) -> None:
    [stored] = ingest(acme, [grooming_conversation()])
    decision = decide(stored, alice, "ban")
    late = Message.objects.filter(conversation=stored).order_by("-position").first()
    assert late is not None
    Message.objects.filter(pk=late.pk).update(created_at=decision.created_at + timedelta(hours=1))

    [exported] = labelled_conversations(tenant=acme).conversations

    assert len(exported.messages) == stored.message_count - 1
    assert late.external_id not in {m.external_id for m in exported.messages}


def test_an_export_never_holds_another_tenants_conversations(
    acme: Tenant, globex: Tenant, alice: Any, gina: Any
) -> None:
    [ours] = ingest(acme, [grooming_conversation()])
    theirs = ingest(globex, [grooming_conversation(), benign_conversation()])
    decide(ours, alice, "ban")
    for conversation in theirs:
        decide(conversation, gina, "no_violation")

    labels = labelled_conversations(tenant=acme)

    assert [(c.external_id, c.label) for c in labels.conversations] == [(ours.external_id, 1)]


def test_export_labels_writes_a_private_jsonl_file_and_audits_counts_only(
    acme: Tenant, alice: Any, tmp_path: Path
) -> None:
    decide_as_labelled(acme, alice, decision_set(grooming=2, benign=3))
    out = tmp_path / "acme.jsonl"
    err = StringIO()

    call_command("export_labels", "--tenant", "acme", "--out", str(out), stderr=err)

    exported = read_jsonl(out)
    assert sorted(c.label for c in exported) == [0, 0, 0, 1, 1]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "the file holds message text"
    assert "5 labelled conversations" in err.getvalue()
    event = AuditEvent.objects.get(tenant=acme, action="export", target_type="labels")
    assert event.actor_label == "manage.py export_labels"
    assert (event.detail["conversations"], event.detail["grooming"]) == (5, 2)
    recorded = json.dumps(event.detail)
    assert not any(text in recorded for text in texts_of(acme) if len(text) > 3)


def test_export_labels_to_stdout_and_for_an_unknown_tenant(acme: Tenant, alice: Any) -> None:
    decide_as_labelled(acme, alice, decision_set(grooming=1, benign=1))
    out = StringIO()

    call_command("export_labels", "--tenant", "acme", stdout=out, stderr=StringIO())

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["label"] in (0, 1) for line in lines)
    with pytest.raises(CommandError, match="no tenant with slug 'nope'"):
        call_command("export_labels", "--tenant", "nope")


# -- the held-out split --------------------------------------------------------------------


def test_the_split_is_deterministic_and_stable_as_decisions_are_added() -> None:
    data = decision_set(grooming=28, benign=28)
    shuffled = random.Random(3).sample(data, len(data))

    first, again = split_decisions(data), split_decisions(shuffled)
    grown = split_decisions(decision_set(grooming=40, benign=40))

    assert {c.external_id for c in first.held_out} == {c.external_id for c in again.held_out}
    held = {c.external_id for c in first.held_out}
    assert held <= {c.external_id for c in grown.held_out}, "held out once, held out always"
    assert not held & {c.external_id for c in grown.train}


def test_the_split_holds_out_both_classes_and_never_puts_one_conversation_on_both_sides() -> None:
    data = decision_set(grooming=28, benign=28)

    split = split_decisions(data)

    train = {c.external_id for c in split.train}
    held = {c.external_id for c in split.held_out}
    assert not train & held
    assert train | held == {c.external_id for c in data}
    counts = split.counts()["held_out"]
    assert counts["grooming"] >= MIN_HELD_OUT_PER_CLASS
    assert counts["benign"] >= MIN_HELD_OUT_PER_CLASS
    assert 0.15 < len(held) / len(data) < 0.35


def test_too_few_decisions_name_how_many_are_needed() -> None:
    with pytest.raises(Exception, match=r"at least 5 of each kind.*about 20 decided"):
        split_decisions(decision_set(grooming=8, benign=8))


# -- the promotion rule --------------------------------------------------------------------


def metrics(pr_auc: float, recall: float) -> dict[str, float]:
    return {"pr_auc": pr_auc, "recall": recall}


def test_a_challenger_is_better_only_with_a_clear_pr_auc_gain_and_no_recall_drop() -> None:
    assert promotion_verdict(metrics(0.80, 0.9), metrics(0.83, 0.9))[0]
    assert promotion_verdict(metrics(0.80, 0.9), metrics(0.82, 0.95))[0]
    not_clear = promotion_verdict(metrics(0.80, 0.9), metrics(0.81, 1.0))
    assert not not_clear[0]
    assert "not better by 0.02" in not_clear[1]
    less_recall = promotion_verdict(metrics(0.80, 0.9), metrics(0.95, 0.8))
    assert not less_recall[0]
    assert "recall at the threshold would drop" in less_recall[1]
    assert not promotion_verdict(metrics(0.9, 0.9), metrics(0.9, 0.9))[0], "a tie keeps it"


# -- train_model --tenant --------------------------------------------------------------------


def train(*args: str) -> str:
    out = StringIO()
    call_command(
        "train_model", "--tenant", "acme", "--generated", str(GENERATED), *args, stdout=out
    )
    return out.getvalue()


@pytest.fixture
def decided(acme: Tenant, alice: Any) -> list[Any]:
    data = decision_set(grooming=28, benign=28)
    decide_as_labelled(acme, alice, data)
    return data


def test_a_challenger_that_is_not_better_is_registered_but_not_promoted(
    acme: Tenant, active_model: ModelVersion, decided: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = feedback.train_challenger

    def spy(**kwargs: Any) -> Any:  # watches what training is given, then trains for real
        seen.extend(c.external_id for c in kwargs["decisions"])
        return real(**kwargs)

    monkeypatch.setattr(feedback, "train_challenger", spy)

    printed = train()

    challenger = ModelVersion.objects.get(tenant=acme)
    assert model_version_active(tenant=acme) == active_model, "the champion stays"
    assert not challenger.is_active
    assert "NOT PROMOTED" in printed
    assert f"champion {active_model.version}" in printed
    assert f"challenger {challenger.version}" in printed
    for label in ("PR-AUC", "ROC-AUC", "precision", "recall", "F0.5"):
        assert f"  {label}" in printed
    # Nothing held out was trained on, and everything else was.
    assert seen
    assert not any(is_held_out(i) for i in seen)
    assert set(seen) == {c.external_id for c in decided if not is_held_out(c.external_id)}
    comparison = challenger.metrics["comparison"]
    assert comparison["champion_version"] == active_model.version
    assert comparison["threshold"] == acme.flag_threshold
    assert comparison["split"]["held_out"]["conversations"] == sum(
        is_held_out(c.external_id) for c in decided
    )
    assert (comparison["better"], comparison["promoted"]) == (False, False)
    event = AuditEvent.objects.get(tenant=acme, action="model_train")
    assert event.detail["challenger"] == challenger.version
    assert not AuditEvent.objects.filter(tenant=acme, action="model_activate").exists()


def test_promote_makes_the_challenger_the_tenants_model_and_scoring_uses_it(
    acme: Tenant, globex: Tenant, active_model: ModelVersion, decided: list[Any]
) -> None:
    printed = train("--promote")

    challenger = ModelVersion.objects.get(tenant=acme)
    assert model_version_active(tenant=acme) == challenger
    assert model_version_active(tenant=globex) == active_model, "other tenants keep theirs"
    assert "PROMOTED by --promote" in printed
    event = AuditEvent.objects.get(tenant=acme, action="model_activate")
    assert (event.detail["from"], event.detail["to"]) == (active_model.version, challenger.version)
    assert "--promote" in event.detail["reason"]
    assert challenger.metrics["comparison"]["forced"] is True

    [ours] = ingest(acme, [replace(grooming_conversation(), external_id="fresh")])
    [theirs] = ingest(globex, [grooming_conversation()])
    assert conversation_score(conversation_id=ours.pk).model_version == challenger.version
    assert conversation_score(conversation_id=theirs.pk).model_version == active_model.version


@pytest.fixture
def poor_champion(acme: Tenant, active_model: ModelVersion) -> ModelVersion:
    """Acme's own model, trained on inverted labels: it ranks grooming below small talk.
    Both levels are inverted, the lines' characteristics as well as the conversations'
    labels: a conversation is never rated above its strongest message, so a message model
    that still read the lines right would cap the small talk low and undo the inversion."""
    from scoring.characteristics import KEYS
    from scoring.generator import generate_conversations
    from scoring.seed import load_seed_messages

    seed = load_seed_messages()
    inverted = [
        replace(c, label=1 - (c.label or 0))
        for c in generate_conversations(GENERATED, seed=77, seed_messages=seed)
    ]
    lines = [replace(m, labels=frozenset() if m.labels else frozenset(KEYS)) for m in seed]
    poor, _ = _fit(lines, inverted, 0)
    return model_version_register(
        engine=poor, metrics={}, data_fingerprint="inverted", training_source="inverted labels",
        tenant=acme,
    )  # fmt: skip


def test_a_challenger_that_beats_a_poor_champion_is_promoted(
    acme: Tenant, poor_champion: ModelVersion, decided: list[Any]
) -> None:
    printed = train()

    challenger = ModelVersion.objects.get(tenant=acme, is_active=True)
    assert challenger != poor_champion
    assert "PROMOTED: the challenger is better" in printed
    comparison = challenger.metrics["comparison"]
    assert comparison["better"]
    assert not comparison["forced"]
    assert comparison["challenger"]["pr_auc"] >= comparison["champion"]["pr_auc"] + 0.02
    event = AuditEvent.objects.filter(tenant=acme, action="model_activate").latest("sequence")
    assert (event.detail["from"], event.detail["to"]) == (poor_champion.version, challenger.version)


def test_a_better_challenger_is_not_promoted_when_the_model_changed_during_training(
    acme: Tenant, poor_champion: ModelVersion, active_model: ModelVersion, decided: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    real = feedback.train_challenger

    def admin_rolls_back_meanwhile(**kwargs: Any) -> Any:
        result = real(**kwargs)
        model_version_use_default(tenant=acme)
        return result

    monkeypatch.setattr(feedback, "train_challenger", admin_rolls_back_meanwhile)

    printed = train()

    assert "changed while the challenger trained" in printed
    assert model_version_active(tenant=acme) == active_model, "the admin's choice stands"
    challenger = ModelVersion.objects.exclude(pk=poor_champion.pk).get(tenant=acme)
    assert challenger.metrics["comparison"]["better"]
    assert not challenger.metrics["comparison"]["promoted"]


def test_train_model_names_what_is_missing(acme: Tenant, alice: Any, active_model: Any) -> None:
    with pytest.raises(CommandError, match="no tenant with slug 'nope'"):
        call_command("train_model", "--tenant", "nope")
    with pytest.raises(CommandError, match="no decisions that give a label yet"):
        train()
    [stored] = ingest(acme, [replace(grooming_conversation(), external_id="asked")])
    decide(stored, alice, "ask_supervisor")
    with pytest.raises(CommandError, match=r"\(1 await a supervisor\)"):
        train()
    decide_as_labelled(acme, alice, decision_set(grooming=12, benign=0))
    with pytest.raises(CommandError, match="all 12 labelled conversations are grooming"):
        train()
    decide_as_labelled(acme, alice, decision_set(grooming=0, benign=8))
    with pytest.raises(CommandError, match="too few decisions to compare models"):
        train()
    with pytest.raises(CommandError, match="--promote goes with --tenant"):
        call_command("train_model", "--promote")
    with pytest.raises(CommandError, match="drop --jsonl"):
        call_command("train_model", "--tenant", "acme", "--jsonl", "x.jsonl")
    assert not ModelVersion.objects.filter(tenant=acme).exists(), "nothing half-written"
