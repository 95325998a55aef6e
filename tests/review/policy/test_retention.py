"""Retention: conversations that never reached a human are purged once the tenant's retention
period has passed since their last activity; never a flagged, decided, recent, withdrawn or
case-held one. Each run leaves a record (counts and ids, no text) and an audit event."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from review import tasks
from review.cases.services import case_approve, case_preserve, case_transition
from review.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    Conversation,
    ConversationStatus,
    Message,
    Participant,
    RetentionRun,
    Role,
    Tenant,
)
from review.policy.retention import retention_purge
from review.policy.services import policy_change
from tests.factories import MembershipFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db


def chat(
    tenant: Tenant,
    name: str,
    *,
    days_idle: float,
    people: tuple[str, ...] = ("kid", "adult"),
    status: str = ConversationStatus.SCORED,
) -> Conversation:
    """A plain two-line chat, scored below the threshold, idle for ``days_idle`` days."""
    conversation = Conversation.objects.create(
        tenant=tenant, external_id=name, status=status, message_count=2
    )
    senders = [Participant.objects.get_or_create(tenant=tenant, external_id=p)[0] for p in people]
    conversation.participants.add(*senders)
    then = timezone.now() - timedelta(days=days_idle)
    for i, text in enumerate(["hi", "what game are you playing"]):
        Message.objects.create(
            conversation=conversation, external_id=f"{name}-m{i}", sender=senders[i % 2],
            sent_at=then, utc_offset_minutes=0, text=text, position=i,
        )  # fmt: skip
    if status != ConversationStatus.PENDING:
        Assessment.objects.create(
            conversation=conversation, model_version="test", probability=0.1, message_count=2,
            content_fingerprint=name, scored_at=then,
        )  # fmt: skip
    age(conversation, days_idle)
    return conversation


def age(conversation: Conversation, days: float) -> None:
    """Make the conversation's last activity ``days`` ago (auto_now would say today)."""
    then = timezone.now() - timedelta(days=days)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=then, updated_at=then)
    Message.objects.filter(conversation=conversation).update(created_at=then)


def test_old_unflagged_conversations_are_purged_with_their_messages_and_lone_participants(
    acme: Tenant,
) -> None:
    old = chat(acme, "old", days_idle=91, people=("kid-1", "adult-1"))
    never_scored = chat(
        acme, "pending", days_idle=120, people=("kid-2", "adult-2"), status="pending"
    )
    shared = chat(acme, "old-shared", days_idle=100, people=("kid-3", "adult-3"))
    recent = chat(acme, "recent", days_idle=10, people=("kid-3", "adult-4"))

    result = retention_purge(tenant=acme)

    remaining = set(Conversation.objects.values_list("external_id", flat=True))
    assert remaining == {"recent"}
    assert not Message.objects.filter(conversation_id__in=[old.pk, shared.pk]).exists()
    assert not Assessment.objects.filter(conversation_id=old.pk).exists()
    people = set(Participant.objects.values_list("external_id", flat=True))
    assert people == {"kid-3", "adult-4"}, "kid-3 still has the recent conversation"
    run = RetentionRun.objects.get(tenant=acme)
    assert result.run == run
    assert (run.conversations_purged, run.messages_purged, run.participants_purged) == (3, 6, 5)
    assert sorted(run.conversation_ids) == sorted([old.pk, never_scored.pk, shared.pk])
    assert sorted(run.conversation_external_ids) == ["old", "old-shared", "pending"]
    assert run.retention_days == 90
    event = AuditEvent.objects.get(tenant=acme, action=AuditAction.RETENTION_PURGE)
    assert (event.actor_label, event.target_id) == ("retention", str(run.pk))
    assert event.detail["conversations"] == 3
    assert "what game" not in json.dumps([event.detail, run.conversation_external_ids])
    assert Conversation.objects.get(pk=recent.pk)


def test_flagged_decided_withdrawn_and_recently_active_conversations_are_kept(
    acme: Tenant, alice: Any
) -> None:
    flagged = flagged_item(acme, 1, probability=0.9).conversation
    age(flagged, 400)
    decided = escalate(acme, alice, verdict="escalate_ncmec").conversation
    age(decided, 400)
    withdrawn = flagged_item(acme, 2, probability=0.55).conversation
    Conversation.objects.filter(pk=withdrawn.pk).update(status=ConversationStatus.FLAGGED)
    ada = MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada").user
    policy_change(tenant=acme, actor=ada, reason="raise", changes={"flag_threshold": 0.6})
    withdrawn.refresh_from_db()
    assert withdrawn.status == ConversationStatus.SCORED
    assert not withdrawn.queue_items.exists()
    age(withdrawn, 400)
    new_message = chat(acme, "old-but-new-message", days_idle=400)
    Message.objects.filter(conversation=new_message, position=1).update(created_at=timezone.now())

    result = retention_purge(tenant=acme)

    assert result.conversation_ids == []
    assert Conversation.objects.count() == 4
    assert RetentionRun.objects.get(tenant=acme).conversations_purged == 0


def test_a_conversation_held_by_a_preserved_case_is_never_purged(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case_approve(case=case, supervisor=sam)
    case_transition(case=Case.objects.get(pk=case.pk), to=CaseStatus.SUBMITTED, actor=sam)
    case_preserve(case=case, actor=sam, start=timezone.localdate())
    # Point the preserved case at an otherwise purgeable chat: old, unflagged, undecided, so
    # only the case rule stands between it and the purge.
    held = chat(acme, "held", days_idle=500, people=("kid-9", "adult-9"))
    Case.objects.filter(pk=case.pk).update(
        conversation=held,
        reported_participant=Participant.objects.get(external_id="adult-9"),
    )
    Conversation.participants.through.objects.filter(conversation=held).delete()
    lone = chat(acme, "lone", days_idle=500, people=("kid-10", "adult-10"))

    dry = retention_purge(tenant=acme, dry_run=True)
    assert (dry.conversation_ids, dry.held_by_case) == ([lone.pk], 1)
    assert not RetentionRun.objects.exists()

    result = retention_purge(tenant=acme)

    assert result.conversation_ids == [lone.pk]
    assert Conversation.objects.filter(pk=held.pk).exists()
    assert Message.objects.filter(conversation=held).count() == 2
    assert Participant.objects.filter(external_id="adult-9").exists()
    assert result.run is not None
    assert result.run.held_by_case == 1


def test_a_closed_case_past_preservation_still_keeps_its_conversation(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.CLOSED, actor=alice)
    held = chat(acme, "closed-case", days_idle=500)
    Case.objects.filter(pk=case.pk).update(conversation=held)

    retention_purge(tenant=acme)

    assert Conversation.objects.filter(pk=held.pk).exists()


def test_the_tenants_retention_days_decide_what_is_old(acme: Tenant, globex: Tenant) -> None:
    acme.retention_days = 30
    acme.save()
    chat(acme, "forty", days_idle=40, people=("a1", "a2"))
    chat(globex, "forty", days_idle=40, people=("g1", "g2"))

    call_command("purge_expired", stdout=StringIO())

    assert not Conversation.objects.filter(tenant=acme).exists()
    assert Conversation.objects.filter(tenant=globex).count() == 1, "globex keeps 90 days"
    assert RetentionRun.objects.filter(tenant=globex, conversations_purged=0).exists()


def test_the_command_dry_run_counts_and_purges_nothing(acme: Tenant) -> None:
    chat(acme, "old", days_idle=200)
    out = StringIO()

    call_command("purge_expired", "--dry-run", "--tenant", "acme", stdout=out)

    assert "acme: would purge 1 conversations, 2 messages, 2 participants" in out.getvalue()
    assert Conversation.objects.count() == 1
    assert not RetentionRun.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.RETENTION_PURGE).exists()


def test_a_run_is_bounded_and_says_more_is_due(acme: Tenant) -> None:
    for n in range(3):
        chat(acme, f"old-{n}", days_idle=200, people=(f"k{n}", f"a{n}"))
    first = retention_purge(tenant=acme, limit=2)
    assert (len(first.conversation_ids), first.more_due) == (2, True)
    second = retention_purge(tenant=acme, limit=2)
    assert (len(second.conversation_ids), second.more_due) == (1, False)


def test_celery_beat_runs_the_purge_task(acme: Tenant) -> None:
    from artemis.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-conversations"]
    assert schedule["task"] == "review.tasks.purge_expired"
    app.loader.import_default_modules()
    assert schedule["task"] in app.tasks
    chat(acme, "old", days_idle=200)
    assert tasks.purge_expired() == 1
