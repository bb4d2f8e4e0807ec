"""A loopback HTTP server in front of a :class:`~tycho_client.testing.FakeTycho`.

Built on the standard library's ``http.server.ThreadingHTTPServer`` (HTTP/1.1 with keep-alive,
one thread per connection) rather than an ASGI server such as uvicorn: it adds no dependency to
``tycho-client`` (the fake ships in the package, and ``tycho mock`` must run on a fresh install),
it is listening within milliseconds, and a thread per connection easily carries the loads tests
create (a thousand concurrent requests from one client's connection pool). The request handling
itself is :meth:`FakeTycho.handle`, shared with the httpx transports.

``serve()`` runs it in a background thread for a ``with`` block; ``run_forever()`` runs it in the
foreground for ``tycho mock`` (until KeyboardInterrupt or SIGTERM) and prints nothing: the caller
gets the URL through ``ready_callback``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol
from urllib.parse import urlsplit


class Answer(Protocol):
    """What the application behind the server answers (a ``FakeResponse``)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...
    @property
    def content(self) -> bytes: ...


class App(Protocol):
    """What the server serves: :class:`~tycho_client.testing.FakeTycho`, or anything that answers
    like it. Typed by shape so that this module and the fake do not import each other."""

    @property
    def latency(self) -> float: ...

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> Answer: ...


__all__ = ["FakeTychoServer", "RequestCallback", "run_forever", "serve"]

logger: logging.Logger = logging.getLogger(__name__)

RequestCallback = Callable[[str, str, int, float], None]
"""``(method, path, status, seconds)`` of one answered request."""

MAX_BODY_BYTES = 1024 * 1024
"""Larger request bodies are refused (413) before they are read: a compose document with its
``.env`` is a few kilobytes, and the fake keeps what it is sent."""
_LINE_LIMIT = 65536
_INTERNAL_ERROR = b'{"message": "Internal Server Error"}\n'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection is closed after this many seconds, ending its thread.
    timeout = 30
    # Headers and body leave as one segment: written separately, they meet the client's delayed
    # ACK (Nagle) and cost 40 ms per keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: FakeTychoServer
    _started = 0.0

    def _answer(self) -> None:
        self._started = time.perf_counter()
        try:
            content = self._read_body()
        except ValueError:
            self._send(400, [("Content-Type", "text/plain")], b"unreadable request body\n")
            return
        if content is None:
            self._send(413, [("Content-Type", "text/plain")], b"request body too large\n")
            return
        target = urlsplit(self.path).path if "://" in self.path else self.path
        headers = {key.lower(): value for key, value in self.headers.items()}
        fake = self.server.fake
        try:
            with self.server.handling:
                answer = fake.handle(self.command, target, headers, content)
        except Exception:
            # A bug in the fake (e.g. an answer the document does not allow): keep serving.
            logger.exception("FakeTycho failed on %s %s", self.command, target)
            self.server.errors.append(f"{self.command} {target}")
            self._send(500, [("Content-Type", "application/json")], _INTERNAL_ERROR)
            return
        if fake.latency:
            time.sleep(fake.latency)
        self._send(answer.status_code, list(answer.headers), answer.content)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(_LINE_LIMIT).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(_LINE_LIMIT) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(_LINE_LIMIT)

    def _send(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        on_request = self.server.on_request
        if on_request is not None:  # before answering: the client sees the log line first
            path = urlsplit(self.path).path if "://" in self.path else self.path
            on_request(self.command, path, status, time.perf_counter() - self._started)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)
        self.wfile.flush()

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the fake (which answers 405 like Flask), not only the ones
        # http.server knows: it would answer 501 to e.g. QUERY or PROPFIND.
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        # Silent: `tycho mock` and test runs print nothing per request.
        return


class FakeTychoServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server answering with ``fake``. ``url`` is where it listens."""

    daemon_threads = True
    # Many clients connect at once (a pool of 100 connections opening together); a short listen
    # backlog would drop connection attempts and make them wait for SYN retransmits.
    request_queue_size = 1024

    def __init__(
        self,
        fake: App,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: RequestCallback | None = None,
    ) -> None:
        if ":" in host:
            self.address_family: socket.AddressFamily = socket.AF_INET6
        self.fake = fake
        self.on_request = on_request
        """Called as each answer is sent: (method, path, status, seconds)."""
        # One request at a time in the (CPU-bound) fake: the GIL serializes that work anyway, and
        # threads queued on a lock do not fight for the GIL with the threads doing socket I/O.
        self.handling: threading.Lock = threading.Lock()
        self.errors: list[str] = []
        """Requests on which the fake raised (answered 500); empty unless the fake has a bug."""
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"


@contextlib.contextmanager
def serve(fake: App, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``fake`` in a background thread for the ``with`` block; yields the base URL.

    ``port=0`` picks a free port.
    """
    server = FakeTychoServer(fake, host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"FakeTycho {server.url}",
        daemon=True,
    )
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_forever(
    fake: App,
    host: str = "127.0.0.1",
    port: int = 5000,
    ready_callback: Callable[[str], None] | None = None,
    on_request: RequestCallback | None = None,
) -> None:
    """Serve ``fake`` in the calling thread until KeyboardInterrupt or SIGTERM, then return.

    ``ready_callback(url)`` is called once the server listens (``tycho mock`` prints the URL);
    ``on_request(method, path, status, seconds)`` as each answer is sent.
    Binding errors (port in use) propagate as ``OSError`` before anything is served.
    """
    server = FakeTychoServer(fake, host, port, on_request)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        if ready_callback is not None:
            ready_callback(server.url)
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
