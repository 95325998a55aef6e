"""Submitting an approved case to the CyberTipline: one report per case, never two.

The flow is submit -> upload (the transcript) -> fileinfo -> finish. None of these calls can
be rolled back, so this service is not one transaction: each result is committed in its own
short transaction the moment it is known (``NcmecSubmission``), and a rerun reads that row and
resumes at the first step not yet done. Every exchange is audited (AuditAction.NCMEC: the
step, the report id, the response code; never message text).

How a report is never made twice
--------------------------------
- The report id is committed as soon as /submit returns it. A rerun with a report id never
  calls /submit again: it carries on with upload, fileinfo and finish on that report.
- A lost answer to /finish is resolved by asking again: a repeated finish answers 5102
  ("already finished"), which this service takes as the receipt it missed.
- One run at a time: a run holds a lease on the submission row while it talks to NCMEC.
- The one case no client can settle alone: /submit sent, and no answer (a read timeout or a
  dropped connection). NCMEC may or may not have opened a report, and its API offers no way
  to look one up or to make /submit idempotent. Not sending again would leave a child's case
  unreported on a guess, so the service submits again and records, in the audit trail and
  on the row (``unanswered_submits``), that an earlier /submit went unanswered. If NCMEC did
  open a report then, this service never learns its id, so it can never upload to, finish
  or otherwise use it: it stays an unfinished draft, which NCMEC deletes after 24 hours
  without processing it. Only the report whose id was committed is ever finished, so at
  most one CyberTipline report per case is ever made. (A connection refused or never opened
  is retried by the client itself: that request never arrived.)
- A later step that fails (upload, fileinfo, finish refused) retracts the open report and
  records it, so a new attempt starts clean. A finish whose answer was lost is never
  retracted: it may already be a report.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.cases.models import in_sentence
from review.cases.ncmec import client as api
from review.cases.ncmec import schema
from review.cases.ncmec.report import ncmec_problems, report_xml
from review.cases.ncmec.transcript import (
    FILE_CONTENT_TYPE,
    file_details_xml,
    transcript_build,
    transcript_viewed_whole,
)
from review.cases.services import case_lock, case_preserve, case_transition
from review.errors import Code
from review.models import (
    AuditAction,
    Case,
    CaseStatus,
    NcmecState,
    NcmecSubmission,
    ReviewError,
)
from review.outbound.outbox import outbox_add
from review.queue.leases import (
    NCMEC_SUBMISSION,
    LeaseNotHeld,
    lease_held,
    lease_is_live,
    lease_release,
    lease_renew,
    lease_take,
)
from review.tenancy.capabilities import Capability, user_can

logger = logging.getLogger("artemis.ncmec")

# Who a finished report went to, as the case's receipt names it.
RECIPIENT = "NCMEC CyberTipline"

# How many unanswered /submit calls one run accepts before it stops and asks a human.
MAX_UNANSWERED_SUBMITS = 2


class NcmecRetryLater(ReviewError):
    """The run stopped on a network problem and left a state a rerun resumes; the task
    tries again later."""

    code = "upstream"


def _audit(case: Case, actor: AbstractBaseUser | None, step: str, **detail: Any) -> None:
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.NCMEC,
        target_type="case",
        target_id=str(case.pk),
        detail={"step": step, **detail},
    )


def _check_submittable(case: Case, actor: AbstractBaseUser) -> None:
    if not user_can(tenant_id=case.tenant_id, user=actor, capability=Capability.SUBMIT_REPORT):
        raise ReviewError(
            "only a supervisor or an admin of this tenant can report to NCMEC", code="forbidden"
        )
    if case.target != "ncmec":
        raise ReviewError(
            f"case {case.reference} is a {in_sentence(case.target_label)}; "
            "it is not reported to NCMEC"
        )
    if case.status != CaseStatus.APPROVED:
        raise ReviewError(
            f"case {case.reference} is {in_sentence(case.status_label)}: only an "
            f"approved case can be reported to NCMEC"
        )


def ncmec_submission_check(*, case: Case, actor: AbstractBaseUser) -> None:
    """Raise ReviewError if ``actor`` may not ask for ``case`` to be reported now, or its
    report would not build; the case page checks it before it asks to confirm."""
    _check_submittable(case, actor)
    problems = ncmec_problems(case)
    if problems:
        raise ReviewError(
            "the report is not ready: " + "; ".join(str(p) for p in problems), code="invalid"
        )


@transaction.atomic
def ncmec_submission_request(*, case: Case, actor: AbstractBaseUser) -> NcmecSubmission:
    """A supervisor asks for the case to be reported: check it is ready, mark it queued,
    and owe the work to a Celery worker (the outbox sends it once this commits)."""
    case = case_lock(case=case)
    ncmec_submission_check(case=case, actor=actor)
    submission, _ = NcmecSubmission.objects.select_for_update().get_or_create(
        case=case, defaults={"tenant": case.tenant}
    )
    if lease_is_live(submission, lease=NCMEC_SUBMISSION):
        raise ReviewError(f"case {case.reference} is being sent to NCMEC right now")
    submission.state = NcmecState.QUEUED
    submission.requested_by = actor
    submission.last_error = ""
    submission.save()
    _audit(case, actor, "queued", resumes_at=submission.next_step)

    from review.tasks import submit_ncmec  # the task module imports this one

    outbox_add(task=submit_ncmec, calls=[[case.tenant_id, case.pk, actor.pk]])
    return submission


# --- the run ---------------------------------------------------------------------------------


class _Run:
    """One run of the flow for one case, holding the submission's lease."""

    def __init__(
        self, case: Case, actor: AbstractBaseUser, client: api.CyberTiplineClient, token: str
    ) -> None:
        self.case, self.actor, self.client, self.token = case, actor, client, token

    def save(self, **fields: Any) -> NcmecSubmission:
        """Commit ``fields`` on the submission now, in their own transaction, if this run
        still holds the lease."""
        try:
            return lease_renew(
                NcmecSubmission.objects.filter(case=self.case),
                lease=NCMEC_SUBMISSION,
                holder=self.token,
                live=False,
                fields=fields,
            )
        except LeaseNotHeld:
            raise ReviewError(
                f"case {self.case.reference}: another run took over the NCMEC submission",
                code="lease_lost",
            ) from None

    def audit(self, step: str, **detail: Any) -> None:
        _audit(self.case, self.actor, step, **detail)

    def fail(
        self, step: str, message: str, *, resumable: bool = False, code: Code = "upstream"
    ) -> ReviewError:
        """Record the failure for the panel and hand back the error to raise (``code``: what
        kind of failure, NCMEC's refusal unless the caller says otherwise)."""
        with transaction.atomic(), contextlib.suppress(LeaseNotHeld):
            row = lease_held(
                NcmecSubmission.objects.filter(case=self.case),
                lease=NCMEC_SUBMISSION,
                holder=self.token,
                live=False,
            )
            lease_release(row, lease=NCMEC_SUBMISSION, last_error=message)
        logger.warning("ncmec case=%s step=%s failed resumable=%s", self.case.pk, step, resumable)
        return NcmecRetryLater(message) if resumable else ReviewError(message, code=code)

    def retract(self, submission: NcmecSubmission, why: str) -> NcmecSubmission:
        """Withdraw the open report after a later step failed, and say so in the trail."""
        report_id = submission.report_id
        try:
            self.client.retract(report_id)
        except api.CyberTiplineError as exc:
            if exc.response_code not in (api.REPORT_RETRACTED, api.UNKNOWN_REPORT):
                self.audit(
                    "retract",
                    report_id=report_id,
                    response_code=exc.response_code,
                    ok=False,
                    why=why,
                )
                return submission  # kept: a rerun resumes it, or NCMEC deletes it in 24 h
        self.audit("retract", report_id=report_id, response_code=api.OK, ok=True, why=why)
        return self.save(
            report_id="",
            file_id="",
            file_name="",
            file_md5="",
            file_sha256="",
            file_messages=0,
            file_viewed=False,
            file_described=False,
            retracted_report_ids=[*submission.retracted_report_ids, report_id],
        )

    # --- the steps ----------------------------------------------------------------------

    def submit(self, submission: NcmecSubmission) -> NcmecSubmission:
        problems = ncmec_problems(self.case)
        if problems:
            self.audit("validate", ok=False, problems=len(problems))
            raise self.fail(
                "validate",
                "the report is not ready: " + "; ".join(str(p) for p in problems),
                code="invalid",
            )
        document = report_xml(self.case)
        unanswered = 0
        while True:
            try:
                report_id = self.client.submit(document)
            except api.CyberTiplineUnreachable as exc:
                if not exc.maybe_delivered:
                    self.audit("submit", ok=False, error="unreachable")
                    raise self.fail("submit", str(exc), resumable=True) from exc
                # NCMEC may have opened a report we will never know the id of: it is never
                # finished and NCMEC deletes it after 24 h (see the module docstring).
                unanswered += 1
                submission = self.save(unanswered_submits=submission.unanswered_submits + 1)
                self.audit("submit", ok=False, error="no answer", maybe_delivered=True)
                if unanswered >= MAX_UNANSWERED_SUBMITS:
                    raise self.fail(
                        "submit",
                        f"{exc}. NCMEC did not answer {unanswered} submissions in a row; "
                        f"nothing was finished. Try again later.",
                        resumable=True,
                    ) from exc
                continue
            except api.CyberTiplineError as exc:
                self.audit("submit", ok=False, response_code=exc.response_code)
                raise self.fail("submit", str(exc)) from exc
            # Committed before anything else happens: from here on a rerun resumes this
            # report instead of opening another.
            submission = self.save(report_id=report_id)
            self.audit("submit", ok=True, report_id=report_id, response_code=api.OK)
            return submission

    def _refused(
        self, submission: NcmecSubmission, step: str, exc: api.CyberTiplineError
    ) -> ReviewError:
        """A step after submit failed: retract (unless NCMEC no longer has the report)."""
        report_id = submission.report_id
        self.audit(step, ok=False, report_id=report_id, response_code=exc.response_code)
        if exc.response_code in (api.UNKNOWN_REPORT, api.REPORT_RETRACTED):
            self.save(report_id="", file_id="", file_described=False)
            return self.fail(
                step,
                f"{exc}. NCMEC no longer has report {report_id} (unfinished reports are "
                f"deleted after 24 hours); submit again to send a new report.",
            )
        after = self.retract(submission, why=step)
        retracted = not after.report_id
        return self.fail(
            step,
            f"{exc}. Report {report_id} was "
            + (
                "retracted; submit again to send a new report."
                if retracted
                else "not retracted (NCMEC did not confirm); submitting again resumes it."
            ),
            resumable=not retracted,
        )

    def upload(self, submission: NcmecSubmission) -> NcmecSubmission:
        transcript = transcript_build(self.case)
        viewed = transcript_viewed_whole(self.case)
        try:
            answer = self.client.upload(
                submission.report_id, transcript.name, transcript.content, FILE_CONTENT_TYPE
            )
        except api.CyberTiplineError as exc:
            raise self._refused(submission, "upload", exc) from exc
        if answer.md5 != transcript.md5:
            self.audit(
                "upload", ok=False, report_id=submission.report_id, file_id=answer.file_id,
                md5_match=False,
            )  # fmt: skip
            mismatch = api.CyberTiplineError(
                "upload",
                f"the MD5 NCMEC computed ({answer.md5 or 'none'}) is not the file's "
                f"({transcript.md5}): the file was damaged on the way",
            )
            raise self._refused(submission, "upload", mismatch)
        submission = self.save(
            file_id=answer.file_id,
            file_name=transcript.name,
            file_md5=transcript.md5,
            file_sha256=transcript.sha256,
            file_messages=transcript.message_count,
            file_viewed=viewed,
        )
        self.audit(
            "upload", ok=True, report_id=submission.report_id, file_id=answer.file_id,
            md5=transcript.md5, md5_match=True, messages=transcript.message_count,
            response_code=api.OK,
        )  # fmt: skip
        return submission

    def fileinfo(self, submission: NcmecSubmission) -> NcmecSubmission:
        details = file_details_xml(
            report_id=submission.report_id,
            file_id=submission.file_id,
            name=submission.file_name,
            md5=submission.file_md5,
            sha256=submission.file_sha256,
            message_count=submission.file_messages,
            viewed_by_esp=submission.file_viewed,
        )
        errors = schema.validate(details, root="fileDetails")
        if errors:  # a bug here, not the moderator's: say so plainly
            invalid = api.CyberTiplineError(
                "fileinfo", f"file details do not validate: {errors[0]}"
            )
            raise self._refused(submission, "fileinfo", invalid)
        try:
            self.client.fileinfo(details)
        except api.CyberTiplineError as exc:
            raise self._refused(submission, "fileinfo", exc) from exc
        submission = self.save(file_described=True)
        self.audit(
            "fileinfo", ok=True, report_id=submission.report_id, file_id=submission.file_id,
            file_viewed_by_esp=submission.file_viewed, response_code=api.OK,
        )  # fmt: skip
        return submission

    def finish(self, submission: NcmecSubmission) -> Case:
        report_id = submission.report_id
        try:
            answer = self.client.finish(report_id)
            receipt, file_ids = answer.raw, answer.file_ids
            self.audit("finish", ok=True, report_id=report_id, response_code=api.OK, files=file_ids)
        except api.CyberTiplineUnreachable as exc:
            # It may have been finished: never retract here. A rerun asks again and a
            # finished report answers 5102.
            self.audit("finish", ok=False, report_id=report_id, error="no answer")
            raise self.fail(
                "finish", f"{exc}. Submitting again completes it.", resumable=True
            ) from exc
        except api.CyberTiplineError as exc:
            if exc.response_code != api.ALREADY_FINISHED:
                raise self._refused(submission, "finish", exc) from exc
            # An earlier run finished it and lost the answer: this is that report's receipt.
            receipt = (
                f"Report {report_id} finished; NCMEC confirmed it with code 5102 (already "
                f"finished) at {timezone.now().isoformat()} after the original answer was lost."
            )
            file_ids = [submission.file_id]
            self.audit("finish", ok=True, report_id=report_id, response_code=api.ALREADY_FINISHED)
        return self.complete(submission, receipt=receipt, file_ids=file_ids)

    @transaction.atomic
    def complete(self, submission: NcmecSubmission, *, receipt: str, file_ids: list[str]) -> Case:
        """Store the receipt (NCMEC's answer on the submission, the report id on the case),
        move the case to submitted, and start the year of preservation from its date."""
        case = case_lock(case=self.case)
        now = timezone.now()
        case.submitted_at = now
        case.submitted_to = RECIPIENT
        case.submission_reference = submission.report_id
        case_transition(
            case=case,
            to=CaseStatus.SUBMITTED,
            actor=self.actor,
            detail={"ncmec_report_id": submission.report_id},
        )
        case = case_preserve(case=case, actor=self.actor, start=timezone.localdate(now))
        self.save(
            state=NcmecState.FINISHED,
            receipt=receipt,
            file_ids=file_ids,
            last_error="",
            lease_token="",
            lease_until=None,
        )
        return case


def _claim(case: Case, actor: AbstractBaseUser) -> tuple[Case, str | None]:
    """Take the submission's lease for this run. Answers (case, None) when there is
    nothing to do (already finished)."""
    with transaction.atomic():
        case = case_lock(case=case)
        submission = NcmecSubmission.objects.filter(case=case).select_for_update().first()
        if submission is not None and submission.state == NcmecState.FINISHED:
            return case, None
        _check_submittable(case, actor)
        if submission is None:
            submission = NcmecSubmission.objects.create(
                tenant=case.tenant, case=case, requested_by=actor
            )
        if lease_is_live(submission, lease=NCMEC_SUBMISSION):
            # A redelivered task while the first run still holds the lease (or died holding
            # it): try again later; the lease expires if that run is gone.
            raise NcmecRetryLater(f"case {case.reference} is being sent to NCMEC by another run")
        token = uuid.uuid4().hex
        lease_take(submission, lease=NCMEC_SUBMISSION, holder=token)
        return case, token


def case_submit_ncmec(
    *, case: Case, actor: AbstractBaseUser, client: api.CyberTiplineClient | None = None
) -> Case:
    """Report an approved NCMEC case to the CyberTipline, or resume a run that stopped.

    Not one transaction on purpose (see the module docstring): each step commits its result
    as soon as NCMEC gives it. Raises ReviewError with a clear message when a step fails;
    the submission row keeps the message and what a rerun would resume.
    """
    case, token = _claim(case, actor)
    if token is None:
        return case  # already reported: nothing is ever sent twice
    run = _Run(case, actor, client or api.CyberTiplineClient(), token)
    submission = NcmecSubmission.objects.get(case=case)
    try:
        if submission.next_step == "submit":
            submission = run.submit(submission)
        if submission.next_step == "upload":
            submission = run.upload(submission)
        if submission.next_step == "fileinfo":
            submission = run.fileinfo(submission)
        return run.finish(submission)
    except ReviewError:
        raise
    except SoftTimeLimitExceeded as exc:
        # The task's time limit cut a call NCMEC did not answer (artemis/settings.py,
        # ARTEMIS_TASK_QUEUES): like a lost answer, a rerun resumes from the last committed step.
        run.audit("time_limit", ok=False, error="time limit")
        raise run.fail(
            "time_limit",
            "NCMEC did not answer within the task's time limit; submitting again resumes it",
            resumable=True,
        ) from exc
    except Exception as exc:
        # A bug or a database error mid-run: keep what was committed, free the lease so a
        # rerun resumes, and let the error surface.
        run.fail("internal", f"the submission stopped unexpectedly ({type(exc).__name__}); "
                 f"submitting again resumes it")  # fmt: skip
        raise


def ncmec_submission_retract(
    *, case: Case, actor: AbstractBaseUser, client: api.CyberTiplineClient | None = None
) -> NcmecSubmission:
    """A supervisor withdraws the case's open, unfinished report (a run stopped and the
    case should not go as it is). A finished report is NCMEC's and is never retracted. The
    next submission starts clean with a new report."""
    with transaction.atomic():
        case = case_lock(case=case)
        if not user_can(tenant_id=case.tenant_id, user=actor, capability=Capability.SUBMIT_REPORT):
            raise ReviewError(
                "only a supervisor or an admin of this tenant can retract a report",
                code="forbidden",
            )
        submission = NcmecSubmission.objects.filter(case=case).select_for_update().first()
        if submission is None or not submission.report_id:
            raise ReviewError(f"case {case.reference} has no open NCMEC report to retract")
        if submission.state == NcmecState.FINISHED:
            raise ReviewError(
                f"case {case.reference}: report {submission.report_id} is finished; a "
                "finished CyberTipline report cannot be retracted"
            )
        if lease_is_live(submission, lease=NCMEC_SUBMISSION):
            raise ReviewError(f"case {case.reference} is being sent to NCMEC right now")
        token = uuid.uuid4().hex
        lease_take(submission, lease=NCMEC_SUBMISSION, holder=token)
    run = _Run(case, actor, client or api.CyberTiplineClient(), token)
    report_id = submission.report_id
    after = run.retract(submission, why="withdrawn")
    if after.report_id:
        raise run.fail(
            "retract",
            f"NCMEC did not confirm the retraction of report {report_id}; it stays open "
            "(NCMEC deletes unfinished reports after 24 hours)",
        )
    with transaction.atomic():
        row = lease_held(
            NcmecSubmission.objects.filter(case=case),
            lease=NCMEC_SUBMISSION,
            holder=token,
            live=False,
        )
        return lease_release(
            row,
            lease=NCMEC_SUBMISSION,
            last_error=f"report {report_id} was retracted; submitting again sends a new report",
        )
