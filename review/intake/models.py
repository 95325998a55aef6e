"""Intake: the conversations platforms send, their participants and messages, and the
scoring engine's assessments of them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from review.tenancy.models import Tenant
from scoring import characteristics
from scoring.engine import suspects_ranked


class ConversationStatus(models.TextChoices):
    PENDING = "pending", "Awaiting score"
    SCORED = "scored", "Scored, below threshold"
    FLAGGED = "flagged", "Flagged for review"
    REVIEWED = "reviewed", "Reviewed"


class Conversation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="conversations")
    external_id = models.CharField(max_length=255)
    platform = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=ConversationStatus.choices, default=ConversationStatus.PENDING
    )
    participants = models.ManyToManyField("Participant", related_name="conversations")
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when content changed and a score is owed; cleared by the scoring task only if it is
    # still the value the task started from, so messages arriving mid-score are never missed.
    score_requested_at = models.DateTimeField(null=True, blank=True)
    # When a scoring task was sent that no worker has started yet; null when none is waiting.
    # Ingest sends a task only while it is null, so a backlog holds at most one per
    # conversation. A worker clears it as it starts (its claim), before reading the messages:
    # a message that arrives after the claim owes a task of its own.
    score_enqueued_at = models.DateTimeField(null=True, blank=True)
    # When a worker last started scoring it; the sweep re-sends a claimed request left
    # unanswered this long (the worker died, or the conversation fails to score).
    score_claimed_at = models.DateTimeField(null=True, blank=True)
    last_scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="conversation_tenant_external_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["score_requested_at"],
                name="conversation_score_owed",
                condition=Q(score_requested_at__isnull=False),
            ),
            models.Index(fields=["tenant", "status"], name="conversation_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.external_id}"


class Participant(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="participants")
    external_id = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    declared_age = models.PositiveSmallIntegerField(null=True, blank=True)
    account_created_at = models.DateTimeField(null=True, blank=True)
    # What else the platform knows about the account, as it sent it; an escalation case is
    # prefilled from these (NCMEC's personOrUserReported and victim).
    screen_name = models.CharField(max_length=255, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    # [{"ip": "203.0.113.7", "at": "2026-11-01T18:00:00+01:00", "event": "login"}, ...]
    ip_events = models.JSONField(default=list, blank=True)
    device_ids = models.JSONField(default=list, blank=True)
    # {"country": "US", "region": "CA", "city": "..."}: the platform's estimate.
    estimated_location = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="participant_tenant_external_unique"
            )
        ]

    def __str__(self) -> str:
        return f"participant {self.external_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    external_id = models.CharField(max_length=255)
    sender = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="messages")
    sent_at = models.DateTimeField()  # stored in UTC
    # The sender's original offset from UTC in minutes, as the platform sent it: the law asks
    # for the time zone (18 U.S.C. 2258A(b)(2)) and moderators read local time of day.
    utc_offset_minutes = models.SmallIntegerField()
    text = models.TextField()
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Message-level result, cached so a rescore after new messages only scores the new ones.
    score = models.JSONField(null=True, blank=True)
    scored_by = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "external_id"], name="message_conversation_external_unique"
            ),
            models.UniqueConstraint(
                fields=["conversation", "position"], name="message_conversation_position_unique"
            ),
        ]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"message {self.external_id}"


class Assessment(models.Model):
    """One scoring of one version of a conversation's content. Never updated: a rescore adds a
    new row, so a moderator can see how the score moved as messages arrived."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="assessments"
    )
    model_version = models.CharField(max_length=64)
    probability = models.FloatField()
    characteristic_scores = models.JSONField(default=dict)
    highlights = models.JSONField(default=list)
    factors = models.JSONField(default=list)
    suspect_scores = models.JSONField(default=dict)
    # Per participant, the evidence in their own messages (ConversationScore.responsibility);
    # empty in assessments made before it was recorded.
    responsibility = models.JSONField(default=dict)
    message_count = models.PositiveIntegerField()
    content_fingerprint = models.CharField(max_length=64)
    scored_at = models.DateTimeField()

    class Meta:
        get_latest_by = "scored_at"
        indexes = [models.Index(fields=["conversation", "-scored_at"], name="assessment_latest")]

    def __str__(self) -> str:
        return f"assessment {self.probability:.2f} ({self.model_version})"

    def suspects_ranked(self) -> list[str]:
        """Platform ids of the participants the model holds responsible, most responsible
        first (scoring.engine.suspects_ranked): who a case reports and whom a decision
        concerns."""
        return suspects_ranked(self.suspect_scores or {}, self.responsibility or {})

    @property
    def flagged_characteristics(self) -> list[str]:
        """Characteristics highlighted anywhere in the conversation, most severe first."""
        return sorted(
            {h["characteristic"] for h in self.highlights},
            key=lambda k: (-characteristics.get(k).severity, k),
        )


class ScoringState(models.Model):
    """Where the scorer left a conversation: the engine's window state after its latest
    assessment (``scoring.types.WindowState``), so the next rescore reads only the windows
    ending at new messages. Scorer-internal, read and written only by
    ``review.intake.scoring``; derived data, never shown, and safe to delete (the next
    rescore reads the conversation whole and writes it again)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="scoring_state"
    )
    state = models.JSONField()
    # SHA-256 of the ids of the messages the state covers, in order: the state continues
    # only the conversation it was made from (messages are never overwritten, but retention
    # or an erasure could remove some).
    messages_digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"scoring state of conversation {self.conversation_id}"
