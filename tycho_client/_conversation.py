"""A conversation with a server, without I/O: what :meth:`server_traits` and :meth:`verify` ask.

A conversation is a generator that yields each :class:`Exchange` it wants sent and receives its
:class:`Reply` (or, thrown in, the :class:`~tycho_client.errors.TychoTransportError` of a request
that got no answer). Both client faces drive the same generators (``_converse`` in
:mod:`tycho_client.aio`), so the logic is written once and tested without a socket. An
interrupted conversation (Ctrl-C, a cancelled task) gets the interruption thrown in, and may still
yield what it needs sent to clean up (``verify --write`` deletes its probe system) before it ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import TychoTransportError, quote_body

__all__ = ["PAUSED", "Budget", "Conversation", "Exchange", "Pause", "Reply", "ending", "shown"]

T = TypeVar("T")


@dataclass(frozen=True)
class Exchange:
    """One request a conversation wants sent: ``POST /system/{operation}`` with ``body`` as
    JSON (not validated: probes send what the document forbids on purpose)."""

    operation: str
    body: Any
    deadline: float | None = None
    """Seconds this request may take, retries included (``None``: the client's own)."""

    @property
    def label(self) -> str:
        """``POST /system/status {"name": null}``, for evidence and messages."""
        text = json.dumps(self.body, separators=(", ", ": "))
        if len(text) > 60 and isinstance(self.body, dict) and "name" in self.body:
            text = f'{{"name": {json.dumps(self.body["name"])}, …}}'
        return f"POST /system/{self.operation} {text if len(text) <= 60 else text[:59] + '…'}"


@dataclass(frozen=True)
class Reply:
    """The answer to an :class:`Exchange`: whatever HTTP status it had."""

    status_code: int
    content_type: str
    content: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON."""
        if not self.content_type.startswith("application/json"):
            return None
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):
            return None

    def error_text(self) -> str | None:
        """The ``result.error`` of an HTTP 200 error envelope, else ``None``."""
        data = self.json()
        if self.status_code != 200 or not isinstance(data, dict) or data.get("status") != "error":
            return None
        result = data.get("result")
        error = result.get("error") if isinstance(result, dict) else None
        return error if isinstance(error, str) else None

    def describe(self) -> str:
        """What came back, in a few words: ``HTTP 200 error "name"``, ``HTTP 404 text/html``."""
        error = self.error_text()
        if error is not None:
            return f'HTTP 200 error "{quote_body(shown(error), 120)}"'
        data = self.json()
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            return f"HTTP {self.status_code} {quote_body(data['status'], 20)}"
        kind = self.content_type.split(";", 1)[0] or "no content type"
        return f"HTTP {self.status_code} {quote_body(kind, 40)}"


@dataclass(frozen=True)
class Pause:
    """A wait between polls, which the client does its own way (a conversation does no I/O);
    what it gets back is :data:`PAUSED`."""

    seconds: float


PAUSED = Reply(0, "", b"")
"""What a :class:`Pause` is answered with."""

Conversation = Generator[Exchange | Pause, Reply, T]
"""Yields what to send (or a pause), receives each answer, returns its result."""


def pause(seconds: float) -> Conversation[None]:
    """Wait ``seconds`` (the client sleeps, in its face's way)."""
    if seconds > 0:
        yield Pause(seconds)


def ending(conversation: Conversation[Any], interruption: BaseException) -> Conversation[None]:
    """What ``conversation`` still sends once ``interruption`` (Ctrl-C, a cancelled task) is
    thrown into it: its clean-up. Ends when it ends or re-raises."""
    try:
        step = conversation.throw(interruption)
        while True:
            try:
                reply = yield step
            except TychoTransportError as exc:
                step = conversation.throw(exc)
            else:
                step = conversation.send(reply)
    except BaseException:
        return


def shown(error: str) -> str:
    """A server's error text as evidence: a traceback reduced to its first line."""
    return error.strip().splitlines()[0] if error.strip() else error


class Budget:
    """The time a conversation has (``None``: no bound of its own): each exchange gets what is
    left, within ``per_call``."""

    def __init__(self, seconds: float | None, per_call: float | None) -> None:
        self.ends_at: float | None = None if seconds is None else time.monotonic() + seconds
        self.per_call: float | None = per_call

    def left(self) -> float:
        return float("inf") if self.ends_at is None else self.ends_at - time.monotonic()

    def exchange(self, operation: str, body: Any) -> Exchange:
        """An exchange whose deadline is the time left, at most ``per_call``."""
        bounds = [max(self.left(), 0.001), self.per_call or float("inf")]
        deadline = min(bounds)
        return Exchange(operation, body, None if deadline == float("inf") else deadline)
