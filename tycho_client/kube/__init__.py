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

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tycho_client.errors import TychoDiscoveryError, quote_body

__all__ = ["Deadline", "quoted"]

T = TypeVar("T")


class Deadline:
    """The end of the whole discovery, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end: float = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def run(self, what: str, work: Callable[[], T]) -> T:
        """``work()`` in a thread, waited for until the deadline: for code that has none of its
        own (an ``exec`` credential plugin). A late thread is left to finish on its own."""
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
                f"{what} did not finish within the discovery deadline of {self.seconds:g}s",
                reason="unreachable",
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]  # type: ignore[no-any-return]


def quoted(name: str) -> str:
    """A name from a kubeconfig or the API, quoted for a message: escaped, bounded."""
    return f"'{quote_body(name, 100)}'"
