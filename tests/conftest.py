"""Shared fixtures: a loopback Tycho stand-in, anyio's backend, and instant retry waits."""

from __future__ import annotations

import functools
import inspect
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from loopback import LoopbackServer, Reply

from tycho_client import aio, client
from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient


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


class BlockingAsyncClient:
    """An :class:`AsyncTychoClient` called like a :class:`TychoClient`, for the shared suite.

    Each coroutine method runs to completion on the portal's event loop, one loop for the whole
    test, so the client's connection pool lives where it was made. Everything else (properties,
    ``format_name``, ``repr``) is the async client's own.
    """

    def __init__(self, tycho: AsyncTychoClient, portal: BlockingPortal) -> None:
        self.tycho = tycho
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.tycho, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._portal.call(functools.partial(attribute, *args, **kwargs))

        return blocking

    def with_options(self, **options: Any) -> BlockingAsyncClient:
        return BlockingAsyncClient(self.tycho.with_options(**options), self._portal)

    def __repr__(self) -> str:
        return repr(self.tycho)

    def __enter__(self) -> BlockingAsyncClient:
        assert self._portal.call(self.tycho.__aenter__) is self.tycho
        return self

    def __exit__(self, *exc: Any) -> None:
        self._portal.call(self.tycho.__aexit__, *exc)


@dataclass(frozen=True)
class Face:
    """Makes clients of one face: ``face(url, **options)`` as ``TychoClient(url, **options)``."""

    name: str
    cls: type[TychoClient] | type[AsyncTychoClient]
    portal: BlockingPortal | None = None

    def __call__(self, *args: Any, **options: Any) -> TychoClient:
        if self.portal is None:
            return TychoClient(*args, **options)
        # Made on the loop, as async code would make it; errors propagate unchanged.
        made = self.portal.call(functools.partial(AsyncTychoClient, *args, **options))
        return cast(TychoClient, BlockingAsyncClient(made, self.portal))


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> Iterator[Face]:
    """Each test using it runs twice: against TychoClient and against AsyncTychoClient."""
    if request.param == "sync":
        yield Face("sync", TychoClient)
        return
    with start_blocking_portal("asyncio") as portal:
        yield Face("async", AsyncTychoClient, portal)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LoopbackServer, Path]]:
    """A loopback server on HTTPS with a self-signed certificate; the server and that cert."""
    pytest.importorskip("cryptography")
    from k8s_fake import make_self_signed_cert

    cert, key = make_self_signed_cert(tmp_path, "tycho-loopback")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with LoopbackServer(ssl_context=context) as server:
        server.always(Reply.recorded("03"))
        yield server, cert
