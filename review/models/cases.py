"""Escalation cases: what a moderator's escalation becomes on its way to NCMEC or to law
enforcement, and the preservation duty that follows.

A case is opened by an escalation decision and moves

    draft -> awaiting_approval -> approved -> submitted (NCMEC) | delivered (law enforcement)
          -> preserved -> closed

A supervisor who is not the case's author approves it (four eyes). Once a report is
submitted or a package delivered, the conversation and its participants must be kept for a
year (18 U.S.C. 2258A(h)): ``preserve_until`` holds that date, and nothing may purge the
case, its conversation or its participants before it. Transitions are audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaseKind(models.TextChoices):
    NCMEC = "ncmec", "NCMEC CyberTipline report"
    LAW_ENFORCEMENT = "law_enforcement", "Law-enforcement referral"


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    SUBMITTED = "submitted", "Submitted to NCMEC"
    DELIVERED = "delivered", "Delivered to law enforcement"
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
        CaseStatus.DELIVERED,
        CaseStatus.PRESERVED,
    }
)

# NCMEC's report annotations that apply to a grooming chat (cyber_tipline.xsd, <annotations>).
CASE_ANNOTATIONS: dict[str, str] = {
    "sextortion": "Sextortion",
    "csamSolicitation": "Solicitation of imagery (CSAM)",
    "minorToMinorInteraction": "Minor-to-minor interaction",
}


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
    kind = models.CharField(max_length=20, choices=CaseKind.choices)
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

    # NCMEC submission: the ids the CyberTipline returned and the finish receipt.
    ncmec_report_id = models.CharField(max_length=40, blank=True)
    ncmec_file_ids = models.JSONField(default=list, blank=True)
    ncmec_receipt = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A law-enforcement referral: the agency it was handed to and the agency's reference.
    delivered_to = models.CharField(max_length=255, blank=True)
    delivery_reference = models.CharField(max_length=255, blank=True)
    # Nothing about the case may be purged before this date (one year from the NCMEC
    # receipt or the delivery; a supervisor can extend it).
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
        return f"case {self.pk} ({self.kind}, {self.status})"

    @property
    def reference(self) -> str:
        """The case id a human quotes: tenant slug and number, e.g. ``acme-C000042``."""
        return f"{self.tenant.slug}-C{self.pk:06d}"
