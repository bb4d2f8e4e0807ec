"""A loopback HTTP server that misbehaves on purpose: real sockets on 127.0.0.1, in threads.

    with FaultServer(trickle_body(interval=0.2)) as server:
        TychoClient(server.url, deadline=1).status()   # -> TychoTimeoutError within ~1 s

A behaviour is a function of one accepted :class:`Connection`; the factories below make the
faults a hostile or broken server shows (trickled headers or bodies, a huge ``Retry-After``, a
gzip bomb, a huge ``Content-Length``, duplicate keys, resets, control characters). Everything is
bounded in time: the server stops by itself after ``lifetime`` seconds, every trickle ends when
the server stops or the client leaves, and :meth:`FaultServer.stop` joins every thread.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from loopback import recorded_exchange

__all__ = [
    "Connection",
    "FaultServer",
    "duplicate_status",
    "gzip_bomb",
    "huge_content_length",
    "json_reply",
    "raw_reply",
    "reset_every_other",
    "retry_after",
    "trickle_body",
    "trickle_headers",
]

Behaviour = Callable[["Connection"], None]


class Connection:
    """One accepted connection, with the helpers a behaviour needs."""

    def __init__(self, sock: socket.socket, index: int, server: FaultServer) -> None:
        self.sock = sock
        self.index = index
        """0-based, in the order connections were accepted."""
        self.server = server
        self._buffer = b""

    @property
    def stopping(self) -> bool:
        return self.server.stopped.is_set()

    def read_request(self) -> bytes | None:
        """The next request's body (headers read and dropped), or None once the client left."""
        while b"\r\n\r\n" not in self._buffer:
            chunk = self._recv()
            if not chunk:
                return None
            self._buffer += chunk
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = self._recv()
            if not chunk:
                return None
            rest += chunk
        self._buffer = rest[length:]
        with self.server.lock:
            self.server.requests += 1
        return rest[:length]

    def _recv(self) -> bytes:
        while not self.stopping:
            try:
                return self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return b""
        return b""

    def send(self, data: bytes) -> bool:
        """Send all of ``data``; False if the client is gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, interval: float) -> None:
        """Send ``data`` one byte every ``interval`` seconds, until done, stopped or refused."""
        for index in range(len(data)):
            if not self.send(data[index : index + 1]) or self.server.stopped.wait(interval):
                return

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


class FaultServer:
    """A threaded socket server on 127.0.0.1 running ``behaviour`` for every connection."""

    def __init__(self, behaviour: Behaviour, *, lifetime: float = 30.0) -> None:
        self.behaviour = behaviour
        self.lifetime = lifetime
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self._listener = socket.socket()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> FaultServer:
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1024)
        self._listener.settimeout(0.05)
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def _accept(self) -> None:
        ends = time.monotonic() + self.lifetime
        while not self.stopped.is_set():
            if time.monotonic() > ends:
                self.stopped.set()  # stops by itself: no test can hang on it
                break
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.settimeout(0.05)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                index = self.connections
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock, index), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, index: int) -> None:
        try:
            self.behaviour(Connection(sock, index, self))
        finally:
            sock.close()

    def stop(self) -> None:
        self.stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -------------------------------------------------------------------------------- behaviours


def _response(
    status: str, body: bytes, headers: dict[str, str] | None = None, *, length: int | None = None
) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def status_body() -> bytes:
    """A real server's answer to ``status`` (recorded exchange 03)."""
    return str(recorded_exchange("03")["response"]["text"]).encode()


def json_reply(body: bytes | None = None, status: str = "200 OK") -> Behaviour:
    """A healthy server: ``body`` (default: a recorded status answer) for every request."""
    payload = status_body() if body is None else body
    answer = _response(status, payload)

    def behave(connection: Connection) -> None:
        while connection.read_request() is not None:
            if not connection.send(answer):
                return

    return behave


def raw_reply(answer: bytes) -> Behaviour:
    """Exactly ``answer`` (status line, headers and body) to every request, then close."""

    def behave(connection: Connection) -> None:
        if connection.read_request() is not None:
            connection.send(answer)

    return behave


def trickle_headers(interval: float = 0.1) -> Behaviour:
    """The status line and headers one byte every ``interval`` seconds (each read succeeds)."""
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000 + b"\r\n\r\n"

    def behave(connection: Connection) -> None:
        if connection.read_request() is not None:
            connection.trickle(head, interval)

    return behave


def trickle_body(interval: float = 0.1) -> Behaviour:
    """Headers at once, then the body one byte every ``interval`` seconds."""
    body = status_body()

    def behave(connection: Connection) -> None:
        if connection.read_request() is not None:
            connection.send(_response("200 OK", b"", length=len(body)))
            connection.trickle(body, interval)

    return behave


def retry_after(value: str, status: str = "503 Service Unavailable") -> Behaviour:
    """A 503 (or ``status``) asking to come back after ``value`` (seconds or an HTTP date)."""
    return json_reply(b'{"message": "busy"}', status) if not value else _retry_after(value, status)


def _retry_after(value: str, status: str) -> Behaviour:
    answer = _response(status, b'{"message": "busy"}', {"Retry-After": value})

    def behave(connection: Connection) -> None:
        while connection.read_request() is not None:
            if not connection.send(answer):
                return

    return behave


@functools.lru_cache(maxsize=2)
def _bomb(decoded: int) -> bytes:
    # One MiB of zeros compressed once and repeated: after a full flush every block compresses
    # to the same bytes, so building a 1 GB bomb takes a fraction of a second, not 8 s.
    block = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = decoded >> 20
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)
    return header + segment * count + compressor.flush() + trailer


def gzip_bomb(decoded: int = 1 << 30) -> Behaviour:
    """A small gzip body (about 1 MB per GB) that inflates to ``decoded`` zero bytes."""
    body = _bomb(decoded)
    answer = _response("200 OK", body, {"Content-Encoding": "gzip"})
    return raw_reply(answer)


def huge_content_length(length: int = 2 * 1024**3) -> Behaviour:
    """Announce ``length`` bytes, then send zeros as fast as the client reads them."""

    def behave(connection: Connection) -> None:
        if connection.read_request() is None:
            return
        connection.send(_response("200 OK", b"", length=length))
        block = b"\0" * 65536
        sent = 0
        while sent < length and not connection.stopping and connection.send(block):
            sent += len(block)

    return behave


def duplicate_status() -> Behaviour:
    """A body with ``"status"`` twice: ``"error"`` first, ``"success"`` last."""
    result = json.dumps(recorded_exchange("03")["response"]["json"]["result"])
    body = (
        '{"status": "error", "message": "denied", "result": ' + result + ', "status": "success"}'
    ).encode()
    return json_reply(body)


def reset_every_other(then: Behaviour | None = None) -> Behaviour:
    """Reset every even-numbered connection at once; serve the others with ``then``."""
    healthy = then or json_reply()

    def behave(connection: Connection) -> None:
        if connection.index % 2 == 0:
            connection.read_request()
            connection.reset()
            return
        healthy(connection)

    return behave


def control_characters() -> dict[str, Any]:
    """Server texts with ESC and BEL sequences, for the error-message tests."""
    return {
        "reason": "500 \x1b[31mBoom\x07",
        "error": "\x1b]0;owned\x07\x1b[2Jbad thing",
        "title": "<html><title>\x1b[5mGateway\x1b[0m</title></html>",
    }
