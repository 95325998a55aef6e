"""Outbound HTTP to an address a tenant chose (the webhook URL): the one way out, with the
rules that keep a tenant admin from making the worker call inside our network (SSRF).

The rules, checked when an admin saves the URL and again at every send (DNS can change in
between, and rows saved before a rule existed are still sent):

- https only, unless the operator trusts the host (``ARTEMIS_OUTBOUND_TRUSTED_HOSTS``);
- no user name or password in the URL;
- the host is resolved once per send and refused if ANY of its addresses is not public:
  unspecified, loopback, link-local (169.254.169.254 is the cloud metadata service),
  multicast, private, reserved, IPv4-mapped or -compatible IPv6, the IPv6 transition
  prefixes, or anything else Python's ``ipaddress`` does not call global;
- the connection goes to an address that was checked, never to a second lookup of the name
  (a DNS answer that changes between check and connect would otherwise slip through). TLS
  still sends the name (SNI) and verifies the certificate against it; the Host header is the
  URL's. Proxies from the environment are not used: a proxy would look the name up again;
- redirects are never followed: a 3xx is a failed answer like a 500;
- short timeouts; the answer's body is never read.

A host the operator trusts (a local receiver in development and tests, an internal relay) may
use plain http and any address; it is still resolved once and called by address.

Why not a library: ``advocate`` is unmaintained since 2020, and ``requests-hardened`` (the
closest fit) checks only the first address a name resolves to and allows loopback for every
host or none. The rules fit in this file.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CONNECT_SECONDS = 5
READ_SECONDS = 10
# A name with several addresses is tried on at most this many, each only until one accepts
# the connection (nothing has been sent before that).
MAX_ADDRESSES = 3
CA_BUNDLE = certifi.where()

# IPv6 prefixes that carry or reach an IPv4 address through a gateway (so "::ffff:" is not
# the only way to reach 127.0.0.1 or 10.0.0.1 from an IPv6 literal). No receiver needs them.
TRANSITION_NETWORKS = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.ip_network("2002::/16"),  # 6to4
    ipaddress.ip_network("2001::/32"),  # Teredo
)
# Not global, whatever the running Python's ipaddress tables say (they changed in 3.11.10).
NOT_GLOBAL_NETWORKS = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, often routes to internal hosts
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("192.88.99.0/24"),  # 6to4 relay anycast
)
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class Refused(Exception):
    """The URL breaks a rule and nothing was sent. The message names the rule: "must use
    https", "points to a private address 10.0.0.1", "localhost resolves to a loopback
    address 127.0.0.1"."""


class Unresolved(Refused):
    """The host has no address now. Saving such a URL is allowed (its DNS may not be set up
    yet); sending to it is a failed attempt."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, ASCII (IDNA), no brackets around an IPv6 literal
    port: int
    path: str  # path and query: the request line's target
    host_header: str
    trusted: bool


@dataclass(frozen=True)
class Answer:
    """What came back: the status, or None when no answer came (then ``error`` says why)."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def address_problem(address: IPAddress) -> str | None:
    """Why Artemis may not call this address, in words ("a private address 10.0.0.1"), or
    None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        inner = mapped or _ipv4_compatible(address)
        if inner is not None:
            kind = "IPv4-mapped" if mapped else "IPv4-compatible"
            what = address_problem(inner) or f"the address {inner}"
            return f"an {kind} IPv6 address {address}, which is {what}"
    checks = (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("an IPv6 transition address", any(address in n for n in TRANSITION_NETWORKS)),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
        (
            "an address that is not globally routable",
            not address.is_global or any(address in n for n in NOT_GLOBAL_NETWORKS),
        ),
    )
    for words, hit in checks:
        if hit:
            metadata = " (cloud metadata)" if address in METADATA_ADDRESSES else ""
            return f"{words} {address}{metadata}"
    return None


def _ipv4_compatible(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # ::a.b.c.d (deprecated, RFC 4291) still reaches a.b.c.d on some stacks. :: and ::1 are
    # IPv6's own unspecified and loopback addresses and are judged as such.
    value = int(address)
    if 1 < value < 2**32:
        return ipaddress.IPv4Address(value)
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _trusted(host: str, port: int) -> bool:
    """Whether the operator named this host, or this host and port, as trusted."""
    written = f"[{host}]" if ":" in host else host
    entries = settings.ARTEMIS_OUTBOUND_TRUSTED_HOSTS
    return written in entries or f"{written}:{port}" in entries


def url_check(url: str) -> Target:
    """The URL's parts, or Refused naming the first rule it breaks. No network: a host that
    is an IP address is judged here, a name only by ``addresses_check``."""
    try:
        parts = urlsplit(url.strip())
        explicit_port = parts.port
    except ValueError:
        raise Refused("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise Refused("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry a user name or password")
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise Refused(f"has an invalid host name {parts.hostname!r}") from None
    port = explicit_port or (443 if scheme == "https" else 80)
    trusted = _trusted(host, port)
    if scheme == "http" and not trusted:
        raise Refused("must use https")
    literal = _literal(host)
    if literal is not None and not trusted:
        problem = address_problem(literal)
        if problem:
            raise Refused(f"points to {problem}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    written = f"[{host}]" if ":" in host else host
    host_header = f"{written}:{explicit_port}" if explicit_port else written
    return Target(scheme, host, port, path, host_header, trusted)


def addresses_check(target: Target) -> list[IPAddress]:
    """Resolve the host once and return its addresses, or Refused naming the first that is
    not public (Unresolved when it has none). A trusted host's addresses are not judged."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Unresolved(f"{target.host} does not resolve") from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise Unresolved(f"{target.host} does not resolve")
    if not target.trusted:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise Refused(f"{target.host} resolves to {problem}")
    return addresses


def url_vet(url: str) -> tuple[Target, list[IPAddress]]:
    """Every rule, the DNS lookup included: the target and the addresses it may be sent to."""
    target = url_check(url)
    return target, addresses_check(target)


def _pool(target: Target, address: IPAddress) -> urllib3.HTTPConnectionPool:
    # The pool connects to the checked address; urllib3 looks nothing up for an IP literal.
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=CA_BUNDLE,
            server_hostname=target.host,  # SNI
            assert_hostname=target.host,  # the certificate must name the host, not the IP
        )
    return urllib3.HTTPConnectionPool(str(address), target.port, maxsize=1)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` under the rules above. Raises Refused when a rule is broken
    (nothing was sent); otherwise returns the Answer, a network error or a redirect included
    (neither is ever ok)."""
    target, addresses = url_vet(url)
    headers = {**headers, "Host": target.host_header}
    timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
    error = ""
    for address in addresses[:MAX_ADDRESSES]:
        pool = _pool(target, address)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                timeout=timeout,
            )
        except urllib3.exceptions.ConnectTimeoutError as exc:
            # No connection (refused, unreachable, timed out): nothing was sent, so the next
            # address may be tried.
            error = type(exc).__name__
            continue
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # Class name only: an exception's text may quote what the other side said.
            return Answer(None, type(exc).__name__)
        finally:
            pool.close()
        status = response.status
        response.close()
        if 300 <= status < 400:
            return Answer(status, f"HTTP {status}: redirect not followed")
        return Answer(status, "" if 200 <= status < 300 else f"HTTP {status}")
    return Answer(None, error)
