"""One call: its budget (per-phase timeout, retries, deadline) and what happens after each attempt.

The faces send; after every answer or failure they ask :class:`CallPlan` whether to try again and
how long to wait first (:mod:`tycho_client._retry` decides what is safe to repeat), or which
:class:`~tycho_client.TychoError` ends the call.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Mapping

import httpx

from ._response import transport_error
from ._retry import RETRY_AFTER_STATUSES, RetryPolicy, retry_after, should_retry
from .build import PreparedRequest
from .errors import TychoTimeoutError

__all__ = ["CallPlan"]

logger = logging.getLogger("tycho_client")

# A timeout this close to the deadline was the deadline's doing.
_DEADLINE_SLACK = 0.05


class CallPlan:
    """The budget of one call and the decisions after each of its attempts."""

    __slots__ = (
        "deadline",
        "ends_at",
        "headers",
        "longest",
        "policy",
        "retries",
        "timeout",
        "where",
    )

    def __init__(
        self,
        *,
        timeout: httpx.Timeout,
        retries: int,
        deadline: float | None,
        headers: Mapping[str, str] | None,
        policy: RetryPolicy,
        where: str,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.deadline = deadline
        self.ends_at = math.inf if deadline is None else time.monotonic() + deadline
        self.headers = headers
        self.policy = policy
        self.where = where
        """The server's display URL (no password), for messages and logs."""
        phases = (timeout.connect, timeout.read, timeout.write)
        self.longest = math.inf if None in phases else max(p or 0.0 for p in phases)

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed; infinite without one)."""
        return self.ends_at - time.monotonic()

    def attempt_timeout(self, prepared: PreparedRequest, attempt: int) -> httpx.Timeout:
        """The timeout of the next attempt, each phase capped at the time left; a
        TychoTimeoutError when none is left."""
        left = self.left()
        if left <= 0:
            raise self.deadline_error(prepared, attempt, sent=attempt > 0)
        timeout = self.timeout
        if left >= self.longest and (timeout.pool is None or left >= timeout.pool):
            return timeout
        return httpx.Timeout(
            connect=min(timeout.connect or left, left),
            read=min(timeout.read or left, left),
            write=min(timeout.write or left, left),
            pool=min(timeout.pool or left, left),
        )

    def after_response(
        self, prepared: PreparedRequest, response: httpx.Response, attempt: int, started: float
    ) -> float | None:
        """Log an answer; the wait before another attempt, or None to return it.

        A ``Retry-After`` longer than the time left fails at once (TychoTimeoutError); a backoff
        longer than that makes this answer the last.
        """
        logger.debug(
            "POST %s%s -> %d in %.1f ms",
            self.where,
            prepared.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if not should_retry(prepared.idempotent, attempt, self.retries, response=response):
            return None
        left = self.left()
        asked = retry_after(response) if response.status_code in RETRY_AFTER_STATUSES else None
        if asked is not None and asked >= left:
            url = f"{self.where}{prepared.path}"
            raise TychoTimeoutError(
                f"POST {url} answered HTTP {response.status_code} and asked to retry after "
                f"{asked:.12g} s, more than the {max(left, 0.0):.1f} s left of the call's "
                f"{self.deadline:g} s deadline",
                url=url,
            )
        return self._delay(prepared, attempt, left, response)

    def after_failure(
        self,
        prepared: PreparedRequest,
        error: httpx.TransportError,
        attempt: int,
        started: float,
        timeout: httpx.Timeout,
    ) -> float:
        """Log a failure; the wait before another attempt, or raise the TychoTransportError."""
        logger.debug(
            "POST %s%s -> %s after %.1f ms",
            self.where,
            prepared.path,
            type(error).__name__,
            (time.perf_counter() - started) * 1000,
        )
        left = self.left()
        if isinstance(error, httpx.TimeoutException) and left <= _DEADLINE_SLACK:
            raise self.deadline_error(prepared, attempt + 1, error=error) from error
        delay = None
        if should_retry(prepared.idempotent, attempt, self.retries, error=error):
            delay = self._delay(prepared, attempt, left)
        if delay is None:
            raise transport_error(prepared, error, timeout, self.where) from error
        return delay

    def _delay(
        self,
        prepared: PreparedRequest,
        attempt: int,
        left: float,
        response: httpx.Response | None = None,
    ) -> float | None:
        delay = self.policy.backoff(attempt, response)
        if delay >= left:
            return None
        logger.debug(
            "retrying POST %s in %.3f s (attempt %d of %d)",
            prepared.path,
            delay,
            attempt + 2,
            self.retries + 1,
        )
        return delay

    def deadline_error(
        self,
        prepared: PreparedRequest,
        attempts: int,
        *,
        sent: bool = True,
        error: Exception | None = None,
    ) -> TychoTimeoutError:
        """The error of a call whose deadline passed after ``attempts`` attempts."""
        url = f"{self.where}{prepared.path}"
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        unknown = (
            ""
            if prepared.idempotent
            or not sent
            or isinstance(error, (httpx.ConnectTimeout, httpx.PoolTimeout))
            else f"; the server may have carried out the {prepared.operation} anyway: "
            "check the systems' status before trying again"
        )
        what = "no complete answer" if sent else "not sent: no time left"
        return TychoTimeoutError(
            f"POST {url}: {what} within the call's {self.deadline:g} s deadline{tries}{unknown}",
            url=url,
        )

    def note_interruption(self, prepared: PreparedRequest, interruption: BaseException) -> None:
        """Say on a Ctrl-C (KeyboardInterrupt) or a cancellation that ends an attempt, as a
        timeout would, that the server may have carried out an operation that is not safe to
        retry. The interruption itself goes on (a program still stops, a task still ends)."""
        if prepared.idempotent or not _is_interruption(interruption):
            return
        note = (
            f"tycho-client: POST {self.where}{prepared.path} was interrupted after the request "
            f"may have reached the server: the server may have carried out the "
            f"{prepared.operation} anyway; check the systems' status before trying again"
        )
        notes: list[str] = getattr(interruption, "__notes__", [])
        # What add_note does, which Python 3.10 lacks (its tracebacks do not show notes).
        setattr(interruption, "__notes__", [*notes, note])  # noqa: B010


def _is_interruption(error: BaseException) -> bool:
    if isinstance(error, KeyboardInterrupt):
        return True
    # Only a program running on asyncio (or trio) can be cancelled by it; importing asyncio here
    # would cost the blocking CLI ~10 ms of its start-up (bench/run.py, P1).
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and isinstance(error, asyncio.CancelledError):
        return True
    trio = sys.modules.get("trio")
    return trio is not None and isinstance(error, trio.Cancelled)
