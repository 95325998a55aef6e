"""Helpers for the appeal tests: a ban by a named moderator, and its appeal as the platform
sends it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from review.appeals.services import appeal_receive
from review.models import Appeal, Decision, Tenant

# The user's own words: they reach the reviewer's page and nowhere else.
STATEMENT = "I was only helping my little cousin with homework, please check again"


def appeal_of(
    decision: Decision,
    *,
    external_id: str = "appeal-1",
    statement: str = STATEMENT,
    made_at: datetime | None = None,
    tenant: Tenant | None = None,
) -> Appeal:
    return appeal_receive(
        tenant=tenant or decision.tenant,
        decision_id=decision.pk,
        external_id=external_id,
        statement=statement,
        made_at=made_at or timezone.now() - timedelta(minutes=1),
    ).appeal
