"""Strict HTTP/1.1 request parsing for the fake's loopback server (RFC 9110 and 9112).

``http.server`` accepts folded and colon-less header lines, any text as a request version, and
leaves the body and its framing to its caller; the fake's server reads requests with these
functions instead. Each one reads from a buffered binary stream with every read bounded, and
either returns or raises :class:`Refused` (the answer to send, then close) or :class:`BrokenOff`
(the client closed the connection mid-request). Nothing else, whatever the bytes: a test feeds
them arbitrary input.

What is refused: a request line other than ``METHOD target HTTP/1.0|1.1`` (a token, a target
starting with ``/`` or absolute, one space between), a line ending in a bare LF, a header name
that is not a token, a header line without a colon or folded onto the previous one, a control
character in a value, a missing or repeated ``Host`` in HTTP/1.1, both ``Content-Length`` and
``Transfer-Encoding``, two ``Content-Length`` values or one that is not plain digits, a transfer
coding other than ``chunked``, and a chunk size that is not 1 to 16 hexadecimal digits (no sign,
no ``0x``) or whose data is not followed by CRLF. Chunk extensions are read and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BufferedIOBase

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_REQUEST_LINE_BYTES",
    "BrokenOff",
    "Refused",
    "RequestHead",
    "body_length",
    "keeps_alive",
    "read_chunked",
    "read_fields",
    "read_request_line",
]

MAX_REQUEST_LINE_BYTES = 16 * 1024
"""A longer request line is refused (414)."""
MAX_HEADER_BYTES = 64 * 1024
"""Larger header sections (and trailer sections of chunked bodies) are refused (431)."""
MAX_HEADERS = 100
"""More header (or trailer) fields are refused (431)."""
_CHUNK_LINE_BYTES = 1024
"""A chunk-size line with its extensions: longer is refused (400)."""
TOO_LARGE = "request body too large"

# The grammar's pieces. None of these patterns can backtrack more than linearly: the token and
# target classes exclude the space that separates them, and field values are not matched by a
# pattern at all.
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/1\.([01])\r\n")
_FIELD_NAME = re.compile(_TOKEN)
_NOT_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but HTAB (RFC 9110 5.5)
_ABSOLUTE_TARGET = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*://")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?\r\n")


class Refused(Exception):
    """A request the server answers itself, before the fake sees it: ``status`` (400, 413, 414
    or 431) and a short ``reason`` that quotes nothing the client sent. The connection is closed
    after the answer: what follows on the wire cannot be trusted to start a request."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BrokenOff(Exception):
    """The client closed the connection in the middle of a request."""


@dataclass(frozen=True)
class RequestHead:
    """A request line and its header fields (names in lower case, in the order sent)."""

    method: str
    target: str
    version: str
    fields: tuple[tuple[str, str], ...]

    def values(self, name: str) -> list[str]:
        """Every value of the field ``name`` (lower case), in the order sent."""
        return [value for key, value in self.fields if key == name]


def _line(rfile: BufferedIOBase, limit: int, too_long: Refused) -> bytes:
    """One line of at most ``limit`` bytes, CRLF included: the bound holds while reading."""
    line = rfile.readline(limit + 1)
    if len(line) > limit:
        raise too_long
    if not line.endswith(b"\n"):
        raise BrokenOff
    if not line.endswith(b"\r\n"):
        raise Refused(400, "a line ends in LF without CR: HTTP lines end in CRLF")
    return line


def read_request_line(rfile: BufferedIOBase) -> tuple[str, str, str]:
    """``(method, target, version)`` of the request line."""
    too_long = Refused(414, "request line too long")
    line = _line(rfile, MAX_REQUEST_LINE_BYTES, too_long)
    if line == b"\r\n":  # RFC 9112 2.2: one empty line before a request line may be ignored
        line = _line(rfile, MAX_REQUEST_LINE_BYTES, too_long)
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise Refused(400, "malformed request line: expected METHOD /path HTTP/1.1")
    method, target = match[1].decode("ascii"), match[2]
    if not (
        target.startswith(b"/")
        or _ABSOLUTE_TARGET.match(target)
        or (target == b"*" and method == "OPTIONS")
    ):
        raise Refused(400, "malformed request target: expected a path starting with /")
    return method, target.decode("ascii"), f"HTTP/1.{match[3].decode('ascii')}"


def read_fields(rfile: BufferedIOBase, section: str = "header") -> tuple[tuple[str, str], ...]:
    """A header (or trailer) section, up to and including its empty line: at most
    ``MAX_HEADERS`` fields in ``MAX_HEADER_BYTES``. Values are decoded as Latin-1, as
    ``http.client`` does, with the optional whitespace around them removed."""
    too_large = Refused(431, f"{section} section too large")
    fields: list[tuple[str, str]] = []
    size = 0
    while True:
        line = _line(rfile, MAX_HEADER_BYTES - size, too_large)
        size += len(line)
        if line == b"\r\n":
            return tuple(fields)
        if len(fields) == MAX_HEADERS:
            raise Refused(431, f"too many {section} fields")
        if line[:1] in (b" ", b"\t"):
            raise Refused(400, f"a {section} line is folded onto the previous one")
        name, colon, value = line[:-2].partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise Refused(400, f"malformed {section} line: expected Name: value")
        if _NOT_IN_VALUE.search(value):
            raise Refused(400, f"a control character in a {section} value")
        fields.append((name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))


def body_length(head: RequestHead, limit: int) -> int | None:
    """The body's length from ``Content-Length`` (0 without one), or ``None`` when it is chunked.

    Refuses what two parsers could read two ways (request smuggling): both headers, two lengths,
    a length that is not plain digits, a coding other than ``chunked``; and a missing or repeated
    ``Host`` in HTTP/1.1. A length over ``limit`` is refused (413) before any of it is read.
    """
    hosts = head.values("host")
    if len(hosts) > 1 or (head.version == "HTTP/1.1" and not hosts):
        raise Refused(400, "an HTTP/1.1 request has exactly one Host header")
    lengths, codings = head.values("content-length"), head.values("transfer-encoding")
    if lengths and codings:
        raise Refused(400, "both Content-Length and Transfer-Encoding")
    if codings:
        if head.version == "HTTP/1.0":
            raise Refused(400, "Transfer-Encoding in an HTTP/1.0 request")
        if len(codings) > 1 or codings[0].lower() != "chunked":
            raise Refused(400, "unsupported Transfer-Encoding: only chunked is read")
        return None
    if len(lengths) > 1:
        raise Refused(400, "more than one Content-Length")
    if not lengths:
        return 0
    text = lengths[0]
    if not (text.isascii() and text.isdigit()):
        raise Refused(400, "Content-Length is not a number of bytes")
    if len(text) > len(str(limit)) or int(text) > limit:  # no int() of a thousand digits
        raise Refused(413, TOO_LARGE)
    return int(text)


def read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    """A chunked body, decoded. ``limit`` bounds the decoded body (a chunk that would pass it
    is refused, 413, before it is read) and, separately, the framing around it."""
    body = bytearray()
    framing = 0
    while True:
        line = _line(rfile, _CHUNK_LINE_BYTES, Refused(400, "chunk size line too long"))
        framing += len(line)
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise Refused(400, "malformed chunk size: expected hexadecimal digits")
        size = int(match[1], 16)
        if size == 0:
            read_fields(rfile, "trailer")  # bounded and checked like headers, then ignored
            return bytes(body)
        if len(body) + size > limit or framing > limit:
            raise Refused(413, TOO_LARGE)
        data = rfile.read(size)
        if len(data) < size:
            raise BrokenOff
        body += data
        end = rfile.read(2)
        if len(end) < 2:
            raise BrokenOff
        if end != b"\r\n":
            raise Refused(400, "chunk data not followed by CRLF: the chunk size is wrong")
        framing += 2


def keeps_alive(head: RequestHead) -> bool:
    """Whether the connection stays open after this request's answer (RFC 9112 9.3)."""
    tokens = {t.strip().lower() for value in head.values("connection") for t in value.split(",")}
    if "close" in tokens:
        return False
    return head.version == "HTTP/1.1" or "keep-alive" in tokens
