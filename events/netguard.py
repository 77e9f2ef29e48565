"""Where a webhook may be sent: public addresses only (unless allowed), https in production.

A URL is checked when an endpoint is saved and again before every attempt:
its host is resolved and every address it resolves to must be public, so a
DNS answer that changes after the save (DNS rebinding) is caught at send
time, and the attempt connects to an address that was checked, not to a
second resolution. ``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` lifts the address rule
(on by default only with ``DEBUG``); ``WEBHOOK_REQUIRE_HTTPS`` (on in
production) refuses ``http://``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from certhub.errors import RuleViolation


class UnsafeUrl(RuleViolation):
    """A webhook URL that may not be called: bad form, a private address, or plain http where https is required."""


class UnresolvedHost(UnsafeUrl):
    """The URL's host does not resolve (now): a refusal that may pass, unlike the others."""


def _resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (every family)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


# The resolver used by the checks; a test substitutes a fake DNS here.
resolver = _resolve


# IPv6 global unicast (RFC 4291); everything outside it (NAT64 64:ff9b::/96, IPv4-compatible
# ::/96, SIIT ::ffff:0:0:0/96, ...) can reach an IPv4 address through a translator.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def address_is_public(address: str) -> bool:
    """Whether ``address`` is a global unicast address (not loopback, private, link-local, reserved, multicast).

    An IPv4-mapped address is judged as its IPv4 address; any other IPv6 address must be
    global unicast, and a 6to4 address's embedded IPv4 address must be public too.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_is_public(str(ip.ipv4_mapped))
        if ip not in GLOBAL_UNICAST or ip.teredo is not None:
            return False
        if ip.sixtofour is not None and not address_is_public(str(ip.sixtofour)):
            return False
    return ip.is_global and not ip.is_multicast


def url_parts(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a webhook URL, checked for form and scheme; ``UnsafeUrl`` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("Not a valid URL.", fields={"url": ["Not a valid URL."]}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("A webhook URL is http:// or https:// with a host.", fields={"url": ["Not an http(s) URL."]})
    if parts.username or parts.password:
        raise UnsafeUrl("Credentials in a webhook URL are refused.", fields={"url": ["No user or password here."]})
    if settings.WEBHOOK_REQUIRE_HTTPS and parts.scheme != "https":
        raise UnsafeUrl("Webhook URLs must use https:// here.", fields={"url": ["Must use https://."]})
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def url_addresses(url: str) -> list[str]:
    """Resolve a webhook URL's host and check every address; return them, or raise ``UnsafeUrl``."""
    _, host, port = url_parts(url)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnresolvedHost(
            f"The host {host} does not resolve: {exc}", fields={"url": ["The host does not resolve."]}
        ) from None
    if not addresses:
        raise UnresolvedHost(f"The host {host} does not resolve.", fields={"url": ["The host does not resolve."]})
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        refused = [address for address in addresses if not address_is_public(address)]
        if refused:
            raise UnsafeUrl(
                f"The host {host} resolves to a non-public address ({', '.join(refused)}).",
                fields={"url": ["Resolves to a loopback, private, link-local or reserved address."]},
            )
    return addresses
