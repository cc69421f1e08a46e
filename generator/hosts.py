"""Which declared hosts a capture may fetch. Pure: names and address literals only (fetch.py also
checks what a name resolves to, at capture time).

The capture job runs in CI with a network of its own: a declared page inside it (a cloud's metadata
address, a router, a service on a private network) would be fetched, signed and published. Loopback
stays allowed: it is this machine, where the tests and a contributor's trials serve their pages."""

from __future__ import annotations

import ipaddress

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Names that only mean something inside a network (RFC 6761, 6762, 8375; cloud metadata names).
_INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".lan", ".home.arpa", ".intranet", ".corp")


def internal_host(host: str) -> str | None:
    """Why `host` names a place inside a network rather than a public site; None when it does not
    (or is loopback)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in LOOPBACK_HOSTS:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host.endswith(_INTERNAL_SUFFIXES) or "." not in host:
            return "a name that only means something inside a network"
        return None
    if address.is_loopback:
        return None
    if not address.is_global:
        return "an address that is not public (private, link-local, reserved or shared)"
    return None
