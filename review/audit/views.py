"""The audit trail, read by supervisors: newest first, filtered by action, actor and dates.
Reading it is itself recorded. (``manage.py verify_audit`` checks the chain.)
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from review.audit import selectors
from review.audit.services import audit_record
from review.filters import date_range
from review.models import AuditAction
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest, tenant_page
from review.tenancy.capabilities import Capability

PAGE = 100
# The largest sequence number an event can have (``AuditEvent.sequence`` is a bigint).
SEQUENCE_MAX = 2**63 - 1


def _before(raw: str, errors: dict[str, str]) -> int | None:
    """The event number the page lists events before (the "Older events" link's), or None.
    ASCII digits of a number a sequence can be, else an error naming the field: it goes into
    the audit detail of this page's view, and ``str.isdigit`` also passes "²" (which ``int``
    refuses: a 500) and thousands of digits."""
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(SEQUENCE_MAX)):
        number = int(raw)
        if 1 <= number <= SEQUENCE_MAX:
            return number
    errors["before"] = "before: must be an event number (a whole number from 1)"
    return None


@tenant_page(Capability.READ_AUDIT)
@require_GET
def audit_trail(request: ArtemisRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    action = action if action in AuditAction.values else ""
    actor = request.GET.get("actor", "").strip()[:150]
    start, end, errors = date_range(request.GET)
    days = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    before = _before(request.GET.get("before", ""), errors)
    filters = {"action": action, "actor": actor, **{k: v for k, v in days.items() if v}}
    context = {
        "tenant": request.tenant,
        "membership": request.membership,
        "actions": AuditAction.choices,
        "action": action,
        "actor": actor,
        "days": days,
        "errors": list(errors.values()),
        "query": urlencode({k: v for k, v in filters.items() if v}),
    }
    if errors:
        # A bad date names its field and lists nothing rather than the wrong events.
        context.update(events=[], older=None)
        return render(request, "review/audit/audit_trail.html", context, status=400)
    events = selectors.audit_event_page(
        tenant=request.tenant,
        action=action,
        actor=actor,
        start=start,
        end=end,
        before=before,
        limit=PAGE,
    )
    audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.REPORT_VIEW,
        target_type="audit_trail",
        detail={**filters, "before": before, "rows": len(events)},
        ip=client_ip(request),
    )
    targets = selectors.audit_targets(
        tenant=request.tenant, membership=request.membership, events=events
    )
    for event in events:
        event.target = targets.get(event.pk)  # type: ignore[attr-defined]
    context.update(events=events, older=events[-1].sequence if len(events) == PAGE else None)
    return render(request, "review/audit/audit_trail.html", context)
