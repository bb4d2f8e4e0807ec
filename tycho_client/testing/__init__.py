"""Test Tycho integrations without a cluster: a spec-validating fake Tycho API.

- :class:`FakeTycho`: an in-memory Tycho that behaves like real servers (``tycho-api`` 1.17.3),
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
- ``load_spec``, ``spec_path``, ``spec_text``: the OpenAPI document at run time (from
  :mod:`tycho_client.openapi`, which also validates against it).

The fake needs the ``testing`` extra (``pip install 'tycho-client[testing]'``, which brings
jsonschema); without it, using it raises
:class:`~tycho_client.errors.TychoMissingDependencyError` naming that command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake import FakeResponse, FakeSystem, FakeTycho, RecordedRequest, cpu_quantity
    from .plugin import NO_BACKOFF, MakeAsyncTychoClient, MakeTychoClient
    from .server import FakeTychoServer, run_forever, serve
    from .spec import load_spec, spec_path, spec_text

# Imported on first use: importing the kit must not pay for httpx, jsonschema and the fake.
_LOCATIONS = {
    **dict.fromkeys(
        ["FakeResponse", "FakeSystem", "FakeTycho", "RecordedRequest", "cpu_quantity"], "fake"
    ),
    **dict.fromkeys(["FakeTychoServer", "run_forever", "serve"], "server"),
    # The plugin imports pytest: these are for tests.
    **dict.fromkeys(["NO_BACKOFF", "MakeAsyncTychoClient", "MakeTychoClient"], "plugin"),
    **dict.fromkeys(["load_spec", "spec_path", "spec_text"], "spec"),  # re-exports openapi
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
    "cpu_quantity",
    "load_spec",
    "run_forever",
    "serve",
    "spec_path",
    "spec_text",
]


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'tycho_client.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
