"""A loopback HTTP server in front of a :class:`~tycho_client.testing.FakeTycho`.

Built on the standard library's ``http.server.ThreadingHTTPServer`` (HTTP/1.1 with keep-alive,
one thread per connection) rather than an ASGI server such as uvicorn: it adds no dependency to
``tycho-client`` (the fake ships in the package, and ``tycho mock`` must run on a fresh install),
it is listening within milliseconds, and a thread per connection easily carries the loads tests
create (a thousand concurrent requests from one client's connection pool). The request handling
itself is :meth:`FakeTycho.handle`, shared with the httpx transports.

Requests are parsed strictly by :mod:`.http11`, not by ``http.server``: a malformed one is
answered 400 with a one-line text body and the connection closed; a body over ``MAX_BODY_BYTES``
(chunked ones counted as decoded) is 413, refused before the part past the bound is read; an
over-long request line 414, too many or too large headers 431. A client that breaks off a
request, or whose request line is not HTTP, is reported to ``on_problem`` in one sentence, never
with a traceback.

``serve()`` runs it in a background thread for a ``with`` block; ``run_forever()`` runs it in the
foreground for ``tycho mock`` (until KeyboardInterrupt or SIGTERM) and prints nothing: the caller
gets the URL through ``ready_callback`` and the log lines through the callbacks.
"""

from __future__ import annotations

import contextlib
import io
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol
from urllib.parse import urlsplit

from .http11 import (
    BrokenOff,
    Refused,
    RequestHead,
    body_length,
    keeps_alive,
    read_chunked,
    read_fields,
    read_request_line,
)


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
    like it. Typed by shape so that this module and the fake do not import each other.

    ``handle`` is called from one thread per connection, at the same time: it must be
    thread-safe, and should not hold a lock while it does lengthy work."""

    @property
    def latency(self) -> float: ...

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> Answer: ...


__all__ = ["FakeTychoServer", "ProblemCallback", "RequestCallback", "run_forever", "serve"]

logger: logging.Logger = logging.getLogger(__name__)

RequestCallback = Callable[[str, str, int, float], None]
"""``(method, path, status, seconds)`` of one answered request."""
ProblemCallback = Callable[[str], None]
"""One sentence about a client that broke off a request or did not speak HTTP, beginning with its
address: ``127.0.0.1:54321 closed the connection mid-request``. Never carries what it sent."""

MAX_BODY_BYTES = 1024 * 1024
"""Larger request bodies are refused (413) before the part past the bound is read (a chunked one
counted as decoded): a compose document with its ``.env`` is a few kilobytes, and the fake keeps
what it is sent."""
_INTERNAL_ERROR = b'{"message": "Internal Server Error"}\n'
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _address(client_address: Any) -> str:
    try:
        host, port = client_address[:2]
    except (TypeError, ValueError):
        return str(client_address)
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    """http.server's connection loop and answer writing, with our own strict request parsing:
    http.server's parser accepts folded and colon-less header lines, and leaves the body (and
    its framing) to us."""

    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection is closed after this many seconds, ending its thread; a
    # client that stops sending mid-request is dropped after as long.
    timeout = 30
    # Headers and body leave as one segment: written separately, they meet the client's delayed
    # ACK (Nagle) and cost 40 ms per keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: FakeTychoServer
    _started = 0.0

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command, self.path, self.requestline = "", "", ""
        self.request_version = "HTTP/1.1"  # the version our answer's status line is written in
        if not self._request_begins():
            return
        self._started = time.perf_counter()
        try:
            self.command, self.path, self.request_version = read_request_line(self.rfile)
            fields = read_fields(self.rfile)
            head = RequestHead(self.command, self.path, self.request_version, fields)
            length = body_length(head, MAX_BODY_BYTES)
            if length != 0 and "100-continue" in (v.lower() for v in head.values("expect")):
                self._send_continue()
            if length is None:
                content = read_chunked(self.rfile, MAX_BODY_BYTES)
            else:
                content = self._read(length)
        except Refused as refused:
            self._send(refused.status, _TEXT, f"{refused.reason}\n".encode())
            return
        except BrokenOff:
            self._problem("closed the connection mid-request")
            return
        except TimeoutError:
            self._problem(f"sent nothing for {self.timeout} s mid-request; connection closed")
            return
        except OSError:  # reset by the client
            self._problem("closed the connection mid-request")
            return
        self.close_connection = not keeps_alive(head)
        self._answer(head, content)

    def _request_begins(self) -> bool:
        """Whether a request starts on this connection; ``False`` when the client closed it, reset
        it or let it idle out between requests, which is how keep-alive connections end."""
        try:
            if isinstance(self.rfile, io.BufferedReader):
                return bool(self.rfile.peek(1))
            return True
        except OSError:
            return False

    def _read(self, length: int) -> bytes:
        content = self.rfile.read(length)
        if len(content) < length:
            raise BrokenOff
        return content

    def _send_continue(self) -> None:
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.wfile.flush()

    def _answer(self, head: RequestHead, content: bytes) -> None:
        target = urlsplit(self.path).path if "://" in self.path else self.path
        headers: dict[str, str] = {}
        for key, value in head.fields:  # repeated fields are one, comma-separated (RFC 9110 5.3)
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        fake = self.server.fake
        try:
            answer = self.server.answer(self.command, target, headers, content)
        except Exception:
            # A bug in the fake (e.g. an answer the document does not allow): keep serving.
            logger.exception("FakeTycho failed on %s %s", self.command, target)
            self.server.errors.append(f"{self.command} {target}")
            self._send(500, [("Content-Type", "application/json")], _INTERNAL_ERROR)
            return
        if fake.latency:
            time.sleep(fake.latency)
        self._send(answer.status_code, list(answer.headers), answer.content)

    def _send(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        on_request = self.server.on_request
        if not self.command:  # not even a request line: no method or path to report
            self._problem(f"sent no valid request line; answered {status}")
        elif on_request is not None:  # before answering: the client sees the log line first
            path = urlsplit(self.path).path if "://" in self.path else self.path
            on_request(self.command, path, status, time.perf_counter() - self._started)
        try:
            self.send_response(status)
            for key, value in headers:
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            self._problem("closed the connection before its answer was sent")

    def _problem(self, text: str) -> None:
        self.close_connection = True
        self.server.problem(f"{_address(self.client_address)} {text}")

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:  # flushing to a client that is gone; _send reported it already
            self.rfile.close()

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
        on_problem: ProblemCallback | None = None,
    ) -> None:
        if ":" in host:
            self.address_family: socket.AddressFamily = socket.AF_INET6
        self.fake = fake
        self.on_request = on_request
        """Called as each answer is sent: (method, path, status, seconds)."""
        self.on_problem = on_problem
        """Called with one sentence when a client breaks off a request or does not speak HTTP."""
        self._warming = threading.Lock()
        self._warm = False
        self.errors: list[str] = []
        """Requests on which the fake raised (answered 500); empty unless the fake has a bug."""
        super().__init__((host, port), _Handler)

    def answer(self, method: str, path: str, headers: Mapping[str, str], content: bytes) -> Answer:
        """The fake's answer to one request, from the thread of its connection."""
        # No lock around the fake once it is warm: it checks requests outside its state's lock,
        # so a large request does not hold up the others. The first request is handled alone:
        # the fake reads its document on first use (80 ms), and a burst of a hundred threads
        # each reading it at once took seconds.
        if self._warm:
            return self.fake.handle(method, path, headers, content)
        with self._warming:
            answer = self.fake.handle(method, path, headers, content)
            self._warm = True
            return answer

    def problem(self, text: str) -> None:
        """Report ``text`` (an address, then what its client did) to ``on_problem``, if any."""
        if self.on_problem is not None:
            self.on_problem(text)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver's own prints a traceback on stderr. The handler answers or reports what
        # any client can do; a connection failing outside it (reset before the handler set up)
        # is one sentence, and only a bug in this module reaches the logger with a traceback.
        failure = sys.exc_info()[1]
        if isinstance(failure, OSError):
            reason = failure.strerror or "failed"
            self.problem(f"{_address(client_address)} connection failed: {reason}")
        else:
            logger.error("FakeTycho's server failed on a connection", exc_info=failure)

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
    on_problem: ProblemCallback | None = None,
) -> None:
    """Serve ``fake`` in the calling thread until KeyboardInterrupt or SIGTERM, then return.

    ``ready_callback(url)`` is called once the server listens (``tycho mock`` prints the URL);
    ``on_request(method, path, status, seconds)`` as each answer is sent; ``on_problem(text)``
    when a client breaks off a request or does not speak HTTP.
    Binding errors (port in use) propagate as ``OSError`` before anything is served.
    """
    server = FakeTychoServer(fake, host, port, on_request, on_problem)
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
