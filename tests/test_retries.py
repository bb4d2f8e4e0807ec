"""Retry rules, proven by what a loopback server received.

status and delete (idempotent) are retried on connection errors, timeouts, 502/503/504 and 429;
start and modify only when the request surely never reached the server (the connection failed).
Every test taking ``face`` (or ``tycho``) runs against TychoClient and against AsyncTychoClient.
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from faces import Face
from loopback import LoopbackServer, Reply, closed_port, recorded_exchange

from tycho_client import aio, client
from tycho_client._retry import RetryPolicy, should_retry
from tycho_client.client import TychoClient
from tycho_client.errors import (
    TychoAPIError,
    TychoConnectionError,
    TychoRateLimitError,
    TychoServerError,
    TychoTimeoutError,
)

START = recorded_exchange("22")["request"]["json"]
MODIFY = {"tycho-guid": "b9ffda00e47c4d83b88f97f6fcf7e38e", "cpu": "1"}
GUID = "e483439d77be44d791466e05d9cc5ecc"


@pytest.fixture
def tycho(face: Face, loopback: LoopbackServer, sleeps: list[float]) -> Iterator[TychoClient]:
    with face(loopback.url, username="renci") as tycho:
        yield tycho


# --------------------------------------------------------------------- non-idempotent: once


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_start_against_a_busy_server_is_sent_once(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float], status: int
) -> None:
    loopback.always(Reply(status, b"busy", {"Retry-After": "1"}))
    with pytest.raises((TychoServerError, TychoRateLimitError)):
        tycho.start(START)
    assert loopback.paths() == ["/system/start"]
    assert sleeps == []


def test_modify_against_503_is_sent_once(tycho: TychoClient, loopback: LoopbackServer) -> None:
    loopback.always(Reply(503))
    with pytest.raises(TychoServerError):
        tycho.modify(MODIFY)
    assert loopback.paths() == ["/system/modify"]


def test_start_is_not_resent_after_the_server_read_it(
    tycho: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.always(Reply(drop=True))  # read the request, closed without answering
    with pytest.raises(TychoConnectionError) as caught:
        tycho.start(START)
    assert len(loopback.requests) == 1
    # The system may exist now: the error says so, rather than leaving an unknown orphan.
    assert "may have carried out the start" in str(caught.value)


def test_start_is_not_resent_after_a_read_timeout(face: Face, loopback: LoopbackServer) -> None:
    loopback.always(dataclasses.replace(Reply.recorded("22"), delay=1.0))
    with (
        face(loopback.url, username="renci") as tycho,
        pytest.raises(TychoTimeoutError) as caught,
    ):
        tycho.start(START, timeout=0.2)
    assert len(loopback.requests) == 1
    assert "may have carried out the start" in str(caught.value)


def test_api_errors_are_never_retried(tycho: TychoClient, loopback: LoopbackServer) -> None:
    loopback.always(Reply.recorded("26"))
    with pytest.raises(TychoAPIError):
        tycho.delete({"name": GUID})
    assert len(loopback.requests) == 1


# ---------------------------------------------------------------------- idempotent: retried


def test_status_against_503_503_200_succeeds_with_three_requests(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.add(Reply(503), Reply(503), Reply.recorded("03"))
    assert len(tycho.status().result) == 2
    assert len(loopback.requests) == 3
    # Exponential with jitter: attempt n waits within [base * 2**n / 2, base * 2**n].
    base = RetryPolicy().backoff_base
    assert base / 2 <= sleeps[0] <= base
    assert base <= sleeps[1] <= 2 * base


def test_status_gives_up_after_max_retries(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.always(Reply(503))
    with pytest.raises(TychoServerError):
        tycho.status()
    assert len(loopback.requests) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [502, 504, 429])
def test_delete_is_retried_on_transient_statuses(
    tycho: TychoClient, loopback: LoopbackServer, status: int
) -> None:
    loopback.add(Reply(status), Reply.recorded("06"))
    tycho.delete({"name": GUID})
    assert loopback.paths() == ["/system/delete", "/system/delete"]


@pytest.mark.parametrize("status", [400, 404, 500, 501])
def test_other_statuses_are_not_retried(
    tycho: TychoClient, loopback: LoopbackServer, status: int
) -> None:
    loopback.always(Reply(status))
    with pytest.raises(Exception, match=f"HTTP {status}"):
        tycho.status()
    assert len(loopback.requests) == 1


def test_status_is_retried_after_a_dropped_connection(
    tycho: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply(drop=True), Reply(drop=True), Reply.recorded("03"))
    assert len(tycho.status().result) == 2
    assert len(loopback.requests) == 3


def test_status_is_retried_after_a_read_timeout(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(dataclasses.replace(Reply.recorded("03"), delay=1.0), Reply.recorded("03"))
    policy = RetryPolicy(backoff_base=0.01)
    with face(loopback.url, retry_policy=policy) as tycho:
        assert len(tycho.status(timeout=0.2).result) == 2
    assert len(loopback.requests) == 2


# ------------------------------------------------------------------------- max_retries knob


def test_max_retries_zero_disables_retries(
    face: Face, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.always(Reply(503))
    with face(loopback.url, max_retries=0) as tycho, pytest.raises(TychoServerError):
        tycho.status()
    assert len(loopback.requests) == 1
    assert sleeps == []


def test_per_call_max_retries_overrides_the_client(
    tycho: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.always(Reply(503))
    with pytest.raises(TychoServerError):
        tycho.status(max_retries=0)
    assert len(loopback.requests) == 1
    with pytest.raises(TychoServerError):
        tycho.status(max_retries=1)
    assert len(loopback.requests) == 3


# ------------------------------------------------------------------------------ Retry-After


def test_retry_after_is_honoured(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.add(Reply(429, b"", {"Retry-After": "7"}), Reply(503, b"", {"Retry-After": "2"}))
    loopback.add(Reply.recorded("03"))
    tycho.status()
    assert sleeps == [7.0, 2.0]


def test_retry_after_as_an_http_date(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    later = email.utils.formatdate(time.time() + 10, usegmt=True)
    loopback.add(Reply(503, b"", {"Retry-After": later}), Reply.recorded("03"))
    tycho.status()
    assert 8.0 <= sleeps[0] <= 10.0


def test_retry_after_is_capped(face: Face, loopback: LoopbackServer, sleeps: list[float]) -> None:
    loopback.add(Reply(429, b"", {"Retry-After": "20"}), Reply.recorded("03"))
    policy = RetryPolicy(retry_after_max=4.0)
    with face(loopback.url, retry_policy=policy) as tycho:
        tycho.status()
    assert sleeps == [4.0]


def test_retry_after_beyond_the_deadline_fails_at_once(
    face: Face, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    # Asked to come back in an hour, with 35 s left: waiting 4 s would ignore the server.
    loopback.add(Reply(429, b"", {"Retry-After": "3600"}), Reply.recorded("03"))
    policy = RetryPolicy(retry_after_max=4.0)
    with (
        face(loopback.url, retry_policy=policy) as tycho,
        pytest.raises(TychoTimeoutError, match="retry after 3600 s"),
    ):
        tycho.status()
    assert sleeps == []


def test_unreadable_retry_after_falls_back_to_backoff(
    tycho: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.add(Reply(503, b"", {"Retry-After": "soon"}), Reply.recorded("03"))
    tycho.status()
    assert RetryPolicy().backoff_base / 2 <= sleeps[0] <= RetryPolicy().backoff_base


def test_retry_after_is_really_waited(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(Reply(503, b"", {"Retry-After": "0.3"}), Reply.recorded("03"))
    started = time.monotonic()
    with face(loopback.url) as tycho:
        tycho.status()
    assert time.monotonic() - started >= 0.3


# --------------------------------------------------------------------- connection failures


def test_connect_refused_on_start_is_retried(
    face: Face, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Nothing listens on the first attempt; the server comes up during the backoff."""
    port = closed_port()
    server = LoopbackServer(Reply.recorded("22"), port=port)

    def start_server(seconds: float) -> None:
        sleeps.append(seconds)
        server.start()

    async def start_server_async(seconds: float) -> None:
        start_server(seconds)

    monkeypatch.setattr(client, "_sleep", start_server)
    monkeypatch.setattr(aio, "_sleep", start_server_async)
    try:
        with face(f"http://127.0.0.1:{port}", username="renci") as tycho:
            response = tycho.start(START)
    finally:
        server.stop()
    assert response.result.name.startswith("minimal-")
    assert len(sleeps) == 1
    assert len(server.requests) == 1


def test_connect_refused_every_time_raises_after_all_attempts(
    face: Face, sleeps: list[float]
) -> None:
    with (
        face(f"http://127.0.0.1:{closed_port()}") as tycho,
        pytest.raises(TychoConnectionError, match="could not connect") as caught,
    ):
        tycho.start(START)
    assert len(sleeps) == 2
    assert "may have" not in str(caught.value)  # nothing was sent: nothing to check


def test_real_backoff_with_a_tiny_policy(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(Reply(502), Reply(504), Reply.recorded("03"))
    started = time.monotonic()
    with face(loopback.url, retry_policy=RetryPolicy(backoff_base=0.01)) as tycho:
        tycho.status()
    assert time.monotonic() - started < 1.0
    assert len(loopback.requests) == 3


# ---------------------------------------------------------------------- the policy itself


@pytest.mark.parametrize(
    ("error", "start", "status"),
    [
        (httpx.ConnectError("refused"), True, True),
        (httpx.ConnectTimeout("slow connect"), True, True),
        (httpx.PoolTimeout("pool"), True, True),
        (httpx.ReadTimeout("slow"), False, True),
        (httpx.WriteTimeout("slow"), False, True),
        (httpx.ReadError("reset"), False, True),
        (httpx.RemoteProtocolError("dropped"), False, True),
        (httpx.UnsupportedProtocol("gopher"), False, False),
    ],
)
def test_which_transport_errors_are_retried(error: Exception, start: bool, status: bool) -> None:
    assert should_retry(False, 0, 2, error=error) is start  # start: not idempotent
    assert should_retry(True, 0, 2, error=error) is status
    assert should_retry(True, 2, 2, error=error) is False


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=4.0)
    delays: list[Any] = [policy.backoff(attempt) for attempt in range(6)]
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert all(2.0 <= delay <= 4.0 for delay in delays[3:])
    assert len({policy.backoff(3) for _ in range(20)}) > 1  # jittered


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="backoff_base"):
        RetryPolicy(backoff_base=-1)
