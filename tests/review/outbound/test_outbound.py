"""Outbound calls to a tenant's address: https to public addresses only, the name looked up
once and the checked address called, TLS verified for the name, redirects never followed.
Listeners are real servers on 127.0.0.1; only a test that needs a name to resolve to a
chosen address answers the lookup itself."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from review.outbound import addresses as outbound
from tests.listeners import Authority, Listener, trust

BODY = b'{"event": "decision"}'


def post(url: str) -> outbound.Answer:
    return outbound.post(url, body=BODY, headers={"Content-Type": "application/json"})


@pytest.fixture
def listener() -> Iterator[Listener]:
    heard = Listener()
    yield heard
    heard.close()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Make names resolve to chosen addresses; returns the names looked up, in order. Every
    other lookup (an IP literal, localhost) goes to the real resolver."""
    real = socket.getaddrinfo

    def answer(names: dict[str, list[str]]) -> list[str]:
        asked: list[str] = []

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            asked.append(host)
            chosen = names.get(host)
            if chosen is None:
                return real(host, port, *args, **kwargs)
            return [info for a in chosen for info in real(a, port, *args, **kwargs)]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return asked

    return answer


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://127.0.0.1/hook", "points to a loopback address 127.0.0.1"),
        ("https://127.0.0.1:6379/", "points to a loopback address 127.0.0.1"),
        ("https://localhost/hook", "localhost resolves to a loopback address"),
        ("https://2130706433/hook", "2130706433 resolves to a loopback address 127.0.0.1"),
        ("https://[::1]/hook", "points to a loopback address ::1"),
        ("https://[::ffff:127.0.0.1]/hook", "which is a loopback address 127.0.0.1"),
        ("https://[::127.0.0.1]/hook", "which is a loopback address 127.0.0.1"),
        ("https://[::ffff:10.0.0.1]/hook", "which is a private address 10.0.0.1"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address 169.254.169.254"),
        ("https://[fe80::1]/hook", "points to a link-local address fe80::1"),
        ("https://10.0.0.1/hook", "points to a private address 10.0.0.1"),
        ("https://172.16.0.1/hook", "points to a private address 172.16.0.1"),
        ("https://192.168.1.1/hook", "points to a private address 192.168.1.1"),
        ("https://[fd00::1]/hook", "points to a private address fd00::1"),
        ("https://100.64.0.1/hook", "not globally routable 100.64.0.1"),
        ("https://0.0.0.0/hook", "points to an unspecified address 0.0.0.0"),
        ("https://224.0.0.1/hook", "points to a multicast address 224.0.0.1"),
        ("https://240.0.0.1/hook", "points to a reserved address 240.0.0.1"),
        ("https://[2002:7f00:1::]/hook", "an IPv6 transition address 2002:7f00:1::"),
        ("https://[64:ff9b::a00:1]/hook", "an IPv6 transition address 64:ff9b::a00:1"),
        ("http://hooks.example.org/hook", "must use https"),
        ("ftp://hooks.example.org/hook", "must be an https URL"),
        ("https://platform:pw@hooks.example.org/hook", "must not carry a user name or password"),
    ],
)
def test_a_tenants_url_that_breaks_a_rule_is_refused_naming_the_rule(url: str, rule: str) -> None:
    with pytest.raises(outbound.Refused) as refused:
        post(url)

    assert rule in str(refused.value)


def test_the_cloud_metadata_address_is_named_as_such() -> None:
    with pytest.raises(outbound.Refused, match=r"169\.254\.169\.254 \(cloud metadata\)"):
        post("https://169.254.169.254/latest/meta-data/iam/security-credentials/")


def test_a_name_with_no_address_is_refused_as_unresolved() -> None:
    with pytest.raises(outbound.Unresolved, match=r"hooks\.invalid does not resolve"):
        post("https://hooks.invalid/hook")


def test_a_name_with_one_public_and_one_private_address_is_refused(
    dns: Callable[..., list[str]],
) -> None:
    dns({"hooks.example.org": ["93.184.215.14", "10.0.0.1"]})

    with pytest.raises(outbound.Refused) as refused:
        post("https://hooks.example.org/hook")

    assert str(refused.value) == "hooks.example.org resolves to a private address 10.0.0.1"


def test_a_local_listener_the_operator_did_not_trust_hears_nothing(listener: Listener) -> None:
    for url in (
        listener.url(),
        listener.url().replace("http:", "https:"),
        listener.url(host="localhost"),
        listener.url(host="[::ffff:127.0.0.1]").replace("http:", "https:"),
    ):
        with pytest.raises(outbound.Refused):
            post(url)

    assert listener.heard == []


def test_trusting_one_port_on_127_0_0_1_does_not_trust_the_others(
    settings: Any, listener: Listener
) -> None:
    other = Listener()
    try:
        trust(settings, other.url())

        with pytest.raises(outbound.Refused, match="must use https"):
            post(listener.url())

        assert listener.heard == []
    finally:
        other.close()


def test_a_trusted_local_listener_receives_the_post_with_the_urls_host(
    settings: Any, listener: Listener
) -> None:
    trust(settings, listener.url())

    answer = post(listener.url("/hooks/artemis?tenant=acme"))

    assert (answer.ok, answer.status, answer.error) == (True, 204, "")
    [heard] = listener.heard
    assert (heard.method, heard.path, heard.body) == ("POST", "/hooks/artemis?tenant=acme", BODY)
    assert heard.host == f"127.0.0.1:{listener.port}"


def test_a_redirect_is_a_failed_answer_and_is_never_followed(settings: Any) -> None:
    inside = Listener()
    redirecting = Listener(status=302, location=inside.url("/admin"))
    try:
        # Both are trusted: only the no-redirect rule stands between them.
        trust(settings, redirecting.url(), inside.url())

        answer = post(redirecting.url())

        assert (answer.ok, answer.status) == (False, 302)
        assert answer.error == "HTTP 302: redirect not followed"
        assert len(redirecting.heard) == 1
        assert inside.heard == []
    finally:
        redirecting.close()
        inside.close()


def test_an_error_status_is_a_failed_answer(settings: Any) -> None:
    failing = Listener(status=503)
    try:
        trust(settings, failing.url())

        assert post(failing.url()) == outbound.Answer(503, "HTTP 503")
    finally:
        failing.close()


def test_the_name_is_looked_up_once_and_the_checked_address_is_called(
    settings: Any, listener: Listener, dns: Callable[..., list[str]]
) -> None:
    url = listener.url(host="hooks.test")
    trust(settings, url)
    asked = dns({"hooks.test": ["127.0.0.1"]})

    answer = post(url)

    assert answer.ok
    assert asked.count("hooks.test") == 1, "a second lookup could answer another address"
    assert listener.heard[0].host == f"hooks.test:{listener.port}"


def test_https_to_the_checked_address_verifies_the_certificate_for_the_name(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dns: Callable[..., list[str]]
) -> None:
    authority = Authority(tmp_path)
    monkeypatch.setattr(outbound, "CA_BUNDLE", str(authority.bundle))
    platform = Listener(tls=authority.server_context("hooks.test"))
    try:
        url = platform.url(host="hooks.test")
        trust(settings, url)
        dns({"hooks.test": ["127.0.0.1"]})

        answer = post(url)

        assert (answer.ok, answer.status) == (True, 204)
        assert platform.server_names == ["hooks.test"], "TLS names the host (SNI), not the IP"
        assert platform.heard[0].host == f"hooks.test:{platform.port}"
    finally:
        platform.close()


def test_a_certificate_for_another_name_fails_the_attempt(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dns: Callable[..., list[str]]
) -> None:
    authority = Authority(tmp_path)
    monkeypatch.setattr(outbound, "CA_BUNDLE", str(authority.bundle))
    impostor = Listener(tls=authority.server_context("other.test"))
    try:
        url = impostor.url(host="hooks.test")
        trust(settings, url)
        dns({"hooks.test": ["127.0.0.1"]})

        answer = post(url)

        assert (answer.ok, answer.status, answer.error) == (False, None, "SSLError")
        assert impostor.heard == []
    finally:
        impostor.close()
