"""What a client learned about its server from answers (shared by ``with_options`` copies with
the same URL). No pydantic here: every client makes one, ``tycho status`` too."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .errors import TychoAPIError, quote_body
from .releases import GPU_ASSERTION_ERROR

__all__ = ["ServerKnowledge"]


class ServerKnowledge:
    """The GPU assertion (from a start refused for it, or from ``server_traits()``) and
    ambassador mode (from start answers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.gpu_assertion: bool | None = None
        self.ambassador_mode: bool | None = None
        self.ambassador_evidence: str = ""

    def remember(self, gpu_assertion: bool | None) -> None:
        """What ``server_traits()`` found out."""
        if gpu_assertion is not None:
            with self._lock:
                self.gpu_assertion = gpu_assertion

    def refused_for_gpus(self, error: TychoAPIError) -> bool:
        """Whether a start was refused by a GPU assertion this client did not know of yet: the
        server refused it while reading it, so nothing was created and it may be sent again."""
        with self._lock:
            if self.gpu_assertion or error.error.strip() != GPU_ASSERTION_ERROR:
                return False
            self.gpu_assertion = True
            return True

    def saw_endpoints(self, ports: Sequence[int | None]) -> None:
        """Learn ambassador mode from a start answer's ``port-1`` values (null behind it)."""
        if ports:
            shown = ", ".join("null" if port is None else str(port) for port in ports[:3])
            with self._lock:
                self.ambassador_mode = all(port is None for port in ports)
                self.ambassador_evidence = f"a start answered port-1 {quote_body(shown, 60)}"
