"""Every supervisor's, admin's and auditor's page view is in the audit trail, exactly once.

The pages are the attack suite's own: each URL of ``RULES`` that a supervisor or an admin
reads (a GET of a supervisor or admin rule), and each of those the auditor reads, is opened
by that member in the two-tenant world of ``test_url_rules``, and the trail is checked. A new
supervisor or admin page is checked as soon as it has its rule.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.http import HttpResponse
from django.utils.html import strip_tags

from review.models import AuditAction, AuditEvent, Message, Role, Tenant
from review.tenancy.capabilities import AUDITED_PAGES, BY_ROLE, Capability
from tests.security import test_url_rules
from tests.security.test_url_rules import RULED, RULES, Access, Endpoint, Worlds, client_as, url_for

pytestmark = pytest.mark.django_db

# The attack suite's two tenants (built once for this module too).
worlds = test_url_rules.worlds

READERS = {Access.SUPERVISOR: Role.SUPERVISOR, Access.ADMIN: Role.ADMIN}
# Pages that show nothing to a plain GET in this world, and so record no view.
SHOW_NOTHING = {
    # The world's case is not yet one that may be packaged: 409, nothing downloaded.
    "cases:case_package": 409,
    # The training panel alone is for htmx; a plain GET is sent to the Models page.
    "policy:model_train_status": 302,
    # The admin's landing address sends her to Members, whose view is the one recorded.
    "tenancy:admin_home": 302,
}


def _views() -> list[Any]:
    """(endpoint, role) for every page a supervisor, admin or auditor opens."""
    views = []
    for endpoint in RULED:
        rule = RULES[endpoint.key]
        if "GET" not in rule.methods or rule.access not in READERS:
            continue
        views.append(pytest.param(endpoint, READERS[rule.access], id=endpoint.key))
        if rule.auditor_reads:
            views.append(pytest.param(endpoint, Role.AUDITOR, id=f"{endpoint.key}-auditor"))
    return views


def _last(tenant: Tenant) -> int:
    event = AuditEvent.objects.filter(tenant=tenant).order_by("-sequence").first()
    return event.sequence if event else 0


def _read(response: HttpResponse) -> None:
    # A CSV export streams: its rows (and anything it records) come as it is read.
    if response.streaming:
        b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("endpoint", "role"), _views())
def test_every_supervisor_admin_and_auditor_page_view_writes_one_audit_event(
    endpoint: Endpoint, role: Role, worlds: Worlds
) -> None:
    acme = worlds.acme
    reader = acme.user_for(role)
    client = client_as(reader)
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    since = _last(acme.tenant)
    response = client.get(url)
    _read(response)
    what = f"{reader.username}, GET {url}"
    theirs = list(AuditEvent.objects.filter(tenant=acme.tenant, sequence__gt=since, actor=reader))
    actions = [f"{e.action} {e.target_type} {e.target_id}" for e in theirs]
    if endpoint.key in SHOW_NOTHING:
        assert response.status_code == SHOW_NOTHING[endpoint.key], what
        assert not theirs, f"{what}: showed nothing, yet recorded {actions}"
        return
    assert 200 <= response.status_code < 300, f"{what}: {response.status_code}"
    assert len(theirs) == 1, f"{what}: {actions or 'no audit event'}"


def test_a_page_the_guard_records_names_the_page_and_its_filters_but_not_their_values(
    worlds: Worlds,
) -> None:
    acme = worlds.acme
    sam = acme.user_for(Role.SUPERVISOR)
    client = client_as(sam)
    since = _last(acme.tenant)
    response = client.get(f"/t/{acme.tenant.slug}/cases/inbox?status=secret-words")
    assert response.status_code == 200
    event = AuditEvent.objects.get(tenant=acme.tenant, sequence__gt=since, actor=sam)
    assert (event.action, event.target_type, event.target_id) == (
        AuditAction.REPORT_VIEW,
        "page",
        "cases:case_inbox",
    )
    assert event.detail == {"path": f"/t/{acme.tenant.slug}/cases/inbox", "filters": ["status"]}


def test_an_htmx_refresh_of_part_of_a_page_is_not_another_page_view(worlds: Worlds) -> None:
    acme = worlds.acme
    ada = acme.user_for(Role.ADMIN)
    client = client_as(ada)
    since = _last(acme.tenant)
    response = client.get(
        f"/t/{acme.tenant.slug}/admin/models/train/status?poll=1", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(tenant=acme.tenant, sequence__gt=since).exists()


# Views that answer htmx with a part of a page already recorded (``tenant_page(htmx_part=
# True)``): the training panel's poll and the threshold what-if.
HTMX_PARTS = {"policy:model_train_status", "policy:admin_tuning"}


@pytest.mark.parametrize(("endpoint", "role"), _views())
def test_an_htmx_header_does_not_take_a_page_view_out_of_the_trail(
    endpoint: Endpoint, role: Role, worlds: Worlds
) -> None:
    """The header is the client's to set: only a view that answers htmx with a part of a
    page already recorded may leave the request out."""
    if endpoint.key in SHOW_NOTHING or endpoint.key in HTMX_PARTS:
        return
    acme = worlds.acme
    reader = acme.user_for(role)
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    since = _last(acme.tenant)
    response = client_as(reader).get(url, headers={"HX-Request": "true"})
    _read(response)
    what = f"{reader.username}, GET {url} with HX-Request"
    assert 200 <= response.status_code < 300, f"{what}: {response.status_code}"
    recorded = AuditEvent.objects.filter(tenant=acme.tenant, sequence__gt=since, actor=reader)
    assert recorded.exists(), f"{what}: shown, not recorded"


def test_a_moderators_own_pages_are_not_page_view_events(worlds: Worlds) -> None:
    acme = worlds.acme
    sam = acme.user_for(Role.SUPERVISOR)
    client = client_as(sam)
    since = _last(acme.tenant)
    assert client.get(f"/t/{acme.tenant.slug}/queue").status_code == 200
    assert not AuditEvent.objects.filter(tenant=acme.tenant, sequence__gt=since).exists()


def test_every_capability_a_moderator_lacks_is_audited_when_its_page_is_viewed() -> None:
    moderator = BY_ROLE[Role.MODERATOR].capabilities
    assert set(Capability) - moderator == set(AUDITED_PAGES)


def _texts(tenant: Tenant) -> list[str]:
    """The world's message texts (long enough not to match by chance)."""
    texts = Message.objects.filter(conversation__tenant=tenant).values_list("text", flat=True)
    return sorted({t for t in texts if len(t) >= 12})


def _refusable_posts() -> list[Any]:
    return [
        pytest.param(endpoint, id=endpoint.key)
        for endpoint in RULED
        if "POST" in RULES[endpoint.key].methods
        and RULES[endpoint.key].need("POST") in test_url_rules.TENANT_ROLES
    ]


@pytest.mark.parametrize("endpoint", _refusable_posts())
def test_a_refused_form_that_draws_messages_again_records_that_they_were_seen(
    endpoint: Endpoint, worlds: Worlds
) -> None:
    """A form posted empty is refused, and a refusal that draws the page again with the
    transcript or a case's evidence on it is a showing like the GET's: in the trail."""
    acme = worlds.acme
    rule = RULES[endpoint.key]
    member = test_url_rules.actor(rule, "POST", acme, worlds)
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    since = _last(acme.tenant)
    response = client_as(member).post(url, {})
    _read(response)
    # As a reader sees it: a highlighted message is printed in marked pieces.
    page = "" if response.streaming else html.unescape(strip_tags(response.content.decode()))
    shown = [t for t in _texts(acme.tenant) if t in page]
    if not shown:
        return
    seen = AuditEvent.objects.filter(
        tenant=acme.tenant,
        sequence__gt=since,
        actor=member,
        action__in=(AuditAction.VIEW, AuditAction.CASE_VIEW),
    )
    assert seen.exists(), (
        f"{member.username}, POST {url} (empty form): {response.status_code} drew "
        f"{len(shown)} message text(s) and recorded no view"
    )
