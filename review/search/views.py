"""The search page (the box in every tenant page's header) and the participant page.

Searching by id or name is a GET (``?q=``), so a result can be linked. Searching message
text is a POST, for supervisors and admins: the words a supervisor looks for are often the
words of the abuse, and a POST keeps them out of the address, the browser's history and the
server's access log. Either search is audited with the query's SHA-256, never its text.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from review.audit.services import audit_record
from review.models import AuditAction
from review.search import selectors
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability, member_can

MAX_QUERY = 200


def query_hash(query: str) -> str:
    """What the audit trail keeps of a query: its SHA-256, hex."""
    return hashlib.sha256(query.encode()).hexdigest()


@tenant_page(Capability.FIND, post=Capability.SEARCH_TEXT)
@require_http_methods(["GET", "POST"])
def search(request: ArtemisRequest) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    text = request.POST.get("text", "").strip()[:MAX_QUERY] if request.method == "POST" else ""
    conversations, participants, hits = [], [], []
    if text:
        kind, searched = "text", text
        hits = selectors.message_text_search(tenant=tenant, membership=membership, query=text)
    else:
        kind, searched = "id_or_name", query
        conversations = selectors.conversation_search(
            tenant=tenant, membership=membership, query=query
        )
        participants = selectors.participant_search(
            tenant=tenant, membership=membership, query=query
        )
    if searched:
        audit_record(
            tenant=tenant,
            actor=request.user,
            action=AuditAction.SEARCH,
            target_type="search",
            detail={
                "kind": kind,
                "query_sha256": query_hash(searched),
                "conversations": len(conversations) + len(hits),
                "participants": len(participants),
            },
            ip=client_ip(request),
        )
    return render(
        request,
        "review/search/search.html",
        {
            "tenant": tenant,
            "membership": membership,
            "query": query,
            "text": text,
            "searched": bool(searched),
            "conversations": conversations,
            "participants": participants,
            "hits": hits,
            "limit": selectors.LIMIT,
        },
    )


@tenant_page(Capability.FIND)
@require_GET
def participant(request: ArtemisRequest, participant_id: int) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    found = found_or_404(
        lambda: selectors.participant_get_visible(
            tenant=tenant, membership=membership, pk=participant_id
        ),
        "participant",
    )
    page = selectors.participant_page(tenant=tenant, membership=membership, participant=found)
    audit_record(
        tenant=tenant,
        actor=request.user,
        action=AuditAction.PARTICIPANT_VIEW,
        target_type="participant",
        target_id=str(found.pk),
        detail={
            "conversations": len(page.conversations),
            "decisions": len(page.decisions),
            "cases": len(page.cases),
        },
        ip=client_ip(request),
    )
    return render(
        request,
        "review/search/participant.html",
        {
            "tenant": tenant,
            "membership": membership,
            "page": page,
            "participant": found,
            "sees_all": member_can(membership, Capability.READ_ALL_PARTICIPANTS),
        },
    )
