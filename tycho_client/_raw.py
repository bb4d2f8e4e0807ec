"""The HTTP answer behind a model, as openai-python gives it: :class:`RawResponse`.

Every call first receives a :class:`RawResponse`; the plain methods return its :meth:`parse`, and
``client.with_raw_response.<operation>(...)`` (the raw views at the end of ``aio.py`` and
``client.py``) returns it as is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Generic, TypeVar

import httpx

from . import _publish

__all__ = ["RawResponse", "readable"]

T = TypeVar("T")


def readable(response: httpx.Response, content: bytes) -> httpx.Response:
    """A streamed (and closed) ``response`` again, with its decoded ``content`` read."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    copy = httpx.Response(
        response.status_code, headers=headers, content=content, request=response.request
    )
    copy.read()
    return copy


class RawResponse(Generic[T]):
    """A successful (2xx) HTTP answer and the model it parses into.

    Non-2xx answers still raise :class:`~tycho_client.TychoHTTPError` (which carries the
    response); ``"status": "error"`` bodies raise :class:`~tycho_client.TychoAPIError` from
    :meth:`parse`.
    """

    def __init__(self, response: httpx.Response, content: bytes, parse: Callable[[], T]) -> None:
        self._response = response
        self._content = content
        self._parse = parse

    @functools.cached_property
    def http_response(self) -> httpx.Response:
        """The :class:`httpx.Response` as received, its (decoded) body read."""
        # Made on demand: the plain methods never look, and a copy costs a few microseconds.
        return readable(self._response, self._content)

    @property
    def status_code(self) -> int:
        """The HTTP status code."""
        return self._response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self._response.headers

    @property
    def content(self) -> bytes:
        """The response body (decoded)."""
        return self._content

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


_publish(__name__, globals())
