"""What a :class:`~tycho_client.testing.FakeTycho` remembers, behind one lock: its systems, the
requests it answered and the failures still to inject."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "FIRST_NODE_PORT",
    "LAST_NODE_PORT",
    "MAX_RECORDED_BODY_BYTES",
    "MAX_RECORDED_REQUESTS",
    "FakeSystem",
    "Fault",
    "RecordedRequest",
    "State",
]

MAX_RECORDED_REQUESTS = 1000
"""``FakeTycho.requests`` keeps the last this many requests (``tycho mock`` runs for long)."""
MAX_RECORDED_BODY_BYTES = 64 * 1024
"""Larger bodies are answered but recorded as ``None``: the fake does not hold on to them."""
FIRST_NODE_PORT = 30000
LAST_NODE_PORT = 32767


@dataclass
class FakeSystem:
    """One system the fake runs. ``name`` is the full ``{app_id}-{sid}``."""

    name: str
    sid: str
    app_id: str
    username: str
    created: datetime
    containers: dict[str, dict[str, Any]]
    """The start answer's ``containers``: endpoints of the services asked for."""
    services: dict[str, Any]
    """The start request's ``services``."""
    utilization: dict[str, dict[str, str] | None]
    """Limits by container, as ``status`` reports them (``modify`` changes them)."""
    images: dict[str, str]
    conn_string: str = ""
    serviceaccount: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    """Labels added by ``modify``."""
    resources: dict[str, str] = field(default_factory=dict)
    """``cpu`` / ``memory`` set by ``modify``."""
    is_ready: bool = True
    polls_until_ready: int = 0
    """Status answers still to report ``is_ready: false`` before the system becomes ready."""
    compose: dict[str, Any] = field(default_factory=dict, repr=False)
    env: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def creation_time(self) -> str:
        """``created`` the way servers print it: ``M-D-YYYY H:M:S``, no zero padding."""
        c = self.created
        return f"{c.month}-{c.day}-{c.year} {c.hour}:{c.minute}:{c.second}"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake answered: its parsed JSON ``body`` (``None`` if none or larger than
    ``MAX_RECORDED_BODY_BYTES``; left out of ``repr()``, as it carries ``.env`` values), the
    document's complaints about it (``problems``:
    field paths and schema keywords, never values; empty when valid) and the answer's status."""

    method: str
    path: str
    operation: str | None
    body: Any = field(repr=False)
    problems: tuple[str, ...] = ()
    status_code: int = 200
    injected: bool = False


@dataclass(frozen=True)
class Fault:
    """An answer to inject instead of the next API request's (``FakeTycho.fail_next``)."""

    status_code: int
    body: Any
    headers: tuple[tuple[str, str], ...]


class State:
    """The systems, answered requests and pending faults; hold ``lock`` to read or change them."""

    def __init__(self) -> None:
        self.lock: threading.RLock = threading.RLock()
        self.systems: dict[str, FakeSystem] = {}
        self.requests: collections.deque[RecordedRequest] = collections.deque(
            maxlen=MAX_RECORDED_REQUESTS
        )
        self.faults: collections.deque[Fault] = collections.deque()
        self._next_node_port = FIRST_NODE_PORT

    def reset(self) -> None:
        with self.lock:
            self.systems.clear()
            self.requests.clear()
            self.faults.clear()
            self._next_node_port = FIRST_NODE_PORT

    def node_port(self) -> int:
        """The next node port, as Kubernetes assigns them (wrapping at the end of the range)."""
        with self.lock:
            port = self._next_node_port
            self._next_node_port = port + 1 if port < LAST_NODE_PORT else FIRST_NODE_PORT
            return port

    def take_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)
