"""Supervisor pages: the decision log and its CSV export (no message text in either)."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from review import csv_safe, selectors
from review.capabilities import Capability
from review.models import AuditAction, Verdict
from review.services.audit import audit_record
from review.views.base import ArtemisRequest, tenant_page


class _Echo:
    def write(self, value: str) -> str:
        return value


@tenant_page(Capability.READ_DECISIONS)
@require_GET
def decision_log(request: ArtemisRequest) -> HttpResponse:
    decisions = selectors.decision_list(tenant=request.tenant)
    verdict = request.GET.get("verdict", "")
    moderator = request.GET.get("moderator", "")
    if verdict in Verdict.values:
        decisions = decisions.filter(verdict=verdict)
    if moderator:
        decisions = decisions.filter(moderator__username=moderator)
    if request.GET.get("format") == "csv":
        audit_record(
            tenant=request.tenant,
            actor=request.user,
            action=AuditAction.EXPORT,
            target_type="decision_log",
            detail={"verdict": verdict, "moderator": moderator, "rows": decisions.count()},
            ip=request.META.get("REMOTE_ADDR"),
        )
        # Conversation ids come from the platform: the writer keeps "=1+1" from running.
        writer = csv_safe.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(
                ["decided_at", "conversation", "moderator", "verdict", "reason_code", "supersedes"]
            )
            for d in decisions.iterator():
                yield writer.writerow(
                    [
                        d.created_at.isoformat(),
                        d.conversation.external_id,
                        d.moderator.get_username(),
                        d.verdict,
                        d.reason_code,
                        d.supersedes_id or "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="decisions-{request.tenant.slug}.csv"'
        )
        return response
    return render(
        request,
        "review/decisions.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "decisions": decisions[:200],
            "verdicts": Verdict.choices,
            "verdict": verdict,
            "moderator": moderator,
        },
    )
