"""Moderator decisions. Never edited: a later decision supersedes an earlier one and links
to it, so the record shows every judgement and who made it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.models.verdicts import REASON_CODES, Verdict


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
