"""Every page, export and API answer that can show chat, account or case data says
`Cache-Control: no-store`, and every page carries a Content-Security-Policy that its own
HTML keeps to (issue 12, finding 8).

The URL list is not written here: it is read from the resolver, so a URL added tomorrow is
requested and checked with no edit to this file. Only a new kind of URL parameter needs a
value in PARAMS, and the test fails naming it until it has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from artemis.headers import CACHEABLE_VIEW_NAMES
from review.appeals.services import appeal_claim_next, appeal_receive
from review.cases.referral import signing
from review.decisions.second_review import second_review_claim_next
from review.models import Appeal, Membership, Message, Tenant
from review.queue.services import queue_item_claim_next
from review.tenancy.services import api_key_create, invitation_send
from tests.review.cases.test_cases import approved_referral
from tests.review.supervision_support import decide, sample_every_decision
from tests.review_support import authenticator, flagged_item, pass_second_factor

pytestmark = pytest.mark.django_db

# The pages and exports that must answer 200 with their data in this test's world, so the
# header is checked on a response that really shows chat, account or case data (a wrong id
# would give a 404 that proves nothing).
MUST_SHOW_DATA = {
    "queue:queue",
    "decisions:review",
    "decisions:reveal",
    "decisions:decision_log",
    "decisions:decision_log?format=csv",
    "cases:cases",
    "cases:case_inbox",
    "cases:case",
    "cases:case_package",
    "decisions:second_reviews",
    "decisions:second_review",
    "decisions:inbox",
    "decisions:supervisor_review",
    "decisions:agreement",
    "decisions:agreement?format=csv",
    "audit:audit_trail",
    "search:search",
    "search:participant",
    "tenancy:admin_members",
    "tenancy:admin_keys",
    "policy:admin_policy",
    "policy:admin_tuning",
    "policy:model_versions",
    "policy:model_labels_export",
    "invitations",
    "api-conversation-detail",
    "appeals:appeals",
    "appeals:appeal",
    "api-appeal-detail",
    "api-decision-statement",
    "admin:auth_user_changelist",
    "admin:auth_user_change",
}
# Exports that are a query string on a page's URL rather than a URL of their own.
QUERY_VARIANTS = {
    "decisions:decision_log": "?format=csv",
    "decisions:agreement": "?format=csv",
    "search:search": "?q=c-",  # results: conversations and participants
}


@dataclass(frozen=True)
class Route:
    """One URL pattern as the resolver holds it: its full route and its name, if any."""

    route: str
    name: str | None
    pattern: Any

    @property
    def label(self) -> str:
        return self.name or self.route


def every_route(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "", ns: str = ""
) -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (ns, entry.namespace or "") if part)
            yield from every_route(entry.url_patterns, prefix + str(entry.pattern), inner)
        else:
            name = entry.name and (f"{ns}:{entry.name}" if ns else entry.name)
            yield Route(prefix + str(entry.pattern), name, entry.pattern)


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def concrete_path(route: Route, params: dict[str, str]) -> str:
    """The route with each parameter filled in from ``params`` (regex anchors dropped)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in params:
            pytest.fail(
                f"URL {route.label!r} takes a parameter {name!r} this test has no value for: "
                "add one to the world in tests/artemis/test_headers.py so the URL is checked"
            )
        return params[name]

    return "/" + _PARAM.sub(fill, route.route).replace("^", "").replace("$", "")


@dataclass
class World:
    """Acme with one of everything a page can show, and ada, admin of it, signed in."""

    ada: Any
    params: dict[str, str]
    api_key: str
    group_id: str


@pytest.fixture
def world(acme: Tenant, alice: Any, sam: Any, ada: Any, settings: Any, tmp_path: Any) -> World:
    from django.contrib.auth.models import Group

    settings.ARTEMIS_PACKAGE_SIGNING_KEY = signing.private_key_pem(signing.new_private_key())
    settings.ARTEMIS_LEGAL_PROCESS_CONTACT = "Legal, 1 Example Street"
    get_user_model().objects.filter(pk=ada.pk).update(is_staff=True, is_superuser=True)
    case = approved_referral(acme, alice, sam)  # alice escalates, sam approves
    sample_every_decision(acme)
    decided = decide(acme, alice)  # sampled: ada takes its blind second review
    second = second_review_claim_next(tenant=acme, reviewer=ada)
    assert second is not None
    appeal = appeal_receive(
        tenant=acme, decision_id=decided.pk, external_id="appeal-1",
        statement="please look again", made_at=decided.created_at,
    ).appeal  # fmt: skip
    assert appeal_claim_next(tenant=acme, reviewer=ada) == appeal  # ada reads the appeal page
    # The page names the appeal by its id and the API by the platform's: make them one value.
    Appeal.objects.filter(pk=appeal.pk).update(external_id=str(appeal.pk))
    flagged_item(acme, 77)
    item = queue_item_claim_next(tenant=acme, moderator=ada)
    assert item is not None
    hidden = Message.objects.get(conversation=item.conversation, external_id="m2")
    _, api_key = api_key_create(tenant=acme, name="platform")
    spare, _ = api_key_create(tenant=acme, name="spare")  # one the revoke URL may revoke
    group = Group.objects.create(name="reviewers")
    invitation = invitation_send(tenant=acme, actor=ada, invitee="newcomer", role="moderator")
    return World(
        ada=ada,
        api_key=api_key,
        group_id=str(group.pk),
        params={
            "tenant_slug": acme.slug,
            "item_id": str(item.pk),
            "message_id": str(hidden.pk),
            "case_id": str(case.pk),
            "review_id": str(second.pk),
            "conversation_id": str(decided.conversation_id),
            "membership_id": str(Membership.objects.get(user=ada).pk),
            "key_id": str(spare.pk),
            "invitation_id": str(invitation.pk),  # newcomer's: ada accepting it gets a 404
            "version_id": "999999",  # no tenant version: promote answers 404, still no-store
            "external_id": item.conversation.external_id,
            "participant_id": str(case.reported_participant_id),
            "appeal_id": str(appeal.pk),
            "decision_id": str(decided.pk),
            # Django's own admin (ada is a superuser there too).
            "object_id": str(ada.pk),
            "pk": str(authenticator(ada).pk),  # django-otp's device pages
            "id": str(ada.pk),
            "content_type_id": str(ContentType.objects.get_for_model(get_user_model()).pk),
            "app_label": "auth",
            "url": "nowhere/",
        },
    )


def request_as_ada(world: World, route: Route, query: str = "") -> Any:
    """A real response from the view behind ``route``: GET, or POST when GET is refused."""
    params = dict(world.params)
    if "auth/group" in route.route:
        params["object_id"] = world.group_id
    path = concrete_path(route, params) + query
    if route.route.startswith("api/"):
        client: Client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.api_key}")
    else:
        client = Client()
        client.force_login(world.ada)
        pass_second_factor(client, world.ada)  # an admin and staff: past the second factor
    response = client.get(path)
    if response.status_code == 405:
        # As htmx would send it, so an endpoint that answers htmx with a fragment of data
        # (a revealed message, the case editor) is checked on that fragment.
        body = None if route.route.startswith("api/") else {}
        response = client.post(path, body, HTTP_HX_REQUEST="true")
    return response


def test_every_url_that_can_show_data_answers_no_store(world: World) -> None:
    checked, failures = set(), []
    for route in every_route():
        if route.name in CACHEABLE_VIEW_NAMES:
            continue
        for query in ["", *([QUERY_VARIANTS[route.name]] if route.name in QUERY_VARIANTS else [])]:
            response = request_as_ada(world, route, query)
            label = route.label + query
            checked.add(label)
            # /readyz says 503 in a world with no scoring model; any other 5xx is a bug.
            not_ready = route.name == "readyz" and response.status_code == 503
            assert response.status_code < 500 or not_ready, f"{label}: {response.status_code}"
            # The response came from this pattern's view, not a neighbour or a 404 page.
            assert response.resolver_match.route.replace("^", "") == route.route.replace("^", ""), (
                label
            )
            if label in MUST_SHOW_DATA and response.status_code != 200:
                failures.append(f"{label}: {response.status_code}, expected 200 with data")
            cache_control = response.headers.get("Cache-Control", "")
            if not {"no-store", "private"} <= set(re.split(r",\s*", cache_control)):
                failures.append(f"{label}: Cache-Control is {cache_control!r}")

    assert not failures, "\n".join(failures)
    assert checked >= MUST_SHOW_DATA, f"not found in the resolver: {MUST_SHOW_DATA - checked}"


def test_only_the_public_api_documentation_may_be_cached(world: World) -> None:
    # The allow-list stays short: the schema and its viewer hold no tenant data.
    assert {"api-schema", "api-docs"} == CACHEABLE_VIEW_NAMES
    for route in every_route():
        if route.name in CACHEABLE_VIEW_NAMES:
            response = Client().get(concrete_path(route, {}))
            assert response.status_code == 200, route.name
            assert "no-store" not in response.headers.get("Cache-Control", ""), route.name


def test_an_anonymous_visitor_and_a_bad_api_key_get_no_store_too(acme: Tenant) -> None:
    page = Client().get("/t/acme/queue")
    api = APIClient().get("/api/v1/conversations/c-1", HTTP_AUTHORIZATION="Bearer art_wrong")

    assert page.status_code == 302
    assert api.status_code == 401
    for response in (page, api):
        assert "no-store" in response.headers.get("Cache-Control", "")


# --- Content-Security-Policy ----------------------------------------------------------------


def csp_directives(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


class InlineCode(HTMLParser):
    """Finds what a strict policy blocks: inline scripts, event-handler and style attributes,
    javascript: links, and <style> blocks without the response's nonce."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().startswith("javas"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if "style" in values:
            self.problems.append(f"<{tag} style=...>")
        if tag == "script" and not values.get("src"):
            self.problems.append("inline <script>")
        if tag == "style" and (self.nonce is None or values.get("nonce") != self.nonce):
            self.problems.append("<style> without the response's nonce")


def test_the_policy_is_strict(world: World) -> None:
    client = Client()
    client.force_login(world.ada)
    pass_second_factor(client, world.ada)
    directives = csp_directives(client.get("/t/acme/queue"))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"], "no inline script, no eval, no nonce needed"
    assert directives["style-src"][0] == "'self'"
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_every_html_page_carries_the_policy_and_keeps_to_it(world: World) -> None:
    failures = []
    for route in every_route():
        if route.name in CACHEABLE_VIEW_NAMES or route.route.startswith("api/"):
            continue
        response = request_as_ada(world, route)
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        directives = csp_directives(response)
        if directives.get("object-src") != ["'none'"]:
            failures.append(f"{route.label}: no strict Content-Security-Policy")
            continue
        nonces = [s[7:-1] for s in directives.get("style-src", []) if s.startswith("'nonce-")]
        parser = InlineCode(nonces[0] if nonces else None)
        parser.feed(response.content.decode())
        failures += [f"{route.label}: {problem}" for problem in parser.problems]

    assert not failures, "\n".join(failures)


def test_every_html_page_has_a_title_of_plain_words(world: World) -> None:
    """The tab and a screen reader's first words: a template that leaks markup into its
    title block shows it there as text (the supervisors' inbox once carried two tables)."""
    failures, checked = [], 0
    for route in every_route():
        if route.name in CACHEABLE_VIEW_NAMES or route.route.startswith("api/"):
            continue
        if route.route.startswith("django-admin/"):
            continue  # Django's own admin, its own templates
        response = request_as_ada(world, route)
        if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith(
            "text/html"
        ):
            continue
        page = response.content.decode()
        if "<html" not in page:
            continue  # an htmx fragment, not a document
        checked += 1
        title = re.search(r"<title>(.*?)</title>", page, re.S)
        if title is None or not title.group(1).strip():
            failures.append(f"{route.label}: no title")
        elif "<" in title.group(1) or "\n" in title.group(1).strip():
            failures.append(f"{route.label}: markup in the title")

    assert checked >= 25, f"only {checked} pages read: the walk lost its way"
    assert not failures, "\n".join(failures)


def test_a_page_with_inline_code_would_be_caught() -> None:
    # The checker above must be able to fail.
    parser = InlineCode("abc")
    parser.feed(
        '<a onclick="x()" href="javascript:y()">a</a><span style="width:1%"></span>'
        "<script>1</script><style>p{}</style><style nonce=abc>p{}</style>"
        '<script src="/static/js/review.js"></script>'
    )

    assert parser.problems == [
        "<a onclick=...>",
        "<a href=javascript:...>",
        "<span style=...>",
        "inline <script>",
        "<style> without the response's nonce",
    ]


def test_the_api_documentation_runs_its_script_from_a_file_under_the_same_policy(
    client: Client,
) -> None:
    page = client.get("/api/docs")
    script = client.get("/api/docs?script=")
    directives = csp_directives(page)
    nonce = next(s[7:-1] for s in directives["style-src"] if s.startswith("'nonce-"))
    parser = InlineCode(nonce)
    parser.feed(page.content.decode())

    assert parser.problems == []
    assert directives["script-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"], "Swagger UI's icons, nothing more"
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
