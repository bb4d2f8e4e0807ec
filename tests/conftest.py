"""Shared fixtures: a loopback Tycho stand-in, anyio's backend, and instant retry waits."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal
from faces import Face
from loopback import LoopbackServer, Reply

from tycho_client import aio, client
from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient

pytest_plugins = ["cli_fixtures"]


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
