"""Two-factor sign-in (django-otp): supervisors and admins (and anyone a tenant's policy
names) are held to enrolment after their password and reach nothing else until they pass a
code; enrolment shows the key, its otpauth URI and a QR code, then ten recovery codes once;
each recovery code works once; wrong codes slow the next try down; every step is audited
without the secret or the code; an admin sets the policy and resets a lost authenticator."""

from __future__ import annotations

import json
import re
from base64 import b32decode, b32encode
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.models import AuditAction, AuditEvent, Role, Tenant
from tests.factories import MembershipFactory
from tests.review_support import (
    PASSWORD,
    authenticator,
    password_accepted,
    signed_in,
    totp_code,
)

pytestmark = pytest.mark.django_db

CODE = r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>"  # a recovery code as shown


def password_only(username: str) -> Client:
    client = Client()
    assert password_accepted(client, username, PASSWORD)
    return client


def shown_key(page: str) -> bytes:
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert secret, "the key is on the enrolment page"
    return b32decode(secret.group(1).replace(" ", ""))


def code_for(key: bytes) -> str:
    return str(totp(key)).zfill(6)


def enrolled(username: str) -> tuple[Client, list[str]]:
    """Sign in with the password, enrol from the page, return the client and the codes."""
    client = password_only(username)
    key = shown_key(client.get("/two-factor/setup").content.decode())
    client.post("/two-factor/setup", {"code": code_for(key), "next": "/"})
    page = client.get("/two-factor/recovery-codes").content.decode()
    return client, re.findall(CODE, page)


def audit_text(tenant: Tenant) -> str:
    return json.dumps(list(AuditEvent.objects.filter(tenant=tenant).values("detail")))


@pytest.mark.parametrize("who", ["sam", "ada"])
def test_a_supervisor_or_admin_reaches_nothing_but_enrolment_after_the_password(
    who: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(who)
    client = password_only(who)

    for url in ("/", "/t/acme/queue", "/t/acme/decisions", "/t/acme/admin/members", "/password"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/two-factor/setup?next="), url
    assert client.post("/t/acme/next")["Location"] == "/two-factor/setup"
    swap = client.get("/t/acme/queue", HTTP_HX_REQUEST="true")
    assert swap.status_code == 204
    assert swap["HX-Redirect"].startswith("/two-factor/setup")
    assert client.get("/two-factor/setup").status_code == 200


def test_a_moderator_signs_in_with_the_password_alone(alice: Any) -> None:
    assert password_only("alice").get("/t/acme/queue").status_code == 200


def test_enrolment_shows_the_key_and_a_qr_code_then_recovery_codes_once(
    acme: Tenant, sam: Any
) -> None:
    client = password_only("sam")

    setup = client.get("/two-factor/setup?next=/t/acme/decisions")
    page = setup.content.decode()
    key = shown_key(page)
    device = TOTPDevice.objects.get(user=sam)
    assert key == device.bin_key
    assert "otpauth://totp/Artemis%3Asam?secret=" in page
    assert re.search(r'<svg [^>]*class="qr"><title>QR code', page)
    assert setup["Cache-Control"] == "no-store, private"
    assert shown_key(client.get("/two-factor/setup").content.decode()) == key, "same on reload"

    not_it = "000000" if code_for(key) != "000000" else "111111"
    wrong = client.post("/two-factor/setup", {"code": not_it})
    assert wrong.status_code == 400
    assert "that code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_timestamp = None  # the back-off has its own test
    device.save()

    confirmed = client.post(
        "/two-factor/setup", {"code": code_for(key), "next": "/t/acme/decisions"}
    )
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/two-factor/recovery-codes?next=%2Ft%2Facme%2Fdecisions"
    codes_page = client.get(confirmed["Location"])
    codes = re.findall(
        r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", codes_page.content.decode()
    )
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert codes_page["Cache-Control"] == "no-store, private"
    assert client.get("/two-factor/recovery-codes").status_code == 302, "shown once"
    assert client.get("/t/acme/decisions").status_code == 200, "in, with the second factor"
    assert client.get("/two-factor/setup").status_code == 302, "the key is never shown again"

    actions = list(
        AuditEvent.objects.filter(tenant=acme, actor=sam)
        .exclude(action__in=[AuditAction.LOGIN, AuditAction.REPORT_VIEW, AuditAction.EXPORT])
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.TWO_FACTOR_FAILED, AuditAction.TWO_FACTOR_ENROL]
    trail = audit_text(acme)
    assert device.key not in trail
    assert b32encode(key).decode() not in trail
    assert all(code.replace("-", "") not in trail for code in codes)


def test_after_enrolment_the_next_sign_in_asks_for_a_code(acme: Tenant, sam: Any) -> None:
    enrolled("sam")
    client = password_only("sam")
    assert client.get("/t/acme/queue")["Location"] == "/two-factor/verify?next=%2Ft%2Facme%2Fqueue"

    response = client.post(
        "/two-factor/verify", {"code": totp_code(authenticator(sam)), "next": "/t/acme/queue"}
    )

    assert response["Location"] == "/t/acme/queue"
    assert client.get("/t/acme/queue").status_code == 200
    verified = AuditEvent.objects.get(tenant=acme, action=AuditAction.TWO_FACTOR_VERIFY)
    assert verified.detail == {"method": "authenticator"}


def test_a_recovery_code_signs_in_once(acme: Tenant, sam: Any) -> None:
    _, codes = enrolled("sam")

    first = password_only("sam").post("/two-factor/verify", {"code": codes[3].upper(), "next": "/"})
    again = password_only("sam").post("/two-factor/verify", {"code": codes[3], "next": "/"})

    assert first.status_code == 302
    assert again.status_code == 400
    assert "that code is not right (or that recovery code was used)" in again.content.decode()
    assert StaticToken.objects.filter(device__user=sam).count() == 9
    used = AuditEvent.objects.get(tenant=acme, action=AuditAction.TWO_FACTOR_RECOVERY)
    assert used.detail == {"codes_left": 9}
    failed = AuditEvent.objects.filter(tenant=acme, action=AuditAction.TWO_FACTOR_FAILED).last()
    assert failed.detail == {"stage": "sign_in", "method": "recovery_code"}
    assert codes[3].replace("-", "") not in audit_text(acme)


def test_wrong_codes_slow_the_next_try_down(sam: Any, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first wrong code
    enrolled("sam")
    device = authenticator(sam)
    client = password_only("sam")
    right = totp_code(device)
    wrong = "123456" if right != "123456" else "654321"

    assert client.post("/two-factor/verify", {"code": wrong}).status_code == 400
    refused = client.post("/two-factor/verify", {"code": right})
    assert refused.status_code == 400
    assert re.search(r"too many wrong codes; wait \d+ seconds", refused.content.decode())

    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=61)  # a minute goes by
    device.save()
    assert client.post("/two-factor/verify", {"code": right})["Location"] == "/"


def test_a_member_who_set_up_an_authenticator_uses_it_even_as_a_moderator(alice: Any) -> None:
    authenticator(alice)

    assert password_only("alice").get("/t/acme/queue")["Location"].startswith("/two-factor/verify")


def test_the_verify_page_never_sends_anyone_off_site(sam: Any) -> None:
    enrolled("sam")
    client = password_only("sam")

    response = client.post(
        "/two-factor/verify",
        {"code": totp_code(authenticator(sam)), "next": "https://evil.example/steal"},
    )

    assert response["Location"] == "/"


def test_an_admin_requires_two_factor_of_everyone_and_it_is_audited(
    acme: Tenant, ada: Any, alice: Any, bob: Any
) -> None:
    assert signed_in(alice).post("/t/acme/admin/sign-in/two-factor").status_code == 403
    assert password_only("bob").get("/t/acme/queue").status_code == 200, "not asked before"

    response = signed_in(ada).post(
        "/t/acme/admin/sign-in/two-factor", {"require_two_factor": "on"}, follow=True
    )

    assert "Everyone now signs in with a second factor." in response.content.decode()
    acme.refresh_from_db()
    assert acme.require_two_factor
    event = AuditEvent.objects.get(tenant=acme, action=AuditAction.TWO_FACTOR_POLICY)
    assert event.actor == ada
    assert event.detail == {"from": "supervisors and admins", "to": "everyone"}
    assert password_only("bob").get("/t/acme/queue")["Location"].startswith("/two-factor/setup")


def test_an_admin_resets_a_lost_authenticator_but_not_their_own(
    acme: Tenant, ada: Any, sam: Any
) -> None:
    enrolled("sam")
    admin = signed_in(ada)
    sams = sam.memberships.get(tenant=acme)
    adas = ada.memberships.get(tenant=acme)

    own = admin.post(f"/t/acme/admin/sign-in/{adas.pk}/reset-two-factor", follow=True)
    reset = admin.post(f"/t/acme/admin/sign-in/{sams.pk}/reset-two-factor", follow=True)

    assert "you cannot reset your own second factor" in own.content.decode()
    assert "set up a new authenticator at their next sign-in" in reset.content.decode()
    assert not TOTPDevice.objects.filter(user=sam).exists()
    assert not StaticToken.objects.filter(device__user=sam).exists()
    assert password_only("sam").get("/t/acme/queue")["Location"].startswith("/two-factor/setup")
    event = AuditEvent.objects.get(tenant=acme, action=AuditAction.TWO_FACTOR_RESET)
    assert (event.actor, event.target_id) == (ada, str(sam.pk))


def test_an_admin_cannot_reset_the_second_factor_of_an_account_another_tenant_shares(
    acme: Tenant, globex: Tenant, ada: Any
) -> None:
    # gus is Globex's admin and also moderates for Acme: his authenticator guards Globex.
    gus = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user
    his = MembershipFactory(tenant=acme, role=Role.MODERATOR, user=gus)
    enrolled("gus")

    page = signed_in(ada).post(f"/t/acme/admin/sign-in/{his.pk}/reset-two-factor", follow=True)

    assert "gus also belongs to another tenant" in page.content.decode()
    assert TOTPDevice.objects.filter(user=gus).exists()
    assert StaticToken.objects.filter(device__user=gus).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR_RESET).exists()


def test_the_sign_in_page_lists_each_members_second_factor(
    acme: Tenant, ada: Any, sam: Any, alice: Any
) -> None:
    enrolled("sam")

    page = signed_in(ada).get("/t/acme/admin/sign-in").content.decode()

    rows = {
        name: re.search(rf"<td>{name}( \(you\))?</td>.*?</tr>", page, re.S).group(0)
        for name in ("ada", "alice", "sam")
    }
    assert "set up" in rows["sam"]
    assert "not used" in rows["alice"]
    assert "set up" in rows["ada"], "the helper signs ada in past her authenticator"


def test_django_staff_are_held_to_a_second_factor_too(db: None) -> None:
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = password_only("root")

    assert client.get("/django-admin/")["Location"].startswith("/two-factor/setup")


def test_a_member_of_a_tenant_that_requires_it_needs_it_in_every_tenant(
    acme: Tenant, globex: Tenant
) -> None:
    globex.require_two_factor = True
    globex.save()
    gina = MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gina").user
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user=gina)

    assert password_only("gina").get("/t/acme/queue")["Location"].startswith("/two-factor/setup")
