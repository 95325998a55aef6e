"""Decisions and second reviews. A decision is never edited: a later one supersedes it; a
second review is a blind look at a sample of decisions by another member.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.decisions.verdicts import REASON_CODES, Verdict


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


class SecondReviewStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    CLAIMED = "claimed", "Claimed"
    DONE = "done", "Done"


class Resolution(models.TextChoices):
    UPHELD = "upheld", "First decision upheld"
    OVERTURNED = "overturned", "First decision overturned"


class SecondReview(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    # One second review per decision at most; the decision is never touched by it.
    decision = models.OneToOneField(
        "review.Decision", on_delete=models.PROTECT, related_name="second_review"
    )
    # Copied from the decision: the claim excludes everyone who decided on this conversation.
    conversation = models.ForeignKey(
        "review.Conversation", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=SecondReviewStatus.choices, default=SecondReviewStatus.WAITING
    )
    created_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The blind verdict, once recorded.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=40, choices=Verdict.choices, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    agrees = models.BooleanField(null=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A supervisor's answer to a disagreement.
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_decision = models.ForeignKey(
        "review.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "created_at"], name="secondreview_next"),
            models.Index(
                fields=["tenant", "completed_at"],
                name="secondreview_disagreements",
                condition=Q(agrees=False, resolved_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", reviewer__isnull=False, agrees__isnull=False)
                | ~Q(status="done"),
                name="secondreview_done_has_verdict",
            )
        ]

    def __str__(self) -> str:
        return f"second review {self.pk} of decision {self.decision_id} ({self.status})"

    @property
    def reason_label(self) -> str:
        return REASON_CODES.get(self.reason_code, (self.reason_code, frozenset()))[0]

    @property
    def disagreement_open(self) -> bool:
        return self.agrees is False and self.resolved_at is None
