"""Reads for the referral package. Each takes the tenant, like every selector."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from review.audit.selectors import audit_events_of
from review.intake.selectors import participant_list
from review.models import (
    Appeal,
    AuditAction,
    AuditChainHead,
    AuditEvent,
    Case,
    QueueItem,
    SecondReview,
    Tenant,
)


def custody_events(*, tenant: Tenant, case: Case) -> list[AuditEvent]:
    """Every audit event about the case or its conversation, in chain order: views and
    decisions on the conversation, claims and releases of its queue items, its blind second
    reviews (a disagreement and a supervisor's answer to it included) and appeals, reveals
    of its messages, openings of its participants' pages (the account data the package
    hands over: who saw the child's date of birth or the reported user's addresses), and
    every move, edit, view, CyberTipline exchange and download of the case."""
    conversation_id = case.conversation_id
    # The participants the package lists (participant_list), and the case's own two.
    participant_ids = {
        str(p.pk) for p in participant_list(tenant=tenant, conversation=case.conversation)
    } | {str(pk) for pk in (case.reported_participant_id, case.victim_participant_id) if pk}

    def ids(model: type[models.Model]) -> list[str]:
        rows = model.objects.filter(tenant=tenant, conversation_id=conversation_id)  # type: ignore[attr-defined]
        return [str(pk) for pk in rows.values_list("pk", flat=True)]

    about = (
        Q(target_type="case", target_id=str(case.pk))
        | Q(target_type="conversation", target_id=str(conversation_id))
        | Q(target_type="message", detail__conversation=conversation_id)
        | Q(target_type="queue_item", target_id__in=ids(QueueItem))
        | Q(target_type="second_review", target_id__in=ids(SecondReview))
        | Q(target_type="appeal", target_id__in=ids(Appeal))
        | Q(target_type="participant", target_id__in=sorted(participant_ids))
    )
    return list(AuditEvent.objects.filter(tenant=tenant).filter(about).order_by("sequence"))


def audit_head(*, tenant: Tenant) -> AuditChainHead | None:
    """The last link of the tenant's chain: quoted in the package, so the provider can show
    later that the trail it came from was not rewritten."""
    return AuditChainHead.objects.filter(tenant=tenant).first()


def package_downloads(*, tenant: Tenant, case: Case) -> list[AuditEvent]:
    """Earlier downloads of the case's package, newest first."""
    return audit_events_of(
        tenant=tenant,
        action=AuditAction.PACKAGE_DOWNLOAD,
        target_type="case",
        target_id=case.pk,
        newest_first=True,
    )
