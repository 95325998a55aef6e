"""Moderator decisions. Never edited: a later decision supersedes an earlier one and links
to it, so the record shows every judgement and who made it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Verdict(models.TextChoices):
    NO_VIOLATION = "no_violation", "No violation"
    WARN = "warn", "Warn the account"
    SUSPEND = "suspend", "Suspend the account"
    BAN = "ban", "Ban the account"
    ESCALATE_NCMEC = "escalate_ncmec", "Escalate to NCMEC"
    ESCALATE_LAW_ENFORCEMENT = "escalate_law_enforcement", "Escalate to law enforcement"
    ASK_SUPERVISOR = "ask_supervisor", "Ask a supervisor"


ACCOUNT_ACTIONS = frozenset({Verdict.WARN, Verdict.SUSPEND, Verdict.BAN})
ESCALATIONS = frozenset({Verdict.ESCALATE_NCMEC, Verdict.ESCALATE_LAW_ENFORCEMENT})
_ACTING = ACCOUNT_ACTIONS | ESCALATIONS

# Reason codes, and the verdicts each may go with. One place: forms, exports and the
# service all read this table.
REASON_CODES: dict[str, tuple[str, frozenset[str]]] = {
    "benign_context": ("Benign in context", frozenset({Verdict.NO_VIOLATION})),
    "peers_same_age": ("Peers of a similar age", frozenset({Verdict.NO_VIOLATION})),
    "model_error": ("Highlights are wrong", frozenset({Verdict.NO_VIOLATION})),
    "insufficient_evidence": (
        "Not enough to act on",
        frozenset({Verdict.NO_VIOLATION, Verdict.ASK_SUPERVISOR}),
    ),
    "grooming_indicators": ("Grooming behaviour towards a minor", _ACTING),
    "sexual_solicitation": ("Sexual solicitation of a minor", _ACTING - {Verdict.WARN}),
    "meeting_planned": ("In-person meeting being arranged", _ACTING - {Verdict.WARN}),
    "sextortion": ("Coercion or sextortion", _ACTING - {Verdict.WARN}),
    "second_opinion": ("Needs a second opinion", frozenset({Verdict.ASK_SUPERVISOR})),
}


class Decision(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    queue_item = models.ForeignKey(
        "review.QueueItem", on_delete=models.PROTECT, related_name="decisions"
    )
    conversation = models.ForeignKey(
        "review.Conversation", on_delete=models.PROTECT, related_name="decisions"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=40, choices=Verdict.choices)
    reason_code = models.CharField(max_length=40)
    notes = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="decision_log"),
            # The supervisors' questions (``question_list``, counted on every page they see):
            # a few of a tenant's decisions, not a scan of all of them.
            models.Index(
                fields=["tenant", "created_at"],
                name="decision_questions",
                condition=Q(verdict="ask_supervisor"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} ({self.reason_code})"

    @property
    def reason_label(self) -> str:
        return REASON_CODES.get(self.reason_code, (self.reason_code, frozenset()))[0]
