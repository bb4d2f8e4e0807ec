"""A scripted HTTP server on 127.0.0.1 for tests: real sockets, canned answers, every request kept.

    with LoopbackServer(Reply(503), Reply.recorded("03-status-all")) as server:
        TychoClient(server.url).status()
        assert len(server.requests) == 2

Answers come from a script (a queue of :class:`Reply`, consumed in order; the last one given to
:meth:`LoopbackServer.always` repeats) or from a handler ``(Recorded) -> Reply``. A request with
nothing left to answer gets a 599 so that a test sending too much fails loudly.
"""

from __future__ import annotations

import collections
import copy
import json
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WIRE_DIR = Path(__file__).parent / "fixtures" / "wire"

__all__ = [
    "WIRE_DIR",
    "LoopbackServer",
    "Recorded",
    "Reply",
    "closed_port",
    "recorded_exchange",
    "recorded_request",
    "status_reply",
]


def recorded_exchange(name: str) -> dict[str, Any]:
    """A recorded real exchange, by file stem (``"03-status-all"``) or number (``"03"``)."""
    matches = sorted(WIRE_DIR.glob(f"{name}*.json"))
    if len(matches) != 1:
        raise LookupError(f"no single recorded exchange named {name!r} in {WIRE_DIR}")
    data: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
    return data


def recorded_request(name: str) -> dict[str, Any]:
    """The JSON body of a recorded exchange's request."""
    request: dict[str, Any] = recorded_exchange(name)["request"]["json"]
    return request


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers and body; optionally late (``delay``) or none (``drop``)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    """Close the connection without answering (after reading the request)."""

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", **headers},
        )

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Reply:
        return cls(status, text.encode(), {"Content-Type": content_type})

    @classmethod
    def recorded(cls, name: str) -> Reply:
        """The response of a recorded real exchange, byte for byte."""
        response = recorded_exchange(name)["response"]
        return cls.text(response["text"], response["status"], response["content_type"])


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names lowercased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Recorded], Reply]


class LoopbackServer:
    """A ThreadingHTTPServer on ``127.0.0.1`` (``port`` 0: any free one), run in a thread."""

    def __init__(
        self,
        *script: Reply,
        handler: Handler | None = None,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.requests: list[Recorded] = []
        self._script: collections.deque[Reply] = collections.deque(script)
        self._always: Reply | None = None
        self._handler = handler
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._port = port
        self._ssl_context = ssl_context
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------- scripting

    def add(self, *replies: Reply) -> LoopbackServer:
        with self._lock:
            self._script.extend(replies)
        return self

    def always(self, reply: Reply) -> LoopbackServer:
        """Answer ``reply`` whenever the script is used up."""
        self._always = reply
        return self

    def _next_reply(self, request: Recorded) -> Reply:
        if self._handler is not None:
            return self._handler(request)
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self._always is not None:
            return self._always
        return Reply.text("loopback: no scripted reply left", 599)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    # ---------------------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer: unbuffered header and body writes meet the client's
            # delayed ACK and cost 40 ms per keep-alive request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    self.command,
                    self.path,
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                with server._lock:
                    server.requests.append(recorded)
                reply = server._next_reply(recorded)
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                if reply.drop:
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True  # the client gave up (a timeout test)

            do_POST = do_GET = do_PUT = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.daemon_threads = True
        if self._ssl_context is not None:
            self._httpd.socket = self._ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def status_reply(*ready: bool) -> Reply:
    """A status answer (from recorded exchange 04) with one Deployment per ``ready`` flag."""
    body = recorded_exchange("04")["response"]["json"]
    template = body["result"][0]
    body["result"] = [{**copy.deepcopy(template), "is_ready": flag} for flag in ready]
    return Reply.json(body)
