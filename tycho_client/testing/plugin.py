"""pytest plugin (entry point ``pytest11: tycho_client``): fixtures wired to a fresh FakeTycho.

Fixtures:

- ``tycho_fake``: a new :class:`~tycho_client.testing.FakeTycho` for each test. Options come from
  the marker ``@pytest.mark.tycho_fake(modify_supported=False, ready_after=2, ...)``; to test
  against the tycho-api release you run, ``@pytest.mark.tycho_fake(release="1.16.1")``.
- ``tycho_client``: a :class:`~tycho_client.client.TychoClient` answering from ``tycho_fake``
  through its httpx transport (no socket).
- ``async_tycho_client``: the same as an :class:`~tycho_client.aio.AsyncTychoClient`, for
  ``@pytest.mark.anyio`` tests.
- ``tycho_server_url``: the URL of ``tycho_fake`` served on a loopback port (for code that takes
  a URL, or runs the ``tycho`` command).

A user's test::

    def test_my_service_starts_jupyter(tycho_client, tycho_fake):
        started = tycho_client.up("jupyter", {"services": {"nb": {"image": "jupyter/base-notebook",
                                                                    "ports": ["8888"]}}})
        assert tycho_fake.systems[started.result.sid].app_id == "jupyter"

This module is imported by every pytest run in an environment where tycho-client is installed, so
it imports nothing heavy at module level, and registers without the ``testing`` extra: a test
that uses a fixture without it fails saying ``pip install 'tycho-client[testing]'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tycho_client.aio import AsyncTychoClient
    from tycho_client.client import TychoClient

    from .fake import FakeTycho

__all__ = ["async_tycho_client", "tycho_client", "tycho_fake", "tycho_server_url"]

FAKE_URL = "http://tycho.test"
"""The base URL the transport-wired clients use; no request leaves the process."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tycho_fake(**options): options of the tycho_fake fixture's FakeTycho "
        "(modify_supported, ready_after, latency, service_ip_address, release)",
    )


@pytest.fixture
def tycho_fake(request: pytest.FixtureRequest) -> FakeTycho:
    """A fresh in-memory Tycho API; ``@pytest.mark.tycho_fake(...)`` passes its options."""
    from tycho_client.errors import TychoMissingDependencyError

    try:
        from .fake import FakeTycho
    except TychoMissingDependencyError as exc:  # the core install, without the testing extra
        missing = f"the tycho_fake fixture: {exc}"
    else:
        marker = request.node.get_closest_marker("tycho_fake")
        options = dict(marker.kwargs) if marker is not None else {}
        return FakeTycho(**options)
    pytest.fail(missing, pytrace=False)  # outside the except: one line, no exception chain


@pytest.fixture
def tycho_client(tycho_fake: FakeTycho) -> Iterator[TychoClient]:
    """A TychoClient whose requests ``tycho_fake`` answers in memory."""
    from tycho_client.client import TychoClient

    client = TychoClient(FAKE_URL, transport=tycho_fake)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def async_tycho_client(tycho_fake: FakeTycho) -> Iterator[AsyncTychoClient]:
    """An AsyncTychoClient whose requests ``tycho_fake`` answers in memory.

    A plain fixture, so it needs no async fixture support: creating the client needs no event
    loop, and closing it releases nothing but the in-memory transport.
    """
    import anyio

    from tycho_client.aio import AsyncTychoClient

    client = AsyncTychoClient(FAKE_URL, transport=tycho_fake)
    try:
        yield client
    finally:
        # The test's event loop has stopped by now; closing needs a loop of its own.
        anyio.run(client.aclose)


@pytest.fixture
def tycho_server_url(tycho_fake: FakeTycho) -> Iterator[str]:
    """``tycho_fake`` served over HTTP on 127.0.0.1 (a free port) for the test; its base URL."""
    with tycho_fake.serve() as url:
        yield url
