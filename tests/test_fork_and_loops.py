"""A client survives the ways real services run it: forked after use, and across event loops.

The fork test runs in a process of its own (forking pytest's would copy its threads): a client
makes one call, the process forks (gunicorn's ``--preload``, multiprocessing's ``fork``), and
parent and child then call at the same time, each asking for its own system. Over shared
connections each would read answers meant for the other.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import httpx
import pytest

from tycho_client import AsyncTychoClient, TychoClient
from tycho_client.testing import FakeTycho

COMPOSE = {"services": {"web": {"image": "nginx:1.25", "ports": ["80"]}}}

FORKED_CALLS = textwrap.dedent(
    """
    import os, sys
    from tycho_client import TychoClient

    url, mine, theirs = sys.argv[1], sys.argv[2], sys.argv[3]
    client = TychoClient(url, max_retries=0)
    client.status()  # a kept-alive connection, inherited by the child
    child = os.fork()
    guid = theirs if child == 0 else mine
    wrong = 0
    for _ in range(150):
        names = [system.sid for system in client.status({"name": guid}).result]
        wrong += names != [guid]
    if child == 0:
        os._exit(0 if wrong == 0 else 1)
    _, status = os.waitpid(child, 0)
    print(wrong, os.waitstatus_to_exitcode(status))
    """
)


@pytest.fixture
def served() -> Iterator[tuple[str, list[str]]]:
    fake = FakeTycho()
    with fake.serve() as url, TychoClient(url) as tycho:
        guids = [tycho.up(name, COMPOSE).result.sid for name in ("parent", "child")]
        yield url, guids


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_a_forked_child_never_shares_the_parents_connections(
    served: tuple[str, list[str]],
) -> None:
    url, (mine, theirs) = served
    done = subprocess.run(
        [sys.executable, "-c", FORKED_CALLS, url, mine, theirs],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Wrong answers seen by the parent, and the child's exit code (1: it saw wrong answers).
    assert done.stdout.split() == ["0", "0"], done.stderr


def test_one_async_client_across_several_asyncio_runs(served: tuple[str, list[str]]) -> None:
    url, guids = served
    client = AsyncTychoClient(url)
    for _ in range(3):
        systems = asyncio.run(client.list(terse=True))
        assert sorted(systems) == sorted(guids)
    asyncio.run(client.aclose())


def test_one_async_client_on_two_loops_at_once(served: tuple[str, list[str]]) -> None:
    url, guids = served
    client = AsyncTychoClient(url, max_concurrency=1)
    seen: list[list[str]] = []

    async def calls() -> None:
        for _ in range(20):
            seen.append(sorted(await client.list(terse=True)))

    other = threading.Thread(target=asyncio.run, args=(calls(),))
    other.start()
    asyncio.run(calls())
    other.join(timeout=60)
    assert not other.is_alive()
    assert seen == [sorted(guids)] * 40


# ----------------------------------------------------------------------------- interruptions

START = {"name": "web", "system": COMPOSE}
MAY_HAVE = "the server may have carried out the start anyway"


class Interrupted(httpx.BaseTransport):
    """Ctrl-C arriving while the request is on its way."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt


def test_ctrl_c_during_a_start_says_the_start_may_have_taken_effect() -> None:
    with TychoClient("http://tycho.test", transport=Interrupted()) as tycho:
        with pytest.raises(KeyboardInterrupt) as start:
            tycho.start(START)
        with pytest.raises(KeyboardInterrupt) as status:
            tycho.status()
    assert any(MAY_HAVE in note for note in getattr(start.value, "__notes__", []))
    assert not getattr(status.value, "__notes__", [])  # a status is safe to repeat


def test_a_cancelled_start_says_it_may_have_taken_effect() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:  # accepts, never answers
        url = f"http://127.0.0.1:{listening.getsockname()[1]}"

        async def cancelled_start() -> BaseException:
            async with AsyncTychoClient(url) as tycho:
                task = asyncio.create_task(tycho.start(START))
                await asyncio.sleep(0.3)
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError as cancelled:
                    return cancelled
            raise AssertionError("the start was not cancelled")

        cancelled = asyncio.run(cancelled_start())
    # Python 3.10 gives the awaiting code a new CancelledError, the task's own as its context.
    chain = [cancelled, cancelled.__context__]
    assert any(MAY_HAVE in note for error in chain for note in getattr(error, "__notes__", []))
