"""Both faces behind one calling convention, for the suite that runs on each.

``Face("async", ...)(url, **options)`` makes an :class:`AsyncTychoClient` and hands it back wrapped
so that the same test body calls it like a :class:`TychoClient` (the ``face`` fixture in
conftest.py makes both). A module of its own, not conftest.py: tests/realserver has a conftest
too, and ``from conftest import`` would find either.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, cast

from anyio.from_thread import BlockingPortal

from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient

__all__ = ["BlockingAsyncClient", "Face"]


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
