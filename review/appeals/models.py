"""Appeals: the platform sends a user's appeal of a decision it was told to carry out; a
member other than the decider upholds it, overturns it (a new decision superseding the old
one) or refers it to a supervisor. A decision replaced by anything else while its appeal is
open closes the appeal as superseded. The appealed decision is never edited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AppealStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    CLAIMED = "claimed", "Claimed"
    DONE = "done", "Decided"


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"
    # The appealed decision was replaced while the appeal was open, by anything but the
    # appeal's own outcome (a supervisor's decision, a moderator's on new messages): the
    # replacing decision answers the appeal, and nobody can uphold or overturn it any more.
    SUPERSEDED = "superseded", "Answered by a later decision"


class Appeal(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    # The decision the platform was told to carry out, named by the webhook's decision id.
    decision = models.ForeignKey(
        "review.Decision", on_delete=models.PROTECT, related_name="appeals"
    )
    # Copied from the decision: the claim's audit event names it, and pages list by it.
    conversation = models.ForeignKey(
        "review.Conversation", on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(max_length=255, help_text="the platform's appeal id")
    # The user's own words: shown to the reviewer, never logged, audited or sent anywhere.
    statement = models.TextField()
    made_at = models.DateTimeField(help_text="when the user made the appeal, with its offset")
    received_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppealStatus.choices, default=AppealStatus.WAITING
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Referred to a supervisor: from then on only a supervisor may take it.
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referred_at = models.DateTimeField(null=True, blank=True)
    referral_notes = models.TextField(blank=True)
    # The outcome, once decided.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=AppealOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    new_decision = models.OneToOneField(
        "review.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeal_answered",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "received_at"], name="appeal_next"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="appeal_platform_id_unique"
            ),
            # A second open appeal of one decision is refused (the API answers 409).
            models.UniqueConstraint(
                fields=["decision"],
                condition=~Q(status="done"),
                name="appeal_one_open_per_decision",
            ),
            models.CheckConstraint(
                condition=~Q(status="done")
                | (Q(reviewer__isnull=False) & ~Q(outcome="") & Q(decided_at__isnull=False)),
                name="appeal_done_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome__in=["overturned", "superseded"])
                | Q(new_decision__isnull=False),
                name="appeal_replaced_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal {self.pk} of decision {self.decision_id} ({self.status})"

    @property
    def referred(self) -> bool:
        return self.referred_at is not None
