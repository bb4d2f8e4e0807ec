"""``client.with_raw_response``: the HTTP answer behind a model, as openai-python gives it.

``client.with_raw_response.status()`` sends exactly what ``client.status()`` sends and returns a
:class:`RawResponse`: the :class:`httpx.Response` (status, headers, body) and
:meth:`~RawResponse.parse` for the model. The wrappers keep each operation's signature
(``ParamSpec``), so type checkers and IDEs see the same parameters; they mark the call through a
context variable, which the face's last step reads to hand back the answer instead of parsing it.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import httpx
from typing_extensions import ParamSpec

__all__ = ["RawResponse", "raw_requested", "to_raw", "to_raw_async"]

T = TypeVar("T")
P = ParamSpec("P")

_RAW: contextvars.ContextVar[bool] = contextvars.ContextVar("tycho_client_raw", default=False)


def raw_requested() -> bool:
    """Whether the operation running now was called through ``with_raw_response``."""
    return _RAW.get()


class RawResponse(Generic[T]):
    """A successful (2xx) HTTP answer and the model it parses into.

    Non-2xx answers still raise :class:`~tycho_client.TychoHTTPError` (which carries the
    response); ``"status": "error"`` bodies raise :class:`~tycho_client.TychoAPIError` from
    :meth:`parse`.
    """

    def __init__(self, http_response: httpx.Response, parse: Callable[[], T]) -> None:
        self.http_response = http_response
        """The :class:`httpx.Response` as received."""
        self._parse = parse

    @property
    def status_code(self) -> int:
        """The HTTP status code."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        """The response body."""
        return self.http_response.content

    @property
    def text(self) -> str:
        """The response body as text."""
        return self.http_response.text

    @functools.cached_property
    def _parsed(self) -> T:
        return self._parse()

    def parse(self) -> T:
        """The model the plain call returns (parsed once; raises what the plain call raises)."""
        return self._parsed

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}]>"


def to_raw(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """``method`` (a sync operation), returning its :class:`RawResponse` instead of its model."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = _RAW.set(True)
        try:
            return cast("RawResponse[T]", method(*args, **kwargs))
        finally:
            _RAW.reset(token)

    return wrapped


def to_raw_async(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """``method`` (an async operation), returning its :class:`RawResponse` instead of its model."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = _RAW.set(True)
        try:
            result: Any = await method(*args, **kwargs)
            return cast("RawResponse[T]", result)
        finally:
            _RAW.reset(token)

    return wrapped
