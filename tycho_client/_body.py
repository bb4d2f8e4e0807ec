"""An answer's body: read within a size bound and before the call's deadline, parsed strictly.

:class:`BodyReader` decompresses by itself so that the bound counts decoded bytes; JSON is
parsed strictly (:func:`load_json`: a key twice in one object is an error, since two readers
could see two answers).
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any, Final

import httpx

from .build import PreparedRequest
from .errors import TychoResponseError, escape_controls

__all__ = ["BodyReader", "DuplicateKey", "check_unique_keys", "load_json"]

_DECODE_STEP: Final = 1 << 20
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZLIB_OR_GZIP_WBITS: Final = 32 + zlib.MAX_WBITS


class BodyReader:
    """An answer's body, read chunk by chunk within a size bound and before a deadline.

    The faces feed it raw chunks (``iter_raw``); it decodes ``gzip`` and ``deflate`` itself with
    ``max_length``, so a small compressed body cannot inflate past ``limit`` even for a moment.
    (httpx's own decoder inflates each network chunk whole: measured on a 1 GiB gzip bomb, one
    63 MiB chunk at once and a 203 MiB peak, against 64 MiB + 16 MiB here; bench/README.md.)
    A ``Content-Length`` over the limit fails before anything is read.
    """

    __slots__ = (
        "_chunks",
        "_decoder",
        "_ends_at",
        "_limit",
        "_prepared",
        "_response",
        "_size",
        "_where",
    )

    def __init__(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        where: str,
        limit: int,
        ends_at: float,
    ) -> None:
        self._prepared = prepared
        self._where = where
        self._response = response
        self._limit = limit
        self._ends_at = ends_at
        self._chunks: list[bytes] = []
        self._size = 0
        self._decoder: Any = None
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and len(declared) < 30 and int(declared) > limit:
            raise self._too_big(f"announces {int(declared)} bytes")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding == "gzip" or encoding == "x-gzip":
            self._decoder = zlib.decompressobj(_GZIP_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj(_ZLIB_OR_GZIP_WBITS)
        elif encoding not in ("identity", ""):
            # We ask for gzip or deflate only (Accept-Encoding).
            raise self._unreadable(f"Content-Encoding {escape_controls(encoding)!r}")

    def feed(self, chunk: bytes) -> None:
        """Take one raw chunk; raise once the body is over the limit or the deadline passed."""
        if time.monotonic() > self._ends_at:
            raise httpx.ReadTimeout("the call's deadline passed while reading the body")
        if self._decoder is None:
            self._add(chunk)
            return
        try:
            data = chunk
            while data:
                # In steps of at most 1 MiB: one large step would allocate it all at once.
                step = min(self._limit - self._size + 1, _DECODE_STEP)
                self._add(self._decoder.decompress(data, step))
                data = self._decoder.unconsumed_tail
        except zlib.error:
            raise self._unreadable("a compressed body that does not decompress") from None

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise self._too_big("is longer")
        if data:
            self._chunks.append(data)

    def already_read(self, content: bytes) -> bytes:
        """The body of an answer a transport handed over read and decoded (a fake, a mock)."""
        self._decoder = None
        self._add(content)
        return content

    def body(self) -> bytes:
        """The whole decoded body."""
        if self._decoder is not None:
            try:
                self._add(self._decoder.flush())
            except zlib.error:
                raise self._unreadable("a compressed body that does not decompress") from None
        return b"".join(self._chunks)

    def _too_big(self, how: str) -> TychoResponseError:
        return self._unreadable(
            f"a body that {how} than the {self._limit} bytes allowed (max_response_bytes)"
        )

    def _unreadable(self, problem: str) -> TychoResponseError:
        prepared, response = self._prepared, self._response
        return TychoResponseError(
            f"POST {self._where}{prepared.path} answered HTTP {response.status_code} with "
            f"{problem}",
            operation=prepared.operation,
            status_code=response.status_code,
        )


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(key)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(body: bytes) -> Any:
    """``body`` as JSON, strictly: no key twice in an object, no NaN or Infinity.

    Raises ``DuplicateKey`` or another ``ValueError``; ``RecursionError`` for absurd nesting.
    """
    return json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)


# An exact check costs more than pydantic's whole parse (0.2 ms for 100 systems, 30 KB): small
# answers (start, delete, modify, a few systems) get it; larger ones the envelope check below.
_EXACT_CHECK_BYTES: Final = 16 * 1024
_ENVELOPE_KEYS: Final = (b'"status"', b'"result"', b'"message"')


def check_unique_keys(body: bytes) -> None:
    """Raise ``DuplicateKey`` if an object of ``body`` has a key twice (or a JSON error).

    Every object is checked in bodies up to 16 KiB. A larger body (a status of dozens of
    systems or more) is parsed only by pydantic, so it is checked as text, at memchr speed
    (about 4 ms for 10,000 systems, a tenth of pydantic's parse): none of the envelope's keys,
    which decide success or error, may appear twice anywhere (when one does, or when ``\\u00``
    escapes could spell one, the exact check runs after all).
    """
    if (
        len(body) <= _EXACT_CHECK_BYTES
        # A backslash is rare and found at memchr speed; "\\u" itself is slow to search for.
        or (b"\\" in body and b"\\u00" in body)
        or any(body.count(key) > 1 for key in _ENVELOPE_KEYS)
    ):
        load_json(body)
