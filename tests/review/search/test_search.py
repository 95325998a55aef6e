"""Finding and opening anything: the search box, message-text search and the participant
page. Alice and bob are moderators, sam the supervisor; Globex is another tenant whose rows
are never found from Acme."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from review.models import AuditEvent, Membership, Participant, Tenant
from review.search import selectors
from tests.review.supervision_support import decide
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def _membership(user: Any, tenant: Tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


def test_the_selectors_never_find_another_tenants_conversation_or_participant(
    acme: Tenant, globex: Tenant, sam: Any
) -> None:
    flagged_item(globex, 7)  # Globex's c-7, kid-7, adult-7
    flagged_item(acme, 8)
    membership = _membership(sam, acme)

    assert selectors.conversation_search(tenant=acme, membership=membership, query="c-7") == []
    assert selectors.participant_search(tenant=acme, membership=membership, query="adult-7") == []
    hits = selectors.message_text_search(tenant=acme, membership=membership, query="school")
    assert {h.conversation.external_id for h in hits} == {"c-8"}
    globex_adult = Participant.objects.get(tenant=globex, external_id="adult-7")
    with pytest.raises(Participant.DoesNotExist):
        selectors.participant_get_visible(tenant=acme, membership=membership, pk=globex_adult.pk)


def test_a_moderator_finds_a_conversation_by_id_and_a_participant_by_screen_name(
    acme: Tenant, alice: Any
) -> None:
    decision = decide(acme, alice)
    adult = decision.conversation.participants.get(external_id__startswith="adult-")
    Participant.objects.filter(pk=adult.pk).update(screen_name="NightOwl77")
    client = signed_in(alice)

    by_id = client.get("/t/acme/search", {"q": decision.conversation.external_id})
    by_name = client.get("/t/acme/search", {"q": "nightowl"}).content.decode()

    assert by_id.status_code == 200
    assert f"/t/acme/items/{decision.queue_item_id}" in by_id.content.decode()
    assert f"/t/acme/participants/{adult.pk}" in by_name


def test_a_moderator_cannot_search_message_text(acme: Tenant, alice: Any) -> None:
    flagged_item(acme)

    response = signed_in(alice).post("/t/acme/search", {"text": "school"})

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(tenant=acme, action="search").exists()


def test_a_text_search_is_audited_by_its_hash_never_its_words(acme: Tenant, sam: Any) -> None:
    flagged_item(acme, 3)

    page = signed_in(sam).post("/t/acme/search", {"text": "school"}).content.decode()

    assert "c-3" in page
    event = AuditEvent.objects.get(tenant=acme, action="search", actor=sam)
    assert event.detail["kind"] == "text"
    assert event.detail["query_sha256"] == hashlib.sha256(b"school").hexdigest()
    assert "school" not in str(event.detail)
    assert "school" not in event.target_id


def test_a_moderator_opens_the_participant_of_a_conversation_she_worked_on_but_not_others(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(acme, alice, "escalate_ncmec")
    adult = decision.conversation.participants.get(external_id__startswith="adult-")

    hers = signed_in(alice).get(f"/t/acme/participants/{adult.pk}")
    his = signed_in(bob).get(f"/t/acme/participants/{adult.pk}")
    his_search = signed_in(bob).get("/t/acme/search", {"q": adult.external_id}).content.decode()

    assert hers.status_code == 200
    assert decision.case.reference in hers.content.decode()
    assert his.status_code == 404
    assert f"/t/acme/participants/{adult.pk}" not in his_search


def test_a_supervisor_opens_any_participant_page_and_the_opening_is_audited(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    first = decide(acme, alice, "ban")
    adult = first.conversation.participants.get(external_id__startswith="adult-")
    Participant.objects.filter(pk=adult.pk).update(email="jay@example.test")

    page = signed_in(sam).get(f"/t/acme/participants/{adult.pk}").content.decode()

    assert "jay@example.test" in page
    assert f"/t/acme/supervision/conversations/{first.conversation_id}" in page
    assert "Ban" in page
    event = AuditEvent.objects.get(tenant=acme, action="participant_view")
    assert (event.actor, event.target_id) == (sam, str(adult.pk))


def test_the_search_box_is_on_every_console_page_for_those_who_may_find(
    acme: Tenant, alice: Any, audrey: Any
) -> None:
    assert 'id="header-search"' in signed_in(alice).get("/t/acme/queue").content.decode()
    assert 'id="header-search"' not in signed_in(audrey).get("/t/acme/decisions").content.decode()


@pytest.mark.postgres
def test_on_postgresql_the_text_search_runs_on_the_gin_index(acme: Tenant) -> None:
    from django.contrib.postgres.search import SearchQuery, SearchVector
    from django.db import connection

    from review.models import Message

    flagged_item(acme, 5)
    config = selectors.TEXT_CONFIG
    # The search's own expression, without the tenant's join (on a tiny table the planner
    # prefers that join): the index is used only if its expression is the same.
    alone = Message.objects.annotate(document=SearchVector("text", config=config)).filter(
        document=SearchQuery("pic", config=config, search_type="websearch")
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'message_text_search'")
        (definition,) = cursor.fetchone()
        cursor.execute("SET enable_seqscan = off")
        plan = alone.explain()
        cursor.execute("RESET enable_seqscan")

    assert "USING gin" in definition
    assert "message_text_search" in plan
    matches = selectors.message_text_matches(tenant=acme, query="pic")
    assert [m.external_id for m in matches] == ["m2"]
