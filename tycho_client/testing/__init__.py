"""Test Tycho integrations without a cluster: a spec-validating fake Tycho API.

- :class:`FakeTycho`: an in-memory Tycho that behaves like a real server (``tycho-api`` 1.17.3, or
  the release given as ``release=``),
  checks every request against ``openapi/tycho.yaml`` and answers only as the document allows.
  It is an httpx transport, sync and async::

      client = TychoClient("http://tycho.test", transport=FakeTycho())

  and a loopback HTTP server::

      with FakeTycho().serve() as url:
          TychoClient(url).status()

- A pytest plugin (installed with the package) with the fixtures ``tycho_fake``,
  ``tycho_client``, ``async_tycho_client``, ``make_tycho_client``, ``make_async_tycho_client``
  and ``tycho_server_url``; ``MakeTychoClient`` and ``MakeAsyncTychoClient`` type the two
  ``make_`` fixtures, and ``NO_BACKOFF`` is the retry policy of their clients (no waits).

The OpenAPI document itself, and validation against it, are :mod:`tycho_client.openapi`.

The fake needs the ``testing`` extra (``pip install 'tycho-client[testing]'``, which brings
jsonschema); without it, using it raises
:class:`~tycho_client.errors.TychoMissingDependencyError` naming that command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tycho_client import _lazy

if TYPE_CHECKING:
    from .fake import FakeResponse, FakeTycho
    from .plugin import NO_BACKOFF, MakeAsyncTychoClient, MakeTychoClient
    from .server import FakeTychoServer, run_forever, serve
    from .state import FakeSystem, RecordedRequest

# Imported on first use: importing the kit must not pay for httpx, jsonschema and the fake.
_LOCATIONS = {
    **dict.fromkeys(["FakeResponse", "FakeTycho"], "fake"),
    **dict.fromkeys(["FakeSystem", "RecordedRequest"], "state"),
    **dict.fromkeys(["FakeTychoServer", "run_forever", "serve"], "server"),
    # The plugin imports pytest: these are for tests.
    **dict.fromkeys(["NO_BACKOFF", "MakeAsyncTychoClient", "MakeTychoClient"], "plugin"),
}

__all__ = [
    "NO_BACKOFF",
    "FakeResponse",
    "FakeSystem",
    "FakeTycho",
    "FakeTychoServer",
    "MakeAsyncTychoClient",
    "MakeTychoClient",
    "RecordedRequest",
    "run_forever",
    "serve",
]


__getattr__: Callable[[str], Any] = _lazy(__name__, _LOCATIONS)


def __dir__() -> list[str]:
    return sorted(__all__)
