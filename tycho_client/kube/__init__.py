"""Talk to the Kubernetes API without the kubernetes package: its configuration, then two reads.

Discovery needs a configuration (the in-cluster service account, or a kubeconfig context) and two
GETs. Importing ``kubernetes`` builds hundreds of generated model classes (0.7 s), so
:mod:`tycho_client.kube.config` reads the kubeconfig itself -- every connection setting and the
static credentials -- and :mod:`tycho_client.kube.api` sends the GETs over the clients' own
connection pool. Only credentials that run code (``exec`` plugins, ``auth-provider``) are
delegated to the kubernetes package, imported then.

Every wait is bounded by one :class:`Deadline` for the whole discovery, every read by a size.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tycho_client.errors import TychoDiscoveryError, quote_body

__all__ = ["Deadline", "bearer", "is_dns_name", "is_host", "is_ip", "quoted"]

T = TypeVar("T")

# A DNS name of RFC 1123 labels, matched whole (``fullmatch``: ``$`` would let a trailing newline
# through, and the name goes into a URL).
_DNS_NAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


class Deadline:
    """The end of the whole discovery, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end: float = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def run(self, what: str, work: Callable[[], T], reason: str = "unreachable") -> T:
        """``work()`` in a thread, waited for until the deadline: for code that has none of its
        own (an ``exec`` credential plugin, reading a file, parsing a kubeconfig). A late thread
        is left to finish on its own; ``reason`` is that of the error raised then."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc

        thread = threading.Thread(target=target, name=f"tycho-discovery {what}", daemon=True)
        thread.start()
        thread.join(max(self.end - time.monotonic(), 0.0))
        if thread.is_alive():
            raise TychoDiscoveryError(
                f"{what} did not finish within the discovery deadline of {self.seconds:g}s; "
                "allow more time (timeout=, or --timeout) or pass the Tycho API URL (--url)",
                reason=reason,
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]  # type: ignore[no-any-return]


def quoted(name: str) -> str:
    """A name from a kubeconfig or the API, quoted for a message: escaped, bounded."""
    return f"'{quote_body(name, 100)}'"


def is_ip(value: object) -> bool:
    """An IPv4 or IPv6 literal, exactly: no whitespace, no ``%zone`` (which may hold anything)."""
    if not isinstance(value, str):
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None)


def is_dns_name(value: object) -> bool:
    """A DNS name of RFC 1123 labels, exactly (no whitespace, nothing after it)."""
    return isinstance(value, str) and value.isascii() and _DNS_NAME.fullmatch(value) is not None


def is_host(value: object) -> bool:
    """A DNS name or an IP literal: nothing else may go into a URL we print and connect to."""
    return is_ip(value) or is_dns_name(value)


def bearer(token: str, what: str) -> str:
    """The ``Authorization`` value for ``token``; ``what`` names it in the error.

    :raises ValueError: it holds what a header cannot carry (said without quoting the token).
    """
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ValueError(f"{what} holds characters an HTTP header cannot carry")
    return f"Bearer {token}"
