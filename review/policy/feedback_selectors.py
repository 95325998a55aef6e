"""Reads for the feedback loop: moderators' decisions as labelled conversations.

The label of a conversation is its latest decision that no later one superseded, labelled
by the verdicts table (``review.models.verdicts``): a negative verdict (no violation) -> 0,
a positive one (warn, suspend, ban, an escalation) -> 1, an ignored one ("ask a supervisor":
the question is still open) is not a label yet. The conversation is exported as it stood
when that decision was made: messages stored later were never judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from review.decisions.verdicts import NEGATIVE, POSITIVE
from review.intake.scoring import engine_message, engine_participant
from review.models import (
    AuditAction,
    AuditEvent,
    Conversation,
    Decision,
    Message,
    Tenant,
    TrainingRun,
)
from scoring.dataset import LabelledConversation

LABEL_OF_VERDICT: dict[str, int] = dict.fromkeys(POSITIVE, 1) | dict.fromkeys(NEGATIVE, 0)
_CHUNK = 200  # conversations per message query


@dataclass(frozen=True, slots=True)
class DecidedLabel:
    conversation_id: int
    decision_id: int
    verdict: str
    label: int | None  # None: the latest decision asks a supervisor
    decided_at: dt.datetime


def decision_labels(*, tenant: Tenant) -> list[DecidedLabel]:
    """The current decision of every decided conversation of the tenant, by conversation."""
    current = (
        Decision.objects.filter(tenant=tenant, superseded_by__isnull=True)
        .order_by("conversation_id", "-created_at", "-pk")
        .values_list("conversation_id", "pk", "verdict", "created_at")
    )
    out: dict[int, DecidedLabel] = {}
    for conversation_id, pk, verdict, created_at in current:
        # Decisions form one chain per conversation, so there is one current decision; should
        # two ever be unsuperseded, the newest wins.
        out.setdefault(
            conversation_id,
            DecidedLabel(conversation_id, pk, verdict, LABEL_OF_VERDICT.get(verdict), created_at),
        )
    return list(out.values())


@dataclass
class LabelSet:
    conversations: list[LabelledConversation]
    # Conversations whose current decision asks a supervisor: decided, but no label yet.
    awaiting_supervisor: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        grooming = sum(1 for c in self.conversations if c.label == 1)
        return {
            "conversations": len(self.conversations),
            "grooming": grooming,
            "benign": len(self.conversations) - grooming,
            "messages": sum(len(c.messages) for c in self.conversations),
            "awaiting_supervisor": self.awaiting_supervisor,
        }


def labelled_conversations(*, tenant: Tenant) -> LabelSet:
    """Every labelled conversation of the tenant in the project's format (message text
    included: callers must treat the result as sensitive), ordered by external id."""
    labels = decision_labels(tenant=tenant)
    usable = [d for d in labels if d.label is not None]
    out = LabelSet(conversations=[], awaiting_supervisor=len(labels) - len(usable))
    for d in usable:
        out.verdicts[d.verdict] = out.verdicts.get(d.verdict, 0) + 1
    by_id = {d.conversation_id: d for d in usable}
    ids = sorted(by_id)
    for start in range(0, len(ids), _CHUNK):
        out.conversations += _build(tenant, [by_id[i] for i in ids[start : start + _CHUNK]])
    out.conversations.sort(key=lambda c: c.external_id)
    return out


def _build(tenant: Tenant, labels: Sequence[DecidedLabel]) -> Iterator[LabelledConversation]:
    ids = [d.conversation_id for d in labels]
    conversations = {
        c.pk: c
        for c in Conversation.objects.filter(tenant=tenant, pk__in=ids).prefetch_related(
            "participants"
        )
    }
    messages: dict[int, list[Message]] = {}
    for m in (
        Message.objects.filter(conversation__tenant=tenant, conversation_id__in=ids)
        .select_related("sender")
        .order_by("conversation_id", "position")
    ):
        messages.setdefault(m.conversation_id, []).append(m)
    for d in labels:
        conversation = conversations[d.conversation_id]
        judged = [m for m in messages.get(d.conversation_id, []) if m.created_at <= d.decided_at]
        people = {p.pk: p for p in conversation.participants.all()}
        people.update({m.sender.pk: m.sender for m in judged})
        yield LabelledConversation(
            external_id=conversation.external_id,
            platform=conversation.platform,
            participants=[
                engine_participant(p) for p in sorted(people.values(), key=lambda p: p.external_id)
            ],
            messages=[engine_message(m) for m in judged],
            message_labels=[frozenset()] * len(judged),
            label=d.label,
            kind=f"decided:{d.verdict}",
        )


def model_changes(*, tenant: Tenant, limit: int = 50) -> list[AuditEvent]:
    """Changes of the tenant's model in use, newest first, from the audit trail."""
    return list(
        AuditEvent.objects.filter(tenant=tenant, action=AuditAction.MODEL_ACTIVATE)
        .select_related("actor")
        .order_by("-sequence")[:limit]
    )


def tenant_by_slug(*, slug: str) -> Tenant | None:
    """For commands run by the operator, who names the tenant on the command line."""
    return Tenant.objects.filter(slug=slug).first()


def training_run_latest(*, tenant: Tenant) -> TrainingRun | None:
    """The tenant's most recent challenger training run asked for from the browser."""
    return (
        TrainingRun.objects.filter(tenant=tenant)
        .select_related("requested_by")
        .order_by("-requested_at", "-pk")
        .first()
    )
