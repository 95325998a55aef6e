"""Escalation cases: what a moderator's escalation becomes on its way to a reporting target
(NCMEC's CyberTipline, a law-enforcement agency: ``review.reporting.targets``), and the
preservation duty that follows.

A case is opened by an escalation decision and moves

    draft -> awaiting_approval -> approved -> submitted -> preserved -> closed

whatever its target: "submitted" is the report sent to NCMEC or the referral delivered to
an agency, shown in the target's own words. A supervisor who is not the case's author
approves it (four eyes). Once it is submitted, the conversation and its participants must be
kept for as long as the target's preservation rule says (a year for NCMEC and US law
enforcement, 18 U.S.C. 2258A(h)): ``preserve_until`` holds that date, and nothing may purge
the case, its conversation or its participants before it. Transitions are audited. What a
target keeps of its own (NCMEC's report and file ids, its answer) lives in its own table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.cases.targets import ReportingTarget, target_get


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    # Reported to the case's target; the case page says it in the target's words
    # ("Submitted to NCMEC", "Delivered to law enforcement": Case.status_label).
    SUBMITTED = "submitted", "Submitted"
    PRESERVED = "preserved", "Preserved"
    CLOSED = "closed", "Closed"


# A case in one of these states holds its conversation back from any purge (so does any case
# whose preserve_until has not passed).
CASE_HELD_STATUSES = frozenset(
    {
        CaseStatus.DRAFT,
        CaseStatus.AWAITING_APPROVAL,
        CaseStatus.APPROVED,
        CaseStatus.SUBMITTED,
        CaseStatus.PRESERVED,
    }
)

# Statuses this app stored before reporting targets; still in old audit events, so the
# history can name them.
LEGACY_STATUS_LABELS: dict[str, str] = {"delivered": "Delivered to law enforcement"}

# NCMEC's report annotations that apply to a grooming chat (cyber_tipline.xsd, <annotations>).
CASE_ANNOTATIONS: dict[str, str] = {
    "sextortion": "Sextortion",
    "csamSolicitation": "Solicitation of imagery (CSAM)",
    "minorToMinorInteraction": "Minor-to-minor interaction",
}


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: the first word lowercased ("Awaiting approval"
    is "awaiting approval"), unless it is an acronym, and every later word as it is, so
    "Submitted to NCMEC" reads "submitted to NCMEC" and "NCMEC CyberTipline report" stays."""
    first, space, rest = label.partition(" ")
    if first[1:2].isupper():  # NCMEC, IP
        return label
    return first[:1].lower() + first[1:] + space + rest


def status_label(value: str, *, target: str | None = None) -> str:
    """A stored status in words: "submitted" as the target says it when the target is
    known, a status stored before targets by its old label, an unknown value as it is."""
    if value == CaseStatus.SUBMITTED and target:
        return target_get(target).submitted_label
    if value in LEGACY_STATUS_LABELS:
        return LEGACY_STATUS_LABELS[value]
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return value


class Case(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    # PROTECT: a conversation under a case can never be deleted out from under it.
    conversation = models.ForeignKey(
        "review.Conversation", on_delete=models.PROTECT, related_name="cases"
    )
    # The escalation decision that opened the case.
    decision = models.OneToOneField(
        "review.Decision", on_delete=models.PROTECT, related_name="case"
    )
    # Where the case is reported: a name in review.cases.targets.REGISTRY ("ncmec",
    # "law_enforcement"). No choices here: a new target needs no migration of this table.
    target = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    # What the moderator completes in the case editor.
    reported_participant = models.ForeignKey(
        "review.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    victim_participant = models.ForeignKey(
        "review.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The reported user as the platform described them, prefilled and then corrected by the
    # moderator: esp_identifier, screen_name, display_name, ip_events, device_ids,
    # estimated_location.
    reported_details = models.JSONField(default=dict, blank=True)
    # The child: age or date_of_birth (either may be unknown), screen_name, display_name.
    victim_details = models.JSONField(default=dict, blank=True)
    incident_at = models.DateTimeField(null=True, blank=True)  # stored in UTC
    # The incident's own offset from UTC in minutes: the report states the time zone.
    incident_utc_offset_minutes = models.SmallIntegerField(null=True, blank=True)
    narrative = models.TextField(blank=True)
    # Set when the case is urgent (a planned meeting, say): NCMEC's escalateToHighPriority.
    urgency_reason = models.TextField(blank=True)
    annotations = models.JSONField(default=list, blank=True)  # keys of CASE_ANNOTATIONS

    # The receipt, whatever the target: when the case was submitted, to whom (NCMEC's
    # CyberTipline, the agency a referral was handed to) and their reference (the report
    # id, the agency's reference). A target's own details live in its own table.
    submitted_at = models.DateTimeField(null=True, blank=True)
    # A referral handed over by hand: the date the supervisor says it was delivered. No
    # time of day is claimed; ``submitted_at`` is then when the delivery was recorded.
    delivered_on = models.DateField(null=True, blank=True)
    submitted_to = models.CharField(max_length=255, blank=True)
    submission_reference = models.CharField(max_length=255, blank=True)
    # Nothing about the case may be purged before this date (the target's preservation
    # from the submission; a supervisor can extend it).
    preserve_until = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status"], name="case_tenant_status"),
            models.Index(
                fields=["preserve_until"],
                name="case_preserved",
                condition=Q(preserve_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.target}, {self.status})"

    @property
    def reporting_target(self) -> ReportingTarget:
        return target_get(self.target)

    @property
    def target_label(self) -> str:
        return self.reporting_target.label

    @property
    def status_label(self) -> str:
        """The status in words, "submitted" in the target's own ("Submitted to NCMEC")."""
        return status_label(self.status, target=self.target)

    @property
    def reference(self) -> str:
        """The case id a human quotes: tenant slug and number, e.g. ``acme-C000042``."""
        return f"{self.tenant.slug}-C{self.pk:06d}"
