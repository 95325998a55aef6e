"""Agreement per moderator, for supervisors: decisions, blind second reviews, agreement
rate, Cohen's kappa and overturn rate over a period, with a CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from review import csv_safe, selectors_supervision
from review.capabilities import Capability
from review.models import AuditAction
from review.services.audit import audit_record
from review.views.base import ArtemisRequest, tenant_page

PRESETS = {"7": 7, "30": 30, "90": 90, "all": None}
DEFAULT_DAYS = "30"


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = f"{field}: {value!r} is not a date; use YYYY-MM-DD"
        return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _period(
    request: ArtemisRequest,
) -> tuple[datetime | None, datetime | None, str, dict[str, str]]:
    """[start, end) in UTC from ?from=&to= (dates, both inclusive) or ?days=7|30|90|all."""
    errors: dict[str, str] = {}
    first = _day(request.GET.get("from", ""), "from", errors)
    last = _day(request.GET.get("to", ""), "to", errors)
    if first and last and last < first:
        errors["to"] = "to: the period ends before it starts"
    if errors or first or last:
        start = _midnight(first) if first else None
        end = _midnight(last + timedelta(days=1)) if last else None
        return start, end, "", errors
    days = request.GET.get("days", DEFAULT_DAYS)
    if days not in PRESETS:
        errors["days"] = f"days: choose one of {', '.join(PRESETS)}"
        days = DEFAULT_DAYS
    span = PRESETS[days]
    start = None if span is None else timezone.now() - timedelta(days=span)
    return start, None, days, errors


def _number(value: float | None, digits: int = 2) -> Decimal | str:
    # A Decimal, not text: the CSV writer keeps numbers as they are, so a negative kappa
    # stays -0.2500 (text starting with "-" would get a leading apostrophe).
    return "" if value is None else Decimal(f"{value:.{digits}f}")


@tenant_page(Capability.SUPERVISE)
@require_GET
def agreement(request: ArtemisRequest) -> HttpResponse:
    start, end, preset, errors = _period(request)
    if errors:
        # A bad filter names its field and shows no figures rather than the wrong ones.
        return render(
            request,
            "review/agreement.html",
            {
                "tenant": request.tenant,
                "membership": request.membership,
                "report": None,
                "errors": list(errors.values()),
                "preset": "",
                "presets": list(PRESETS),
                "from": request.GET.get("from", ""),
                "to": request.GET.get("to", ""),
            },
            status=400,
        )
    report = selectors_supervision.agreement_report(tenant=request.tenant, start=start, end=end)
    period = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    if request.GET.get("format") == "csv":
        audit_record(
            tenant=request.tenant,
            actor=request.user,
            action=AuditAction.EXPORT,
            target_type="agreement_report",
            detail={**period, "rows": len(report.rows)},
            ip=request.META.get("REMOTE_ADDR"),
        )
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="agreement-{request.tenant.slug}.csv"'
        )
        writer = csv_safe.writer(response)
        writer.writerow(
            [
                "moderator", "role", "decisions", "questions", "second_reviews_done",
                "decisions_second_reviewed", "agreed", "agreement_rate", "cohen_kappa",
                "overturned", "overturn_rate", "period_from", "period_to",
            ]
        )  # fmt: skip
        for row in [*report.rows, report.total]:
            writer.writerow(
                [
                    row.username, row.role, row.decisions, row.questions, row.reviews_done,
                    row.reviewed, row.agreed, _number(row.agreement, 4), _number(row.kappa, 4),
                    row.overturned, _number(row.overturn_rate, 4),
                    period["from"] or "", period["to"] or "",
                ]
            )  # fmt: skip
        return response
    audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.REPORT_VIEW,
        target_type="agreement_report",
        detail=period,
        ip=request.META.get("REMOTE_ADDR"),
    )
    return render(
        request,
        "review/agreement.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "report": report,
            "team": selectors_supervision.team_exposure(tenant=request.tenant),
            "break_minutes": settings.ARTEMIS_BREAK_AFTER_MINUTES,
            "errors": [],
            "preset": preset,
            "presets": list(PRESETS),
            "from": request.GET.get("from", ""),
            "to": request.GET.get("to", ""),
            "query": request.GET.urlencode(),
        },
    )
