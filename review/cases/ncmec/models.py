"""The state of one case's CyberTipline submission, kept step by step.

A report to NCMEC takes several HTTP calls (submit, upload, fileinfo, finish). None of them
can be rolled back, so each result is committed the moment it is known: a rerun after a
crash reads this row and resumes at the first step not yet done, and never submits a second
report while one is open (see ``review.cases.ncmec.services``). Every exchange is also in the audit
trail (AuditAction.NCMEC).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NcmecState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Sending to NCMEC"
    FAILED = "failed", "Failed"
    FINISHED = "finished", "Finished"


class NcmecSubmission(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(
        "review.Case", on_delete=models.PROTECT, related_name="ncmec_submission"
    )
    state = models.CharField(max_length=20, choices=NcmecState.choices, default=NcmecState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The open report on NCMEC's side, committed the moment /submit returns it.
    report_id = models.CharField(max_length=40, blank=True)
    # The transcript file, committed the moment /upload returns its id and MD5.
    file_id = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_md5 = models.CharField(max_length=32, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_messages = models.PositiveIntegerField(default=0)
    # Whether the audit trail showed a person had seen the whole transcript when it was sent.
    file_viewed = models.BooleanField(default=False)
    file_described = models.BooleanField(default=False)
    # Reports this case opened and then retracted after a later step failed.
    retracted_report_ids = models.JSONField(default=list, blank=True)
    # /submit calls whose answer never came (a read timeout): NCMEC may hold an unfinished
    # report we cannot name; it is never finished, and NCMEC deletes it after 24 hours.
    unanswered_submits = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Once finished: the file ids NCMEC's finish answer lists, and that answer as it came
    # (the receipt). ``report_id`` is then the report that was made.
    file_ids = models.JSONField(default=list, blank=True)
    receipt = models.TextField(blank=True)
    # One run at a time: a run holds the lease while it talks to NCMEC.
    lease_token = models.CharField(max_length=40, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"NCMEC submission for case {self.case_id} ({self.state})"

    @property
    def next_step(self) -> str:
        if self.state == NcmecState.FINISHED:
            return "done"
        if not self.report_id:
            return "submit"
        if not self.file_id:
            return "upload"
        if not self.file_described:
            return "fileinfo"
        return "finish"
