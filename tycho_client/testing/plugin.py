"""pytest plugin (entry point ``pytest11: tycho_client``): fixtures wired to a fresh FakeTycho.

Fixtures:

- ``tycho_fake``: a new :class:`~tycho_client.testing.FakeTycho` for each test. Options come from
  the marker ``@pytest.mark.tycho_fake(modify_supported=False, ready_after=2, ...)``; to test
  against the tycho-api release you run, ``@pytest.mark.tycho_fake(release="1.16.1")``.
- ``tycho_client``: a :class:`~tycho_client.client.TychoClient` answering from ``tycho_fake``
  through its httpx transport (no socket).
- ``async_tycho_client``: the same as an :class:`~tycho_client.aio.AsyncTychoClient`, for
  ``@pytest.mark.anyio`` tests.
- ``make_tycho_client`` / ``make_async_tycho_client``: make clients on ``tycho_fake`` with any
  client options (``make_tycho_client(max_retries=0, deadline=2)``, typed as the constructors'
  keywords); each is closed when the test ends.
- ``tycho_server_url``: the URL of ``tycho_fake`` served on a loopback port (for code that takes
  a URL, or runs the ``tycho`` command).

The marker ``@pytest.mark.tycho_client(max_retries=0, ...)`` gives options to every client the
fixtures make in a test (on a class or a module too); what ``make_tycho_client`` is given
overrides it. The fixtures' clients retry without waiting (:data:`NO_BACKOFF`), so a test of
retry handling takes milliseconds; ``retry_policy=RetryPolicy()`` restores the real backoff.

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

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from tycho_client._config import AsyncClientKwargs, ClientKwargs
    from tycho_client._retry import RetryPolicy
    from tycho_client.aio import AsyncTychoClient
    from tycho_client.client import TychoClient

    from .fake import FakeTycho

_Client = TypeVar("_Client", "TychoClient", "AsyncTychoClient")

__all__ = [
    "NO_BACKOFF",
    "MakeAsyncTychoClient",
    "MakeTychoClient",
    "async_tycho_client",
    "make_async_tycho_client",
    "make_tycho_client",
    "tycho_client",
    "tycho_fake",
    "tycho_server_url",
]

FAKE_URL = "http://tycho.test"
"""The base URL the transport-wired clients use; no request leaves the process."""

NO_BACKOFF: RetryPolicy
"""A :class:`~tycho_client.RetryPolicy` that never waits between attempts, not even for a
``Retry-After`` the server sends (one longer than a call's deadline still fails the call at once,
as it does with any policy). The fixtures' clients use it unless given ``retry_policy``; give it
to clients you make yourself (``TychoClient(tycho_server_url, retry_policy=NO_BACKOFF)``).
What is retried, and how often, stays as in real use."""


@functools.cache
def _no_backoff() -> RetryPolicy:
    from tycho_client._retry import RetryPolicy

    return RetryPolicy(backoff_base=0, backoff_max=0, retry_after_max=0)


def __getattr__(name: str) -> Any:
    # NO_BACKOFF is made on first use: RetryPolicy's module imports httpx, which every pytest
    # run would otherwise pay for (see the module's docstring).
    if name == "NO_BACKOFF":
        return _no_backoff()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MakeTychoClient(Protocol):
    """The type of the ``make_tycho_client`` fixture, for annotating a test's parameter."""

    def __call__(self, **options: Unpack[ClientKwargs]) -> TychoClient:
        """A new client on the test's ``tycho_fake``, with ``options`` over the marker's and the
        fixture's own (``transport=tycho_fake``, ``retry_policy=NO_BACKOFF``)."""
        ...


class MakeAsyncTychoClient(Protocol):
    """The type of the ``make_async_tycho_client`` fixture, for annotating a test's parameter."""

    def __call__(self, **options: Unpack[AsyncClientKwargs]) -> AsyncTychoClient:
        """A new async client on the test's ``tycho_fake``, with ``options`` over the marker's
        and the fixture's own (``transport=tycho_fake``, ``retry_policy=NO_BACKOFF``)."""
        ...


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers (for ``--strict-markers`` and ``pytest --markers``)."""
    config.addinivalue_line(
        "markers",
        "tycho_fake(**options): options of the tycho_fake fixture's FakeTycho "
        "(modify_supported, ready_after, latency, service_ip_address, release)",
    )
    config.addinivalue_line(
        "markers",
        "tycho_client(**options): client options (max_retries, deadline, retry_policy, ...) of "
        "every client the tycho_client fixtures make in the test",
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


def _client_options(request: pytest.FixtureRequest, tycho_fake: FakeTycho) -> dict[str, Any]:
    """The options every client of this test starts from: the fake, no backoff, the marker's."""
    from tycho_client._config import OPTION_NAMES, unknown_keywords

    marker = request.node.get_closest_marker("tycho_client")
    given = dict(marker.kwargs) if marker is not None else {}
    problem = None
    if marker is not None and marker.args:
        problem = "@pytest.mark.tycho_client takes client options as keywords only"
    else:
        try:
            # A misspelt option fails the test's setup naming the marker, not at the first
            # client the test makes (whose line would then look at fault).
            unknown_keywords(given, OPTION_NAMES, "@pytest.mark.tycho_client")
        except TypeError as exc:
            problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return {"transport": tycho_fake, "retry_policy": _no_backoff(), **given}


def _maker(
    kind: Callable[..., _Client], defaults: dict[str, Any], made: list[_Client]
) -> Callable[..., _Client]:
    """What the make_* fixtures hand a test: ``kind(FAKE_URL, **options)`` over ``defaults``,
    each client kept in ``made`` for the fixture to close (typed for tests by the protocols
    :class:`MakeTychoClient`, :class:`MakeAsyncTychoClient`)."""

    def make(**options: Any) -> _Client:
        client = kind(FAKE_URL, **{**defaults, **options})
        made.append(client)
        return client

    return make


@pytest.fixture
def make_tycho_client(
    request: pytest.FixtureRequest, tycho_fake: FakeTycho
) -> Iterator[MakeTychoClient]:
    """Makes TychoClients on ``tycho_fake`` with the options it is given; closes them at the end.

    ::

        def test_one_attempt(make_tycho_client: MakeTychoClient, tycho_fake: FakeTycho):
            client = make_tycho_client(max_retries=0)
    """
    from tycho_client.client import TychoClient

    made: list[TychoClient] = []
    make = _maker(TychoClient, _client_options(request, tycho_fake), made)
    try:
        yield make
    finally:
        # ExitStack: every client is closed even if closing one fails.
        with contextlib.ExitStack() as stack:
            for client in made:
                stack.callback(client.close)


@pytest.fixture
def make_async_tycho_client(
    request: pytest.FixtureRequest, tycho_fake: FakeTycho
) -> Iterator[MakeAsyncTychoClient]:
    """Makes AsyncTychoClients on ``tycho_fake`` with the options it is given; closes them at
    the end.

    A plain fixture, and a plain function, so it needs no async fixture support: creating a
    client needs no event loop, and closing it releases nothing but the in-memory transport.
    """
    import anyio

    from tycho_client.aio import AsyncTychoClient

    made: list[AsyncTychoClient] = []
    make = _maker(AsyncTychoClient, _client_options(request, tycho_fake), made)

    async def close_all() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for client in made:
                stack.push_async_callback(client.aclose)

    try:
        yield make
    finally:
        if made:
            # The test's event loop has stopped by now; closing needs a loop of its own.
            anyio.run(close_all)


@pytest.fixture
def tycho_client(make_tycho_client: MakeTychoClient) -> TychoClient:
    """A TychoClient whose requests ``tycho_fake`` answers in memory (options: the marker)."""
    return make_tycho_client()


@pytest.fixture
def async_tycho_client(make_async_tycho_client: MakeAsyncTychoClient) -> AsyncTychoClient:
    """An AsyncTychoClient whose requests ``tycho_fake`` answers in memory (options: the
    marker)."""
    return make_async_tycho_client()


@pytest.fixture
def tycho_server_url(tycho_fake: FakeTycho) -> Iterator[str]:
    """``tycho_fake`` served over HTTP on 127.0.0.1 (a free port) for the test; its base URL."""
    with tycho_fake.serve() as url:
        yield url
