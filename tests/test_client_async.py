"""What only AsyncTychoClient has: httpx.AsyncClient, aclose, cancellation, concurrent calls.

The behaviours both faces share are tested once, against both, in test_client.py and
test_retries.py (the ``face`` fixture). These tests run natively under anyio, on asyncio and on
trio (the client claims both; trio where installed), over a real loopback HTTP server.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest
from loopback import LoopbackServer, Recorded, Reply

from tycho_client.aio import AsyncTychoClient
from tycho_client.errors import TychoConnectionError
from tycho_client.models import StatusResponse

pytestmark = pytest.mark.anyio


@pytest.fixture(
    params=[
        "asyncio",
        pytest.param(
            "trio",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("trio") is None, reason="trio is not installed"
            ),
        ),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_given_http_client_is_used_and_left_open(loopback: LoopbackServer) -> None:
    """The twin of test_client.py's test for an httpx.Client."""
    loopback.add(Reply.recorded("03"))
    async with httpx.AsyncClient() as http:
        async with AsyncTychoClient(loopback.url, http_client=http) as tycho:
            assert tycho.http_client is http
            await tycho.status()
        assert not http.is_closed
        with pytest.raises(ValueError, match="http_client"):
            AsyncTychoClient(loopback.url, http_client=http, verify=False)
    assert len(loopback.requests) == 1


async def test_aclose_and_close_close_only_the_pool_the_client_owns(
    loopback: LoopbackServer,
) -> None:
    loopback.add(Reply.recorded("03"))
    tycho = AsyncTychoClient(loopback.url)
    copy_ = tycho.with_options(max_retries=0)
    await copy_.aclose()  # a copy shares the pool: it does not close it
    assert not tycho.http_client.is_closed
    await copy_.status()
    await tycho.aclose()
    assert tycho.http_client.is_closed
    other = AsyncTychoClient(loopback.url)
    await other.close()  # the spelling both faces share
    assert other.http_client.is_closed
    assert len(loopback.requests) == 1


async def test_a_cancelled_call_stops_at_once_and_the_client_stays_usable(
    loopback: LoopbackServer,
) -> None:
    loopback.add(dataclasses.replace(Reply.recorded("03"), delay=2.0), Reply.recorded("03"))
    async with AsyncTychoClient(loopback.url) as tycho:
        started = time.monotonic()
        with anyio.move_on_after(0.2) as scope:
            await tycho.status()
        # Cancellation is neither retried nor turned into a TychoError: it just propagates.
        assert scope.cancelled_caught
        assert time.monotonic() - started < 1.5
        assert len((await tycho.status()).result) == 2
    assert len(loopback.requests) == 2


async def test_the_wait_between_retries_can_be_cancelled(loopback: LoopbackServer) -> None:
    loopback.always(Reply(503, b"", {"Retry-After": "5"}))
    started = time.monotonic()
    async with AsyncTychoClient(loopback.url) as tycho:
        with anyio.move_on_after(0.3) as scope:
            await tycho.status()
    assert scope.cancelled_caught
    assert time.monotonic() - started < 2.0  # the 5 s wait did not block the loop
    assert len(loopback.requests) == 1  # no retry after the cancellation


async def test_calls_from_several_tasks_run_at_the_same_time(loopback: LoopbackServer) -> None:
    # The server answers only once all three requests are in: calls sent one after another
    # would break the barrier (after 5 s) and get a 599.
    arrived = threading.Barrier(3, timeout=5)

    def when_all_three_are_in(_request: Recorded) -> Reply:
        try:
            arrived.wait()
        except threading.BrokenBarrierError:
            return Reply.text("the requests came one at a time", 599)
        return Reply.recorded("03")

    answers: list[StatusResponse] = []
    with LoopbackServer(handler=when_all_three_are_in) as server:
        async with AsyncTychoClient(server.url, max_retries=0) as tycho:

            async def one_status() -> None:
                answers.append(await tycho.status())

            async with anyio.create_task_group() as tasks:
                for _ in range(3):
                    tasks.start_soon(one_status)
    assert [len(answer.result) for answer in answers] == [2, 2, 2]
    assert len(server.requests) == 3


async def test_a_certificate_failure_is_not_retried_and_says_why(
    request: pytest.FixtureRequest,
    anyio_backend: str,
    tls_server: tuple[LoopbackServer, Path],
    sleeps: list[float],
) -> None:
    server, _cert = tls_server
    async with AsyncTychoClient(server.url) as tycho:
        with pytest.raises(TychoConnectionError) as caught:
            await tycho.status()
    assert sleeps == []
    assert server.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
