"""The fake's HTTP is strict: malformed requests are refused before the fake sees them.

Over raw sockets against an in-process server: each malformed request line, header, length or
chunk size is a 400 (a body past the bound a 413, a request line or header section past theirs
a 414 or 431) with a one-line text body, and the connection closes, so that what followed is
never read; well-formed requests of every framing reach the fake. A chunk size is answered before
its data is read (``tracemalloc`` shows the server's memory stays bounded). The parser itself
(:mod:`tycho_client.testing.http11`), fed arbitrary bytes, only returns or refuses.
"""

from __future__ import annotations

import io
import json
import socket
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings, strategies as st

from tycho_client.testing import FakeTycho, http11
from tycho_client.testing.server import MAX_BODY_BYTES

HEAD = b"POST /system/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"

REFUSED: dict[str, tuple[bytes, int]] = {
    "negative chunk size": (CHUNKED + b"-1\r\n{}\r\n0\r\n\r\n", 400),
    "signed chunk size": (CHUNKED + b"+2\r\n{}\r\n0\r\n\r\n", 400),
    "0x chunk size": (CHUNKED + b"0x2\r\n{}\r\n0\r\n\r\n", 400),
    "non-hex chunk size": (CHUNKED + b"zz\r\n{}\r\n0\r\n\r\n", 400),
    "chunk size of 17 digits": (CHUNKED + b"0" * 16 + b"2\r\n{}\r\n0\r\n\r\n", 400),
    "huge chunk size": (CHUNKED + b"FFFFFFFFFFFF\r\n", 413),
    "chunk size over the bound": (CHUNKED + f"{MAX_BODY_BYTES + 1:x}\r\n".encode(), 413),
    "chunk data without CRLF": (CHUNKED + b"2\r\n{}XX0\r\n\r\n", 400),
    "chunk size line in bare LF": (CHUNKED + b"2\n{}\r\n0\r\n\r\n", 400),
    "two Content-Length": (HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400),
    "Content-Length list": (HEAD + b"Content-Length: 2, 2\r\n\r\n{}", 400),
    "negative Content-Length": (HEAD + b"Content-Length: -1\r\n\r\n{}", 400),
    "signed Content-Length": (HEAD + b"Content-Length: +2\r\n\r\n{}", 400),
    "Content-Length and Transfer-Encoding": (
        HEAD + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        400,
    ),
    "gzip Transfer-Encoding": (HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
    "huge Content-Length": (HEAD + b"Content-Length: " + b"9" * 1000 + b"\r\n\r\n", 413),
    "request line without version": (b"POST /system/status\r\nHost: x\r\n\r\n", 400),
    "request line with two spaces": (b"POST  /system/status HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "HTTP/2.0 request line": (b"POST /system/status HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    "target without slash": (b"POST system/status HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "request line in bare LF": (b"POST /system/status HTTP/1.1\nHost: x\r\n\r\n", 400),
    "TLS on the plain port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    "header without colon": (HEAD + b"Content-Length 2\r\n\r\n{}", 400),
    "space before the colon": (HEAD + b"Content-Length : 2\r\n\r\n{}", 400),
    "folded header": (HEAD + b"X-Note: a\r\n b\r\nContent-Length: 2\r\n\r\n{}", 400),
    "control character in a value": (HEAD + b"X-Note: a\x00b\r\nContent-Length: 2\r\n\r\n{}", 400),
    "no Host in HTTP/1.1": (b"POST /system/status HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400),
    "two Host headers": (HEAD + b"Host: y\r\nContent-Length: 2\r\n\r\n{}", 400),
    "request line over the bound": (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n", 414),
    "too many headers": (HEAD + b"X-A: b\r\n" * 101 + b"\r\n", 431),
    "header section over the bound": (HEAD + b"X-A: " + b"b" * 70_000 + b"\r\n\r\n", 431),
    "trailer without colon": (CHUNKED + b"2\r\n{}\r\n0\r\nX-A b\r\n\r\n", 400),
}

ACCEPTED: dict[str, bytes] = {
    "Content-Length": HEAD + b"Content-Length: 2\r\n\r\n{}",
    "chunked with extensions and a trailer": (
        CHUNKED + b"1;a=b\r\n{\r\n01 ; c\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n"
    ),
    "HTTP/1.0 without Host": (
        b"POST /system/status HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    ),
    "absolute target": (
        b"POST http://x/system/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    ),
    "one empty line first": b"\r\n" + HEAD + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}",
}


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection, and no more; all the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.fixture
def served() -> Iterator[tuple[int, FakeTycho]]:
    fake = FakeTycho()
    with fake.serve() as url:
        yield int(url.rsplit(":", 1)[1]), fake


@pytest.mark.parametrize(("request_bytes", "status"), list(REFUSED.values()), ids=list(REFUSED))
def test_malformed_http_is_refused_and_the_connection_closed(
    served: tuple[int, FakeTycho], request_bytes: bytes, status: int
) -> None:
    port, fake = served
    # Two requests in one write: the connection must close after the first answer, so the
    # second is never read (it would be, were the framing guessed past the error).
    follow = b"POST /system/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    answer = exchange(port, request_bytes + follow)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert head.count(b"HTTP/1.1 ") == 1  # one answer: the follow-up was not served
    assert b"content-type: text/plain" in head.lower()
    assert body.endswith(b"\n")
    assert body.count(b"\n") == 1
    assert len(body) < 100
    assert fake.requests == []  # the fake never saw it


@pytest.mark.parametrize("request_bytes", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_well_formed_http_reaches_the_fake(
    served: tuple[int, FakeTycho], request_bytes: bytes
) -> None:
    port, fake = served
    answer = exchange(port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert json.loads(body)["status"] == "success"
    assert [r.operation for r in fake.requests] == ["status"]


def test_expect_100_continue_is_answered_before_the_body(served: tuple[int, FakeTycho]) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(HEAD + b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"{}")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")


def _stream_after(port: int, head: bytes, data: bytes) -> tuple[bytes, int]:
    """Send ``head``, then stream ``data`` until the server stops reading; its answer and how
    many bytes of ``data`` were sent before the server closed (sent, not read: kernel buffers
    take about 2.5 MB on loopback)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    try:
        sock.sendall(head)
        view = memoryview(data)
        sock.settimeout(0.5)
        while sent < len(data):
            try:
                sent += sock.send(view[sent : sent + 65536])
            except (TimeoutError, OSError):  # buffers full, or the server closed: stop pushing
                break
        sock.settimeout(10)
        return sock.recv(65536), sent
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("size_line", "status"),
    [(b"FFFFFFFFFFFF\r\n", 413), (b"-1\r\n", 400)],
    ids=["huge", "negative"],
)
def test_a_chunk_size_alone_decides_before_any_data_is_read(
    served: tuple[int, FakeTycho], size_line: bytes, status: int
) -> None:
    # The old reader believed a huge size and read -1 as "until the end": memory grew with what
    # the client sent. Now the size line is answered before a byte of its data is read.
    port, _ = served
    data = b"x" * (8 * MAX_BODY_BYTES)
    tracemalloc.start()
    try:
        answer, _ = _stream_after(port, CHUNKED + size_line, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert peak < MAX_BODY_BYTES // 2, f"the server held {peak} bytes"


def test_chunks_adding_up_past_the_bound_are_refused_as_they_come(
    served: tuple[int, FakeTycho],
) -> None:
    port, fake = served
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    data = chunk * (4 * MAX_BODY_BYTES // 0x10000)
    tracemalloc.start()
    try:
        answer, _ = _stream_after(port, CHUNKED, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert peak < 3 * MAX_BODY_BYTES, f"the server held {peak} bytes"  # the body, and a copy
    assert fake.requests == []


# ---------------------------------------------------------------- the parser, fed anything
LIMIT = 1024


def parse(data: bytes) -> bytes:
    """The server's reading of one request, on a stream instead of a socket."""
    rfile = io.BytesIO(data)
    method, target, version = http11.read_request_line(rfile)
    head = http11.RequestHead(method, target, version, http11.read_fields(rfile))
    length = http11.body_length(head, LIMIT)
    if length is None:
        return http11.read_chunked(rfile, LIMIT)
    body = rfile.read(length)
    if len(body) < length:
        raise http11.BrokenOff
    return body


PIECES = [
    b"POST / HTTP/1.1\r\n", b"GET /x HTTP/1.0\r\n", b"Host: x\r\n", b"Content-Length: 3\r\n",
    b"Transfer-Encoding: chunked\r\n", b"\r\n", b"\n", b"\r", b" ", b":", b";", b"-1", b"0",
    b"3", b"ffffffff", b"abc", b"\x00", b"\xff", b"HTTP/1.1", b"Content-Length", b"\t",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(PIECES)).map(b"".join)))
def test_the_parser_answers_whatever_it_is_fed(data: bytes) -> None:
    try:
        outcome: bytes | http11.Refused | http11.BrokenOff = parse(data)
    except (http11.Refused, http11.BrokenOff) as stopped:  # anything else fails the test
        outcome = stopped
    if isinstance(outcome, http11.Refused):
        assert outcome.status in (400, 413, 414, 431)
        assert "\n" not in outcome.reason
    elif isinstance(outcome, bytes):
        assert len(outcome) <= LIMIT


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=LIMIT),
    st.lists(st.integers(1, 64), max_size=40),
    st.sampled_from([b"", b";a", b" ; b=c", b';x="q"']),
)
def test_chunked_bodies_are_decoded_however_they_are_cut(
    body: bytes, cuts: list[int], extension: bytes
) -> None:
    framed, rest = b"", body
    for cut in cuts:
        if not rest:
            break
        piece, rest = rest[:cut], rest[cut:]
        framed += f"{len(piece):X}".encode() + extension + b"\r\n" + piece + b"\r\n"
    if rest:
        framed += f"{len(rest):x}".encode() + b"\r\n" + rest + b"\r\n"
    assert http11.read_chunked(io.BytesIO(framed + b"0\r\n\r\n"), LIMIT) == body
