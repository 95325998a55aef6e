"""Removing a member and revoking an API key cannot be undone (a revoked key stops a
platform's ingestion at once), so each asks first on a page of its own that names who or
what, working without JavaScript; the message after it names them too. A refusal reads as a
sentence, never prefixed by the service's field name."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from review.models import ApiKey, Membership, Role, Tenant
from review.tenancy.services import api_key_create
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def _notices(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post_forms(page: str) -> list[str]:
    """The action of every POST form on ``page``."""
    return re.findall(r'<form method="post" action="([^"]+)"', page)


def test_the_members_page_has_no_one_click_remove(acme: Tenant, ada: Any, alice: Any) -> None:
    membership = Membership.objects.get(tenant=acme, user=alice)
    page = signed_in(ada).get("/t/acme/admin/members").content.decode()

    remove = f"/t/acme/admin/members/{membership.pk}/remove"
    assert remove in page, "a way to remove alice is offered"
    assert remove not in _post_forms(page), "but not one press that removes her"


def test_removing_a_member_asks_first_naming_them_and_says_who_was_removed(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    membership = Membership.objects.get(tenant=acme, user=alice)
    url = f"/t/acme/admin/members/{membership.pk}/remove"
    client = signed_in(ada)

    asked = client.get(url)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Remove alice from Acme Chat?" in page
    assert url in _post_forms(page)
    assert 'name="confirm"' in page
    assert 'href="/t/acme/admin/members"' in page, "a way back without removing"
    assert Membership.objects.filter(pk=membership.pk).exists()

    removed = client.post(url, {"confirm": "yes"}, follow=True)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert _notices(removed) == ["alice was removed from Acme Chat."]


def test_a_remove_sent_without_its_confirmation_only_asks(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    # An old page's one-press form, or a forged one: it asks, it does not remove.
    membership = Membership.objects.get(tenant=acme, user=alice)
    response = signed_in(ada).post(f"/t/acme/admin/members/{membership.pk}/remove")

    assert response.status_code == 200
    assert "Remove alice from Acme Chat?" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_keys_page_has_no_one_click_revoke(acme: Tenant, ada: Any) -> None:
    key, _ = api_key_create(tenant=acme, name="chat-prod")
    page = signed_in(ada).get("/t/acme/admin/keys").content.decode()

    revoke = f"/t/acme/admin/keys/{key.pk}/revoke"
    assert revoke in page
    assert revoke not in _post_forms(page)


def test_revoking_a_key_asks_first_naming_it_and_says_which_was_revoked(
    acme: Tenant, ada: Any
) -> None:
    key, raw = api_key_create(tenant=acme, name="chat-prod")
    url = f"/t/acme/admin/keys/{key.pk}/revoke"
    client = signed_in(ada)

    asked = client.get(url)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert f"Revoke the key chat-prod ({key.prefix}…)?" in page
    assert "stop" in page, "it says the platform's requests with it stop"
    assert url in _post_forms(page)
    assert 'href="/t/acme/admin/keys"' in page
    assert raw not in page
    key.refresh_from_db()
    assert key.revoked_at is None

    unconfirmed = client.post(url)
    assert unconfirmed.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is None

    revoked = client.post(url, {"confirm": "yes"}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _notices(revoked) == [f"The key chat-prod ({key.prefix}…) was revoked."]


def test_an_already_revoked_key_is_not_offered_for_revoking_again(acme: Tenant, ada: Any) -> None:
    key, _ = api_key_create(tenant=acme, name="chat-prod")
    client = signed_in(ada)
    client.post(f"/t/acme/admin/keys/{key.pk}/revoke", {"confirm": "yes"}, follow=True)

    again = client.get(f"/t/acme/admin/keys/{key.pk}/revoke", follow=True)

    assert again.redirect_chain[-1][0] == "/t/acme/admin/keys"
    assert _notices(again) == [f"The key chat-prod ({key.prefix}…) is already revoked."]


def test_the_confirmation_pages_refuse_another_tenants_member_and_key(
    acme: Tenant, globex: Tenant, ada: Any
) -> None:
    from tests.factories import MembershipFactory

    gil = MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gil")
    theirs, _ = api_key_create(tenant=globex, name="globex-prod")
    client = signed_in(ada)

    assert client.get(f"/t/acme/admin/members/{gil.pk}/remove").status_code == 404
    assert client.get(f"/t/acme/admin/keys/{theirs.pk}/revoke").status_code == 404
    assert Membership.objects.filter(pk=gil.pk).exists()
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None


def test_an_admin_is_not_asked_to_remove_themself(acme: Tenant, ada: Any) -> None:
    mine = Membership.objects.get(tenant=acme, user=ada)
    client = signed_in(ada)

    asked = client.get(f"/t/acme/admin/members/{mine.pk}/remove", follow=True)
    sent = client.post(f"/t/acme/admin/members/{mine.pk}/remove", {"confirm": "yes"}, follow=True)

    for response in (asked, sent):
        assert _notices(response) == ["You cannot remove yourself; ask another admin."]
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_refusing_to_demote_oneself_reads_as_a_sentence_without_a_field_name(
    acme: Tenant, ada: Any
) -> None:
    mine = Membership.objects.get(tenant=acme, user=ada)
    client: Client = signed_in(ada)

    response = client.post(
        f"/t/acme/admin/members/{mine.pk}/role", {"role": "moderator"}, follow=True
    )

    assert _notices(response) == ["You cannot take away your own admin role; ask another admin."]
    assert "role:" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN
