"""What is retried, when, and how long to wait in between.

Operations the document marks safe to repeat (``x-safe-to-retry``: ``status``, ``delete``) are
retried on connection errors, timeouts, 502/503/504 and 429. The others (``start``, ``modify``)
are retried only when the request surely never left (no connection was made): a second ``start``
would start a second system.
"""

from __future__ import annotations

import email.utils
import math
import random
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

import httpx

from . import _publish

__all__ = ["RETRY_AFTER_STATUSES", "RetryPolicy", "retry_after", "should_retry", "surely_not_sent"]

# Answers that say "try again later" rather than "this request is wrong".
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
RETRY_AFTER_STATUSES: Final = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts.

    Attempt ``n`` (0-based) waits ``backoff_base * 2**n`` seconds, capped at ``backoff_max``, of
    which the upper half is random (jitter, so many clients do not retry in step). A 429 or 503
    with ``Retry-After`` waits what the server asked, capped at ``retry_after_max``.
    """

    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0

    def __post_init__(self) -> None:
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"RetryPolicy.{name} must be a finite number >= 0")

    def backoff(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        if response is not None and response.status_code in RETRY_AFTER_STATUSES:
            asked = retry_after(response)
            if asked is not None:
                return min(asked, self.retry_after_max)
        delay = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not crypto


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date), or None if absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def surely_not_sent(error: Exception) -> bool:
    """Whether the request cannot have reached the server (no connection was made)."""
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _is_certificate_error(error: Exception) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def should_retry(
    idempotent: bool,
    attempt: int,
    max_retries: int,
    *,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> bool:
    """Whether attempt ``attempt`` (0-based) of a request deserves another try."""
    if attempt >= max_retries:
        return False
    if error is not None:
        if surely_not_sent(error):
            # Safe for every operation. A TLS verification failure is also a ConnectError,
            # but retrying it cannot help.
            return not _is_certificate_error(error)
        return idempotent and isinstance(
            error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
        )
    return response is not None and idempotent and response.status_code in RETRY_STATUSES


_publish(__name__, globals())
