"""Shared fixtures: a loopback Tycho stand-in, anyio's backend, and instant retry waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback import LoopbackServer

from tycho_client import aio, client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started :class:`loopback.LoopbackServer` with an empty script; stopped afterwards."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of both clients (retries, wait_ready), recorded instead of slept."""
    waited: list[float] = []

    def record(seconds: float) -> None:
        waited.append(seconds)

    async def record_async(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(client, "_sleep", record)
    monkeypatch.setattr(aio, "_sleep", record_async)
    return waited
