"""Membership by consent: an admin creates a brand-new account (named after the tenant) or
invites a username or e-mail address, and the invited person accepts or declines while signed
in. The admin's answer is the same whether or not the name exists in another tenant; every
step is audited; usernames are letters, digits and @ . + - _ only.

Ada is Acme's admin; Gus works for Globex, another tenant.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review.models import (
    AuditAction,
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    ReviewError,
    Role,
    Tenant,
)
from review.tenancy.services import invitation_send
from review.tenancy.validators import validate_invitee, validate_username
from tests.factories import MembershipFactory
from tests.review_support import password_accepted, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def gus(globex: Tenant) -> Any:
    """Gus, a moderator at Globex, unknown to Acme."""
    return MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gus").user


def _events(tenant: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.action, e.actor_label, e.detail)
        for e in AuditEvent.objects.filter(tenant=tenant)
        .exclude(action__in=[AuditAction.LOGIN, AuditAction.LOGOUT, AuditAction.REPORT_VIEW])
        .order_by("sequence")
    ]


def _invite(client: Client, invitee: str, role: str = "moderator") -> Any:
    return client.post("/t/acme/admin/invitations", {"invitee": invitee, "role": role})


# --- creating an account -----------------------------------------------------------------------


def test_an_admin_creates_an_account_named_after_the_tenant_with_a_password_shown_once(
    acme: Tenant, ada: Any
) -> None:
    client = signed_in(ada)

    created = client.post("/t/acme/admin/members", {"name": "carol", "role": "supervisor"})

    # The answer to the POST itself shows the password (and the page), never to be cached.
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store, private"
    html = created.content.decode()
    password = html.split('<code id="once-secret">')[1].split("</code>")[0]
    assert "carol@acme is now a supervisor." in html
    assert "<h2>Members and roles</h2>" in html
    assert 'id="create-form"' in html
    assert password not in client.get("/t/acme/admin/members").content.decode()
    assert password_accepted(Client(), "carol@acme", password)
    carol = User.objects.get(username="carol@acme")
    assert Membership.objects.get(tenant=acme, user=carol).role == Role.SUPERVISOR
    assert password not in carol.password, "only the hash is stored"
    assert _events(acme) == [
        (
            AuditAction.MEMBER_ADD,
            "ada",
            {"username": "carol@acme", "role": "supervisor", "created": True},
        )
    ]


def test_creating_an_account_never_takes_over_or_reveals_another_tenants_account(
    acme: Tenant, ada: Any, gus: Any
) -> None:
    client = signed_in(ada)

    # The old form's fields ("username", "create") add nobody.
    old_style = client.post("/t/acme/admin/members", {"username": "gus", "role": "admin"})
    for_gus = client.post("/t/acme/admin/members", {"name": "gus", "role": "admin"})
    for_nobody = client.post("/t/acme/admin/members", {"name": "nobody", "role": "admin"})

    assert old_style.status_code == 400
    assert not Membership.objects.filter(tenant=acme, user=gus).exists()
    assert (for_gus.status_code, for_nobody.status_code) == (201, 201)
    assert set(Membership.objects.filter(tenant=acme).values_list("user__username", flat=True)) == {
        "ada",
        "gus@acme",
        "nobody@acme",
    }
    gus.refresh_from_db()
    assert gus.check_password("correct horse battery staple"), "Gus's account is untouched"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("<b>carol</b>", "letters, digits"),
        ("carol smith", "letters, digits"),
        ("<script>alert(1)</script>", "letters, digits"),
        ("carol@globex", "leave out the '@'"),
        ("", "required"),
        # As many plain letters as the field takes: too long once the tenant is added.
        ("a" * 150, "(this one has 150)"),
    ],
)
def test_a_new_account_name_outside_the_username_rule_is_refused_naming_the_field(
    acme: Tenant, ada: Any, name: str, says: str
) -> None:
    response = signed_in(ada).post("/t/acme/admin/members", {"name": name, "role": "moderator"})

    assert response.status_code == 400
    errors = response.context["create_form"].errors
    assert says in " ".join(errors["name"]), errors
    assert User.objects.count() == 1  # ada


def test_a_taken_name_in_the_tenants_own_namespace_is_refused(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    client.post("/t/acme/admin/members", {"name": "carol", "role": "moderator"})

    again = client.post("/t/acme/admin/members", {"name": "carol", "role": "moderator"})

    assert again.status_code == 400
    assert "already exists" in " ".join(again.context["create_form"].errors["name"])


def test_sending_the_create_account_form_again_makes_no_second_account(
    acme: Tenant, ada: Any
) -> None:
    # What a browser's reload of the page with the password does: the same POST again.
    client = signed_in(ada)
    first = client.post("/t/acme/admin/members", {"name": "carol", "role": "moderator"})

    again = client.post("/t/acme/admin/members", {"name": "carol", "role": "moderator"})

    assert first.status_code == 201
    assert again.status_code == 400
    assert 'id="once-secret"' not in again.content.decode()
    assert User.objects.filter(username="carol@acme").count() == 1


# --- inviting --------------------------------------------------------------------------------


def test_an_invitation_answers_the_same_whether_or_not_the_name_exists_elsewhere(
    acme: Tenant, ada: Any, gus: Any
) -> None:
    client = signed_in(ada)

    answers = {}
    for name in ("gus", "zed"):  # Gus exists at Globex; nobody is called zed
        with CaptureQueriesContext(connection) as queries:
            response = _invite(client, name)
        page = client.get(response["Location"])
        [message] = [str(m) for m in page.context["messages"]]
        answers[name] = (
            response.status_code,
            response["Location"],
            message.replace(name, "NAME"),
            [_shape(q["sql"]) for q in queries.captured_queries],
        )

    assert answers["gus"] == answers["zed"]
    assert answers["gus"][0] == 302
    assert "Invitation sent to NAME as moderator" in answers["gus"][2]
    assert not Membership.objects.filter(tenant=acme, user=gus).exists(), "not without consent"


def _shape(sql: str) -> str:
    """A statement without its values: the same shape means the same work was done."""
    return re.sub(r"\b\d+(\.\d+)?\b", "?", re.sub(r"'(?:[^']|'')*'", "?", sql))


def test_the_invited_person_accepts_while_signed_in_and_joins_with_the_role(
    acme: Tenant, ada: Any, gus: Any
) -> None:
    _invite(signed_in(ada), "gus", role="supervisor")
    invitation = Invitation.objects.get(tenant=acme)
    client = signed_in(gus)

    home = client.get("/")
    listed = client.get("/invitations")
    accepted = client.post(f"/invitations/{invitation.pk}/accept")

    assert home.status_code == 200, "a member of one tenant with invitations waiting stays"
    assert "1 invitation waiting for you" in home.content.decode()
    assert "Acme Chat" in listed.content.decode()
    assert listed["Cache-Control"] == "no-store, private"
    assert accepted.status_code == 302
    assert accepted["Location"] == "/t/acme/queue"
    assert Membership.objects.get(tenant=acme, user=gus).role == Role.SUPERVISOR
    invitation.refresh_from_db()
    assert (invitation.status, invitation.user) == (InvitationStatus.ACCEPTED, gus)
    assert _events(acme) == [
        (
            AuditAction.INVITATION_SEND,
            "ada",
            {"invitee": "gus", "role": "supervisor"},
        ),
        (AuditAction.INVITATION_ACCEPT, "gus", {"user": gus.pk, "role": "supervisor"}),
    ]
    assert client.get("/t/acme/queue").status_code == 200


def test_the_invited_person_may_decline(acme: Tenant, ada: Any, gus: Any) -> None:
    _invite(signed_in(ada), "gus")
    invitation = Invitation.objects.get(tenant=acme)
    client = signed_in(gus)

    declined = client.post(f"/invitations/{invitation.pk}/decline")

    assert declined.status_code == 302
    assert not Membership.objects.filter(tenant=acme, user=gus).exists()
    assert "No invitations are waiting for you" in client.get("/invitations").content.decode()
    assert client.post(f"/invitations/{invitation.pk}/accept").status_code == 404
    assert _events(acme)[-1] == (
        AuditAction.INVITATION_DECLINE,
        "gus",
        {"user": gus.pk, "role": "moderator"},
    )


def test_nobody_but_the_invitee_sees_or_answers_an_invitation(
    acme: Tenant, ada: Any, gus: Any, globex: Tenant
) -> None:
    _invite(signed_in(ada), "gus", role="admin")
    invitation = Invitation.objects.get(tenant=acme)
    mallory = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="mallory").user
    client = signed_in(mallory)

    assert "No invitations are waiting for you" in client.get("/invitations").content.decode()
    assert client.post(f"/invitations/{invitation.pk}/accept").status_code == 404
    assert client.post(f"/invitations/{invitation.pk}/decline").status_code == 404
    assert Client().post(f"/invitations/{invitation.pk}/accept").status_code == 302  # sign in
    assert not Membership.objects.filter(tenant=acme, user=mallory).exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_an_invitation_to_an_email_address_reaches_the_account_with_that_address(
    acme: Tenant, ada: Any, gus: Any
) -> None:
    gus.email = "gus@globex.example"
    gus.save()
    _invite(signed_in(ada), "Gus@Globex.example")
    invitation = Invitation.objects.get(tenant=acme)

    signed_in(gus).post(f"/invitations/{invitation.pk}/accept")

    assert Membership.objects.filter(tenant=acme, user=gus).exists()


def test_an_expired_invitation_cannot_be_accepted_and_the_name_can_be_invited_again(
    acme: Tenant, ada: Any, gus: Any
) -> None:
    _invite(signed_in(ada), "gus")
    old = Invitation.objects.get(tenant=acme)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = signed_in(gus)

    assert "No invitations are waiting for you" in client.get("/invitations").content.decode()
    assert client.post(f"/invitations/{old.pk}/accept").status_code == 404
    again = _invite(signed_in(ada), "gus")

    assert again.status_code == 302
    old.refresh_from_db()
    assert old.status == InvitationStatus.EXPIRED
    new = Invitation.objects.get(tenant=acme, status=InvitationStatus.PENDING)
    assert new.expires_at > timezone.now() + timedelta(days=6)
    assert client.post(f"/invitations/{new.pk}/accept").status_code == 302


def test_an_admin_revokes_a_pending_invitation_audited(
    acme: Tenant, ada: Any, gus: Any, globex: Tenant
) -> None:
    client = signed_in(ada)
    _invite(client, "gus")
    invitation = Invitation.objects.get(tenant=acme)
    gary = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gary").user

    # Another tenant's admin gets 404 for Acme's page, and cannot reach it through Globex's.
    assert (
        signed_in(gary).post(f"/t/acme/admin/invitations/{invitation.pk}/revoke").status_code == 404
    )
    theirs = signed_in(gary).post(f"/t/globex/admin/invitations/{invitation.pk}/revoke")
    assert theirs.status_code == 404  # as if it did not exist, like every admin action
    client.post(f"/t/acme/admin/invitations/{invitation.pk}/revoke")

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    assert signed_in(gus).post(f"/invitations/{invitation.pk}/accept").status_code == 404
    assert _events(acme)[-1] == (
        AuditAction.INVITATION_REVOKE,
        "ada",
        {"invitee": "gus", "role": "moderator"},
    )


@pytest.mark.parametrize(
    ("invitee", "says"),
    [
        ("<img src=x onerror=alert(1)>", "username or an e-mail address"),
        ("gus smith", "username or an e-mail address"),
        ("ada", "already a member"),
    ],
)
def test_a_bad_or_redundant_invitation_is_refused_naming_the_field(
    acme: Tenant, ada: Any, invitee: str, says: str
) -> None:
    response = _invite(signed_in(ada), invitee)

    assert response.status_code == 400
    assert says in " ".join(response.context["invite_form"].errors["invitee"])
    assert not Invitation.objects.exists()


def test_a_second_pending_invitation_for_the_same_name_is_refused(acme: Tenant, ada: Any) -> None:
    invitation_send(tenant=acme, actor=ada, invitee="gus", role="moderator")

    with pytest.raises(ReviewError, match="already has a pending invitation"):
        invitation_send(tenant=acme, actor=ada, invitee="gus", role="admin")


def test_accepting_an_invitation_to_a_tenant_one_belongs_to_changes_nothing(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    invitation = Invitation.objects.create(
        tenant=acme,
        invitee="alice",
        role=Role.ADMIN,
        invited_by=ada,
        expires_at=timezone.now() + timedelta(days=1),
    )

    response = signed_in(alice).post(f"/invitations/{invitation.pk}/accept", follow=True)

    assert "already a member" in response.content.decode()
    assert Membership.objects.get(tenant=acme, user=alice).role == Role.MODERATOR


# --- the username rule -------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["ada", "jo.smith", "jo+test@acme", "J_O-1", "a" * 150])
def test_a_username_of_letters_digits_and_at_dot_plus_minus_underscore_is_valid(
    good: str,
) -> None:
    validate_username(good)


@pytest.mark.parametrize(
    "bad", ["", "a b", "<b>", "ada\n", "jösé", "\u0430da", "a" * 151, "a'b", 'a"b', "a/b"]
)  # a Cyrillic a, then "da"
def test_anything_else_is_not_a_username(bad: str) -> None:
    with pytest.raises(ValidationError, match="use only letters, digits"):
        validate_username(bad)


def test_an_invitee_is_a_username_or_an_email_address() -> None:
    validate_invitee("gus")
    validate_invitee("o'brien@example.org")
    with pytest.raises(ValidationError, match="username or an e-mail address"):
        validate_invitee("<b>gus</b>")


def test_a_user_made_by_the_tenants_service_follows_the_username_rule(db: None) -> None:
    from review.tenancy.services import user_create

    with pytest.raises(ValidationError):
        user_create(username="<script>", password="x")
    assert not User.objects.exists()
