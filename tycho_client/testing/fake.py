"""FakeTycho: an in-memory Tycho API that answers the way a real server (``tycho-api``) does, as
the release it plays (``release=``, default 1.17.3; any of :data:`tycho_client.releases.RELEASES`).

It is an httpx transport (sync and async), a request handler for the loopback server
(:mod:`tycho_client.testing.server`) and the state behind ``tycho mock``. Every request body is
checked against ``openapi/tycho.yaml`` with a JSON Schema validator (not with the pydantic models),
and every answer it builds is checked against the document before it is sent: an answer the
document does not allow raises :class:`FakeTychoBug` (a bug in the fake).

It routes each operation of the document's operations table at its path (``x-routed: false``
ones, such as ``modify``, only with ``modify_supported=True``; otherwise the HTML 404 real servers
answer). What each operation does is in :mod:`.handlers` (an operation without a handler answers
the document's first success example), how real servers fail in :mod:`.checks` (see
``tests/fixtures/wire/`` for the recorded exchanges), and what it remembers in :mod:`.state`.

Playing a release, it answers as that release does where releases differ (see
:mod:`tycho_client.releases`): the text of a body its schema rejects, ``is_ready`` left out of
status entries (1.12.0 - 1.15.0), starts refused for their GPUs (1.14.0 - 1.17.1) or for
``ephemeralStorage`` (1.12.0 - 1.13.0). So users' tests can cover the releases they run.

For users' own tests: :meth:`FakeTycho.fail_next` injects failures (status, body, headers; sent as
given, not checked against the document: they stand for proxies, overload or garbage), ``latency``
delays every answer, ``ready_after`` keeps new systems unready for that many status answers,
:attr:`FakeTycho.systems` and :attr:`FakeTycho.requests` show the state, :meth:`FakeTycho.reset`
clears it. All of it is safe to use from several threads: the state's lock is held only while a
handler reads or changes the state, each change in one block; parsing and every check (the JSON
Schema validation, the compose and server rules, the check of the answer) run outside it, so a
request that takes seconds to check does not hold up the others.
"""

from __future__ import annotations

import http
import json
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from tycho_client import openapi
from tycho_client._extras import TESTING, require
from tycho_client._generated.operations import OPERATIONS, Operation
from tycho_client.releases import DEFAULT_RELEASE, Release, release as release_of

from .checks import (
    INTERNAL_SERVER_ERROR,
    FakeTychoBug,
    InternalServerError,
    ServerError,
    document_problems,
)
from .handlers import HANDLERS, Call
from .state import MAX_RECORDED_BODY_BYTES, FakeSystem, Fault, RecordedRequest, State

# The fake validates every request and answer with JSON Schema: fail on import, not mid-request.
require("jsonschema", TESTING, feature="the fake Tycho (tycho_client.testing, tycho mock)")

__all__ = [
    "DIFFERENCES",
    "INVALID_JSON",
    "NOT_JSON_CONTENT",
    "TOO_DEEP",
    "FakeResponse",
    "FakeTycho",
    "FakeTychoBug",
]

NOT_FOUND_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n'
    "<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL"
    " manually please check your spelling and try again.</p>\n"
)
METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL."
INVALID_JSON = "(body): not valid JSON"
"""The problem recorded for a body sent as JSON that is not JSON (answered 500)."""
NOT_JSON_CONTENT = "(body): not sent as application/json"
"""The problem recorded for a body without a JSON content type (read as no body)."""
TOO_DEEP = "(body): nested too deeply to check"
"""The problem recorded for JSON nested beyond what the validator can follow (answered as a
body the document rejects)."""
_CORS = ("Access-Control-Allow-Origin", "*")

DIFFERENCES: dict[str, str] = {
    "own-words": "A request the document rejects but real servers' own schema check lets "
    "through is answered with an error envelope in the fake's words, naming the field and the "
    "document: what a real server does with it is not part of the contract.",
    "stricter": "Where the document is stricter than real servers on purpose (a probe without a "
    "way to probe, which they drop), the fake refuses as for 'own-words'; real servers succeed.",
    "server-rules": "A request that breaks one of tycho_client.rules.SERVER_RULES fails on real "
    "servers with a Kubernetes traceback; the fake fails in its own words naming the rule.",
    "tracebacks": "Traceback texts (network policy, Service without ports) are the fake's "
    "reconstruction: their first and last lines are the real servers', the frames between are "
    "not.",
    "endpoints": "start reports a node port (30000 and up) and `service_ip_address` for each "
    "exposed service, as servers without the ambassador proxy do; behind it servers report "
    "nulls.",
    "readiness": "Systems are ready at once (or after `ready_after` status answers); real "
    "servers report what the Deployment's status says.",
    "headers": "No Server or Date header.",
}
"""What FakeTycho does differently from the tycho-api release it plays, and why (checked by the
real-server suite's differential test, against each release of the CI matrix)."""


@dataclass(frozen=True)
class FakeResponse:
    """An answer independent of any HTTP library."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    content: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def json(self) -> Any:
        return json.loads(self.content)


def _json_response(
    status_code: int, payload: Any, extra: tuple[tuple[str, str], ...] = ()
) -> FakeResponse:
    # Real servers (flask-restful) send json.dumps output plus a newline.
    content = (json.dumps(payload) + "\n").encode("utf-8")
    return FakeResponse(status_code, (("Content-Type", "application/json"), *extra), content)


def _envelope(status: str, result: Any, message: str) -> dict[str, Any]:
    return {"status": status, "result": result, "message": message}


def _error(text: str) -> dict[str, Any]:
    return _envelope("error", {"error": text}, text)


def _operation_at(path: str) -> Operation[Any, Any] | None:
    return next((op for op in OPERATIONS.values() if op.path == path), None)


def _header(headers: Mapping[str, str], name: str) -> str:
    if isinstance(headers, httpx.Headers):
        return str(headers.get(name, ""))
    return next((v for k, v in headers.items() if k.lower() == name), "")


class FakeTycho(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-memory Tycho API server; see the module documentation for its behaviour.

    Use it as an httpx transport (``TychoClient("http://tycho.test", transport=FakeTycho())``,
    also with ``AsyncTychoClient``) or on a loopback socket (``with FakeTycho().serve() as url``).

    :param modify_supported: route ``/system/modify`` (by default it is not: it answers the HTML
        404 every ``tycho-api`` release answers; ``True`` for servers that route it).
    :param ready_after: new systems report ``is_ready: false`` in this many status answers first.
    :param latency: seconds added to every answer (settable later as ``fake.latency``).
    :param service_ip_address: the ``ip_address`` reported for started services (real servers
        behind a proxy report ``None``).
    :param release: the tycho-api release to answer as (default 1.17.3), e.g. ``"1.12.0"``: a
        ValueError lists the supported ones.
    """

    def __init__(
        self,
        *,
        modify_supported: bool = False,
        ready_after: int = 0,
        latency: float = 0.0,
        service_ip_address: str | None = None,
        release: str = DEFAULT_RELEASE,
    ) -> None:
        if ready_after < 0:
            raise ValueError("ready_after must be >= 0")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self.release: Release = release_of(release)
        """The release it plays."""
        self.modify_supported = modify_supported
        self.ready_after = ready_after
        self.latency = latency
        self.service_ip_address = service_ip_address
        self._state = State()

    def __repr__(self) -> str:
        return (
            f"FakeTycho(release={self.release.version!r}, systems={len(self._state.systems)}, "
            f"modify_supported={self.modify_supported}, ready_after={self.ready_after}, "
            f"latency={self.latency})"
        )

    # ------------------------------------------------------------------ state for tests
    @property
    def systems(self) -> dict[str, FakeSystem]:
        """The running systems by GUID (a snapshot of the mapping; the systems are live)."""
        with self._state.lock:
            return dict(self._state.systems)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests answered so far (the last ``MAX_RECORDED_REQUESTS``), oldest first
        (a snapshot)."""
        with self._state.lock:
            return list(self._state.requests)

    def reset(self) -> None:
        """Forget every system, recorded request and pending injected failure."""
        self._state.reset()

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``n`` API requests (POSTs to a routed path) with a failure.

        ``body``: ``None`` gives ``{"message": <reason>}`` (for ``status=200``: an error envelope
        with the text ``injected failure``); a string gives that text (for ``status=200``: an error
        envelope with that error text); anything else is sent as JSON. ``headers`` are added, e.g.
        ``{"Retry-After": "1"}``. Injected answers change no state.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        fault = Fault(status, body, tuple((headers or {}).items()))
        with self._state.lock:
            self._state.faults.extend([fault] * n)

    # ------------------------------------------------------------------ ways in
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> AbstractContextManager[str]:
        """Serve this fake on a loopback HTTP server in a background thread; yields its URL."""
        from .server import serve

        return serve(self, host=host, port=port)

    def run_forever(
        self,
        host: str = "127.0.0.1",
        port: int = 5000,
        ready_callback: Callable[[str], None] | None = None,
    ) -> None:
        """Serve in the foreground until KeyboardInterrupt or SIGTERM (``tycho mock``)."""
        from .server import run_forever

        run_forever(self, host=host, port=port, ready_callback=ready_callback)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.handle(request.method, request.url.path, request.headers, request.read())
        if self.latency:
            time.sleep(self.latency)
        return httpx.Response(
            answer.status_code, headers=list(answer.headers), content=answer.content
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import anyio

        content = await request.aread()
        answer = self.handle(request.method, request.url.path, request.headers, content)
        if self.latency:
            await anyio.sleep(self.latency)
        return httpx.Response(
            answer.status_code, headers=list(answer.headers), content=answer.content
        )

    # ------------------------------------------------------------------ request handling
    def handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> FakeResponse:
        """Answer one HTTP request (no latency applied here)."""
        answer, injected = self._handle(method, path, headers, content)
        if injected:
            return answer
        # Real servers (flask-cors) allow every origin, on every answer.
        return FakeResponse(answer.status_code, (*answer.headers, _CORS), answer.content)

    def _route(self, path: str) -> Operation[Any, Any] | None:
        operation = _operation_at(path)
        routed = operation is not None and (operation.routed or self.modify_supported)
        return operation if routed else None

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> tuple[FakeResponse, bool]:
        path = path.split("?", 1)[0]
        method = method.upper()
        if path == "/openapi.yaml" and method in ("GET", "HEAD"):
            # Not part of the API: the document itself, for tools (schemathesis, codegen).
            text = openapi.spec_text().encode("utf-8")
            return FakeResponse(200, (("Content-Type", "application/yaml"),), text), False
        operation = self._route(path)
        if operation is None:
            not_found = FakeResponse(
                404, (("Content-Type", "text/html; charset=utf-8"),), NOT_FOUND_HTML.encode("utf-8")
            )
            return self._checked(_operation_at(path), not_found), False
        allow = (("Allow", f"OPTIONS, {operation.method}"),)
        if method == "OPTIONS":
            return FakeResponse(200, (*allow, ("Content-Type", "text/html")), b""), False
        if method != operation.method:
            answer = _json_response(405, {"message": METHOD_NOT_ALLOWED}, allow)
            return self._checked(operation, answer), False

        fault = self._state.take_fault()
        body, problems, unreadable = self._parse(operation, headers, content)
        if fault is not None:
            answer = self._injected(fault)
        elif unreadable is not None:
            answer = unreadable
        else:
            answer = self._checked(operation, self._answer(operation, body, problems))
        self._state.record(
            RecordedRequest(
                method,
                path,
                operation.name,
                body if len(content) <= MAX_RECORDED_BODY_BYTES else None,
                tuple(problems),
                answer.status_code,
                injected=fault is not None,
            )
        )
        return answer, fault is not None

    def _parse(
        self, operation: Operation[Any, Any], headers: Mapping[str, str], content: bytes
    ) -> tuple[Any, list[str], FakeResponse | None]:
        """The JSON body (``None`` when there is none), the document's problems with it, and an
        answer when the body cannot even be read."""
        media_type = _header(headers, "content-type").split(";", 1)[0].strip().lower()
        is_json = media_type == "application/json" or (
            media_type.startswith("application/") and media_type.endswith("+json")
        )
        if not is_json:
            # Servers read request.json, which is None without a JSON content type.
            return None, [NOT_JSON_CONTENT], None
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            answer = _json_response(500, INTERNAL_SERVER_ERROR)
            return None, [INVALID_JSON], self._checked(operation, answer)
        try:
            return body, document_problems(operation.name, body), None
        except RecursionError:
            return body, [TOO_DEEP], None

    def _answer(
        self, operation: Operation[Any, Any], body: Any, problems: list[str]
    ) -> FakeResponse:
        handler = HANDLERS.get(operation.name)
        if handler is None:
            return _json_response(200, openapi.success_example(operation.name))
        call = Call(
            body, problems, self._state, self.ready_after, self.service_ip_address, self.release
        )
        try:
            result, message = handler(call)
        except InternalServerError:
            return _json_response(500, INTERNAL_SERVER_ERROR)
        except ServerError as failure:
            return _json_response(200, _error(failure.text))
        return _json_response(200, _envelope("success", result, message))

    @staticmethod
    def _injected(fault: Fault) -> FakeResponse:
        body = fault.body
        if body is None:
            body = (
                _error("injected failure")
                if fault.status_code == 200
                else {"message": http.HTTPStatus(fault.status_code).phrase}
            )
        elif isinstance(body, str) and fault.status_code == 200:
            body = _error(body)
        if isinstance(body, str):
            return FakeResponse(
                fault.status_code,
                (("Content-Type", "text/plain; charset=utf-8"), *fault.headers),
                body.encode("utf-8"),
            )
        return _json_response(fault.status_code, body, fault.headers)

    @staticmethod
    def _checked(operation: Operation[Any, Any] | None, answer: FakeResponse) -> FakeResponse:
        """``answer``, after asserting that the document allows it."""
        if operation is None:
            return answer
        name = operation.name
        validator = openapi.response_validator(name, answer.status_code, answer.content_type)
        if validator is None:
            raise FakeTychoBug(
                f"the document has no {answer.status_code} {answer.content_type} answer for {name}"
            )
        payload: Any = (
            answer.content.decode("utf-8")
            if answer.content_type.startswith("text/")
            else answer.json()
        )
        found = openapi.problems(validator, payload)
        if found:
            raise FakeTychoBug(f"its {name} answer breaks the document: {found}")
        return answer
