"""FakeTycho: an in-memory Tycho API that answers the way real servers (``tycho-api`` 1.17.3) do.

It is an httpx transport (sync and async), a request handler for the loopback server
(:mod:`tycho_client.testing.server`) and the state behind ``tycho mock``. Every request body is
checked against ``openapi/tycho.yaml`` with a JSON Schema validator (not with the pydantic models),
and every answer it builds is checked against the document before it is sent: an answer the
document does not allow raises ``AssertionError`` (a bug in the fake).

What it does, as real servers do (see ``tests/fixtures/wire/`` for the recorded exchanges):

- ``start`` names the system ``{name}-{guid}`` (``guid`` a uuid4 in hex), reports in
  ``containers`` only the compose services listed in the request's ``services``, as
  ``{"ip_address": None, "port-1": <node port from 30000 up>}``, in sorted service order (servers
  round-trip the compose document through ``yaml.dump``, which sorts keys), and ``conn_string``
  from the last service in that order.
- ``status`` lists systems sorted by name: all, by GUID (``name``), or by ``username`` (which wins
  over ``name``); ``utilization`` is each container's limits as Kubernetes reports them
  (``cpus: "0.01"`` becomes ``cpu: "10m"``; ``memory`` is only rendered together with ``cpus``;
  ``null`` for a container without limits); ``creation_time`` is ``M-D-YYYY H:M:S`` UTC.
- ``delete`` removes the system with that GUID; any other string also answers success.
- ``modify`` records ``labels`` and ``cpu``/``memory`` (set as limits of every container) and
  answers the Deployment patches; with ``modify_supported=False`` it is not routed (HTML 404).

How requests are answered when they fail (the first matching rule wins; texts are the servers'):

- Any method but POST: 405 ``{"message": "The method is not allowed for the requested URL."}``
  (OPTIONS: 200 with ``Allow``). A path that is not routed: the HTML 404 page (``NotRouted``).
- ``Content-Type: application/json`` with a body that is not JSON: 500
  ``{"message": "Internal Server Error"}``.
- No JSON content type, a ``null`` or non-object body, or a ``name`` that is not a string:
  ``name 'abort' is not defined`` (the servers' own schema check calls an undefined ``abort``).
- start without ``name`` or ``system``, delete without ``name``: the bare key name, ``name`` or
  ``system`` (a ``KeyError``).
- start, ``principal`` missing or not a string: ``the JSON object must be str, bytes or bytearray,
  not NoneType`` (``dict``, ``list`` ...); not JSON text: the ``json`` module's message.
- start, ``env`` is ``null``: ``'NoneType' object is not iterable``.
- start, ``system`` without ``services`` or with none: ``cannot access local variable 'spec'
  where it is not associated with a value``.
- start, a ``ports`` entry or an ``env`` value that is a number, boolean or ``null``, or no
  service with ``ports``: ``argument of type 'int' is not iterable`` (naming the value's type).
- start, ``environment`` as a mapping (or ``null``) without ``env``: ``unsupported operand
  type(s) for +: 'dict' and 'list'``; a service without ``image``: ``image``; a resource other
  than ``cpus``, ``gpus``, ``memory``, ``ephemeralStorage``: ``Limits.__init__() got an
  unexpected keyword argument '<key>'``; a volume not in ``pvc://`` form: ``Wrong Volume
  definition in Container:<c> and Volume:<v>``.
- start, a principal without a string ``username``: ``'NoneType' object has no attribute
  'replace'``; a ``clients`` entry that is not a network: the ``ipaddress`` module's message.
- Any other body the document rejects: ``name 'abort' is not defined``. (The document is stricter
  than the servers' code; this is the text servers give for a body they reject up front.)
- start with a non-empty ``clients`` list: ``Unable to start system: <name> Traceback ... No
  template policy/tycho-default-netpolicy.yaml ...`` (exchange 21); start naming in ``services``
  a compose service without ``ports``: ``Unable to start system: ... ApiException: (422)``. In
  both cases the system stays: servers clean up by full name, which matches no GUID label.
- modify of a GUID no system has (or without ``tycho-guid``): ``Failed to modify system: <guid>
  Traceback ... No deployments found ...``.

For users' own tests: :meth:`FakeTycho.fail_next` injects failures (status, body, headers; sent as
given, not checked against the document: they stand for proxies, overload or garbage), ``latency``
delays every answer, ``ready_after`` keeps new systems unready for that many status answers,
:attr:`FakeTycho.systems` and :attr:`FakeTycho.requests` show the state, :meth:`FakeTycho.reset`
clears it. All of it is safe to use from several threads.
"""

from __future__ import annotations

import collections
import http
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Any

import httpx

from tycho_client import openapi as spec
from tycho_client._extras import TESTING, require

# The fake validates every request and answer with JSON Schema: fail on import, not mid-request.
require("jsonschema", TESTING, feature="the fake Tycho (tycho_client.testing, tycho mock)")

__all__ = [
    "INVALID_JSON",
    "NOT_JSON_CONTENT",
    "TOO_DEEP",
    "FakeResponse",
    "FakeSystem",
    "FakeTycho",
    "FakeTychoBug",
    "RecordedRequest",
    "canonical_quantity",
    "cpu_quantity",
]

ABORT = "name 'abort' is not defined"
NOT_FOUND_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n'
    "<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL"
    " manually please check your spelling and try again.</p>\n"
)
METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL."
ALLOW = "OPTIONS, POST"
INVALID_JSON = "(body): not valid JSON"
"""The problem recorded for a body sent as JSON that is not JSON (answered 500)."""
NOT_JSON_CONTENT = "(body): not sent as application/json"
"""The problem recorded for a body without a JSON content type (read as no body)."""
TOO_DEEP = "(body): nested too deeply to check"
"""The problem recorded for JSON nested beyond what the validator can follow (answered as a
body the document rejects)."""
MAX_RECORDED_REQUESTS = 1000
"""``FakeTycho.requests`` keeps the last this many requests (``tycho mock`` runs for long)."""
MAX_RECORDED_BODY_BYTES = 64 * 1024
"""Larger bodies are answered but recorded as ``None``: the fake does not hold on to them."""
FIRST_NODE_PORT = 30000
LAST_NODE_PORT = 32767
_NO_SPEC = "cannot access local variable 'spec' where it is not associated with a value"
_TRACEBACK_HEAD = "Traceback (most recent call last):\n"
_NETPOLICY_TRACEBACK = (
    '  File "<venv>/site-packages/tycho/kube.py", line 200, in start\n'
    "    network_policy_manifests = system.render (\n"
    "                               ^^^^^^^^^^^^^^^\n"
    '  File "<venv>/site-packages/tycho/model.py", line 326, in render\n'
    "    template = generator.render (template, context=final_context)\n"
    "               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    '  File "<venv>/site-packages/tycho/tycho_utils.py", line 44, in render\n'
    "    raise ValueError (\n"
    "ValueError: No template policy/tycho-default-netpolicy.yaml found in default location or "
    "in []\n"
)
# Derived from kube.py (no exchange recorded): Kubernetes refuses a Service without ports.
_SERVICE_TRACEBACK = (
    '  File "<venv>/site-packages/tycho/kube.py", line 222, in start\n'
    "    response = self.api.create_namespaced_service(\n"
    "kubernetes.client.exceptions.ApiException: (422)\n"
    "Reason: Unprocessable Entity\n"
    "HTTP response body: Service is invalid: spec.ports: Required value\n"
)
_NO_DEPLOYMENTS = "No deployments found. Specify a valid GUID. Format {'guid': '<name>'}."
_MODIFY_TRACEBACK = (
    '  File "<venv>/site-packages/tycho/kube.py", line 480, in modify\n'
    f'    raise Exception("{_NO_DEPLOYMENTS}")\n'
    f"Exception: {_NO_DEPLOYMENTS}\n"
)
_PVC_VOLUME = re.compile(r"^pvc://[^/:\s]+(/[^:]*)?:/[^:]*$")
_CPU = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(m?)")
_LIMITS_KEYWORDS = ("cpus", "gpus", "memory", "ephemeralStorage")
_CORS = ("Access-Control-Allow-Origin", "*")
_CLIENTS_PROBLEM = re.compile(r"^services\.[^.]+\.clients: fails 'maxItems'")

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
"""What FakeTycho does differently from tycho-api 1.17.3, and why (checked by the real-server
suite's differential test)."""
_ROUTES = {"/system/start": "start", "/system/status": "status", "/system/delete": "delete"}


@dataclass
class FakeSystem:
    """One system the fake runs. ``name`` is the full ``{app_id}-{sid}``."""

    name: str
    sid: str
    app_id: str
    username: str
    created: datetime
    containers: dict[str, dict[str, Any]]
    """The start answer's ``containers``: endpoints of the services asked for."""
    services: dict[str, Any]
    """The start request's ``services``."""
    utilization: dict[str, dict[str, str] | None]
    """Limits by container, as ``status`` reports them (``modify`` changes them)."""
    images: dict[str, str]
    conn_string: str = ""
    serviceaccount: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    """Labels added by ``modify``."""
    resources: dict[str, str] = field(default_factory=dict)
    """``cpu`` / ``memory`` set by ``modify``."""
    is_ready: bool = True
    polls_until_ready: int = 0
    """Status answers still to report ``is_ready: false`` before the system becomes ready."""
    compose: dict[str, Any] = field(default_factory=dict, repr=False)
    env: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def creation_time(self) -> str:
        """``created`` the way servers print it: ``M-D-YYYY H:M:S``, no zero padding."""
        c = self.created
        return f"{c.month}-{c.day}-{c.year} {c.hour}:{c.minute}:{c.second}"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake answered: its parsed JSON ``body`` (``None`` if none or larger than
    ``MAX_RECORDED_BODY_BYTES``; left out of ``repr()``, as it carries ``.env`` values), the
    document's complaints about it (``problems``:
    field paths and schema keywords, never values; empty when valid) and the answer's status."""

    method: str
    path: str
    operation: str | None
    body: Any = field(repr=False)
    problems: tuple[str, ...] = ()
    status_code: int = 200
    injected: bool = False


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


@dataclass(frozen=True)
class _Fault:
    status_code: int
    body: Any
    headers: tuple[tuple[str, str], ...]


class FakeTychoBug(Exception):
    """The fake was about to answer what the document does not allow (a bug in the fake); the
    loopback server answers 500 and keeps serving."""


class _ServerError(Exception):
    """A failure the server reports as ``{"status": "error"}``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _pytype(value: Any) -> str:
    """The Python type name real servers' error texts use for a JSON value."""
    return type(value).__name__


def _json_response(
    status_code: int, payload: Any, extra: tuple[tuple[str, str], ...] = ()
) -> FakeResponse:
    # Real servers (flask-restful) send json.dumps output plus a newline.
    content = (json.dumps(payload) + "\n").encode("utf-8")
    return FakeResponse(status_code, (("Content-Type", "application/json"), *extra), content)


INTERNAL_SERVER_ERROR = {"message": "Internal Server Error"}
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def selector_refused(body: Any) -> bool:
    """Whether a status request puts a string into its label selector that is no label value
    (``username`` wins over ``name``, and an empty one selects all)."""
    if not isinstance(body, dict):
        return False
    value = body.get("username") or body.get("name")
    return isinstance(value, str) and not (len(value) <= 63 and _LABEL_VALUE.fullmatch(value))


def _off_document(operation: str, problems: list[str]) -> _ServerError:
    """The fake's own answer to a request the document rejects but real servers' own schema
    check lets through: what they would do with it is not known, so say why, in our words."""
    schema = {"start": "StartRequest", "status": "StatusRequest", "delete": "DeleteRequest"}.get(
        operation, "ModifyRequest"
    )
    shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if problems[3:] else "")
    return _ServerError(
        f"FakeTycho: this {operation} request breaks openapi/tycho.yaml ({schema}): {shown}"
    )


def _breaks_server_rules(body: dict[str, Any]) -> _ServerError | None:
    """Real servers fail on these (over Kubernetes) though the document cannot say so; the
    fake cannot reproduce their long tracebacks and says which rule in its own words."""
    from tycho_client import rules

    # A Service without ports the fake fails as servers do, leaving the Deployment behind.
    named = [rule for rule in rules.SERVER_RULES if rule.name != "exposed-service-ports"]
    broken = [f"{p.type}: {p.path}" for p in rules.problems(body, named)]
    if not broken:
        return None
    return _ServerError(
        f"FakeTycho: real Tycho servers fail on this start request: {'; '.join(broken[:3])} "
        "(tycho_client.rules.SERVER_RULES)"
    )


def _envelope(status: str, result: Any, message: str) -> dict[str, Any]:
    return {"status": status, "result": result, "message": message}


def _error(text: str) -> dict[str, Any]:
    return _envelope("error", {"error": text}, text)


_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)((?:[KMGTPE]i)|[numkMGTPE])?")
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}
_DECIMAL_EXPONENTS.update({"P": 15, "E": 18})
_DECIMAL_SUFFIXES = {exponent: suffix for suffix, exponent in _DECIMAL_EXPONENTS.items()}
_BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_MAX_QUANTITY_TEXT = 64
"""Longer quantities are returned as given (the document allows 24 characters)."""


def canonical_quantity(text: str) -> str:
    """A Kubernetes quantity in the canonical form the API server reports it in: ``"0.01"`` ->
    ``"10m"``, ``"5000M"`` -> ``"5G"``, ``"1024Mi"`` -> ``"1Gi"``, ``"0.5Gi"`` -> ``"512Mi"``.

    Values are rounded up to a whole nano-unit, as Kubernetes does. Anything that is not a plain
    quantity is returned unchanged.
    """
    match = _QUANTITY.fullmatch(text.strip()) if len(text) <= _MAX_QUANTITY_TEXT else None
    if not match:
        return text
    suffix = match[2] or ""
    value = Decimal(match[1])
    if suffix.endswith("i"):
        value *= 1024 ** _BINARY_SUFFIXES.index(suffix)
    else:
        value = value.scaleb(_DECIMAL_EXPONENTS[suffix])
    nanos = int(value.scaleb(9).to_integral_value(rounding=ROUND_CEILING))
    if nanos == 0:
        return "0"
    if suffix.endswith("i") and nanos % 10**9 == 0 and nanos >= 1024 * 10**9:
        whole, power = nanos // 10**9, 0
        while whole % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
            whole, power = whole // 1024, power + 1
        return f"{whole}{_BINARY_SUFFIXES[power]}"
    exponent = -9
    while nanos % 1000 == 0 and exponent < 18:
        nanos, exponent = nanos // 1000, exponent + 3
    return f"{nanos}{_DECIMAL_SUFFIXES[exponent]}"


def cpu_quantity(text: str) -> str:
    """A CPU amount in Kubernetes' canonical form: ``"0.01"`` -> ``"10m"``, ``"2.0"`` -> ``"2"``
    (see :func:`canonical_quantity`)."""
    return canonical_quantity(text)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _limits(service: Mapping[str, Any]) -> dict[str, str] | None:
    """What Kubernetes reports as a container's limits, rendered the way the pod template does."""
    limits = _mapping(_mapping(_mapping(service.get("deploy")).get("resources")).get("limits"))
    rendered: dict[str, str] = {}
    if limits.get("cpus") is not None:
        rendered["cpu"] = canonical_quantity(str(limits["cpus"]))
        if limits.get("memory") is not None:
            rendered["memory"] = canonical_quantity(str(limits["memory"]))
    if limits.get("gpus") is not None:
        rendered["nvidia.com/gpu"] = canonical_quantity(_as_yaml_reads(str(limits["gpus"])))
    if limits.get("ephemeralStorage") not in (None, "0", ""):
        storage = _as_yaml_reads(str(limits["ephemeralStorage"]))
        rendered["ephemeral-storage"] = canonical_quantity(storage)
    return rendered or None


_YAML_OCTAL = re.compile(r"0[0-7_]+")
_YAML_FLOAT = re.compile(r"[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*")


def _as_yaml_reads(text: str) -> str:
    """An amount servers write unquoted into YAML, as the number YAML reads (``010`` is the
    octal 8, ``1.`` the float 1.0) and JSON then carries to Kubernetes."""
    if _YAML_OCTAL.fullmatch(text):
        return str(int(text.replace("_", ""), 8))
    if _YAML_FLOAT.fullmatch(text):
        return repr(float(text.replace("_", "")))
    return text


class FakeTycho(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-memory Tycho API server; see the module documentation for its behaviour.

    Use it as an httpx transport (``TychoClient("http://tycho.test", transport=FakeTycho())``,
    also with ``AsyncTychoClient``) or on a loopback socket (``with FakeTycho().serve() as url``).

    :param modify_supported: route ``/system/modify`` (by default it is not: it answers the HTML
        404 ``tycho-api`` 1.17.3 answers; ``True`` for servers that route it).
    :param ready_after: new systems report ``is_ready: false`` in this many status answers first.
    :param latency: seconds added to every answer (settable later as ``fake.latency``).
    :param service_ip_address: the ``ip_address`` reported for started services (real servers
        behind a proxy report ``None``).
    """

    def __init__(
        self,
        *,
        modify_supported: bool = False,
        ready_after: int = 0,
        latency: float = 0.0,
        service_ip_address: str | None = None,
    ) -> None:
        if ready_after < 0:
            raise ValueError("ready_after must be >= 0")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self.modify_supported = modify_supported
        self.ready_after = ready_after
        self.latency = latency
        self.service_ip_address = service_ip_address
        self._lock = threading.RLock()
        self._systems: dict[str, FakeSystem] = {}
        self._requests: collections.deque[RecordedRequest] = collections.deque(
            maxlen=MAX_RECORDED_REQUESTS
        )
        self._faults: collections.deque[_Fault] = collections.deque()
        self._next_node_port = FIRST_NODE_PORT

    def __repr__(self) -> str:
        return (
            f"FakeTycho(systems={len(self._systems)}, modify_supported={self.modify_supported}, "
            f"ready_after={self.ready_after}, latency={self.latency})"
        )

    # ------------------------------------------------------------------ state for tests
    @property
    def systems(self) -> dict[str, FakeSystem]:
        """The running systems by GUID (a snapshot of the mapping; the systems are live)."""
        with self._lock:
            return dict(self._systems)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests answered so far (the last ``MAX_RECORDED_REQUESTS``), oldest first
        (a snapshot)."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget every system, recorded request and pending injected failure."""
        with self._lock:
            self._systems.clear()
            self._requests.clear()
            self._faults.clear()
            self._next_node_port = FIRST_NODE_PORT

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
        fault = _Fault(status, body, tuple((headers or {}).items()))
        with self._lock:
            self._faults.extend([fault] * n)

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

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> tuple[FakeResponse, bool]:
        path = path.split("?", 1)[0]
        method = method.upper()
        if path == "/openapi.yaml" and method in ("GET", "HEAD"):
            # Not part of the API: the document itself, for tools (schemathesis, codegen).
            text = spec.spec_text().encode("utf-8")
            return FakeResponse(200, (("Content-Type", "application/yaml"),), text), False
        operation = _ROUTES.get(path)
        if operation is None and path == "/system/modify" and self.modify_supported:
            operation = "modify"
        if operation is None:
            not_found = FakeResponse(
                404, (("Content-Type", "text/html; charset=utf-8"),), NOT_FOUND_HTML.encode("utf-8")
            )
            return self._checked("modify" if path == "/system/modify" else None, not_found), False
        if method == "OPTIONS":
            return FakeResponse(200, (("Allow", ALLOW), ("Content-Type", "text/html")), b""), False
        if method != "POST":
            answer = _json_response(405, {"message": METHOD_NOT_ALLOWED}, (("Allow", ALLOW),))
            return self._checked(operation, answer), False

        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        body, problems, unreadable = self._parse(operation, headers, content)
        if fault is not None:
            answer = self._injected(fault)
        elif unreadable is not None:
            answer = unreadable
        elif operation == "status" and selector_refused(body):
            # Kubernetes refuses the label selector; tycho-api then fails formatting the
            # ApiException (it has no args) and Flask answers 500.
            answer = self._checked(operation, _json_response(500, INTERNAL_SERVER_ERROR))
        else:
            answer = self._checked(
                operation, _json_response(200, self._dispatch(operation, body, problems))
            )
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    method,
                    path,
                    operation,
                    body if len(content) <= MAX_RECORDED_BODY_BYTES else None,
                    tuple(problems),
                    answer.status_code,
                    injected=fault is not None,
                )
            )
        return answer, fault is not None

    def _parse(
        self, operation: str, headers: Mapping[str, str], content: bytes
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
            return body, document_problems(operation, body), None
        except RecursionError:
            return body, [TOO_DEEP], None

    def _injected(self, fault: _Fault) -> FakeResponse:
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

    def _checked(self, operation: str | None, answer: FakeResponse) -> FakeResponse:
        """``answer``, after asserting that the document allows it."""
        if operation is None:
            return answer
        validator = spec.response_validator(operation, answer.status_code, answer.content_type)
        if validator is None:
            raise FakeTychoBug(
                f"the document has no {answer.status_code} {answer.content_type} answer for "
                f"{operation}"
            )
        payload: Any = (
            answer.content.decode("utf-8")
            if answer.content_type.startswith("text/")
            else answer.json()
        )
        found = spec.problems(validator, payload)
        if found:
            raise FakeTychoBug(f"its {operation} answer breaks the document: {found}")
        return answer

    def _dispatch(self, operation: str, body: Any, problems: list[str]) -> dict[str, Any]:
        handler: Callable[[Any, list[str]], tuple[Any, str]] = {
            "start": self._start,
            "status": self._status,
            "delete": self._delete,
            "modify": self._modify,
        }[operation]
        try:
            result, message = handler(body, problems)
        except _ServerError as failure:
            return _error(failure.text)
        return _envelope("success", result, message)

    # ------------------------------------------------------------------ operations
    def _start(self, body: Any, problems: list[str]) -> tuple[Any, str]:
        if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
            raise _ServerError(ABORT)
        for key in ("name", "system"):
            if key not in body:
                raise _ServerError(key)
        app_id: str = body["name"]
        system = body["system"]
        if not isinstance(system, dict):
            raise _ServerError(f"'{_pytype(system)}' object has no attribute 'get'")
        security_context = system.get("security_context", {})
        if not isinstance(security_context, dict):
            raise _ServerError(f"'{_pytype(security_context)}' object has no attribute 'get'")
        principal_text = body.get("principal")
        if not isinstance(principal_text, str):
            raise _ServerError(
                "the JSON object must be str, bytes or bytearray, not " + _pytype(principal_text)
            )
        try:
            principal = json.loads(principal_text)
        except ValueError as exc:
            raise _ServerError(str(exc)) from None
        except RecursionError:
            raise _off_document("start", ["principal: nested too deeply"]) from None
        env = body.get("env", {})
        if env is not None and not isinstance(principal, dict):
            raise _ServerError(f"'{_pytype(principal)}' object has no attribute 'get'")
        compose_services = system.get("services", {})
        if isinstance(compose_services, dict) and not compose_services:
            raise _ServerError(_NO_SPEC)
        if env is None:
            raise _ServerError("'NoneType' object is not iterable")
        if isinstance(compose_services, dict) and isinstance(env, dict):
            self._check_compose(compose_services, env, principal)
        username = principal.get("username") if isinstance(principal, dict) else None
        if not isinstance(username, str) and isinstance(principal, dict):
            raise _ServerError(f"'{_pytype(username)}' object has no attribute 'replace'")
        # A non-empty `clients` list is off the document, but what servers then do is known.
        problems = [p for p in problems if not _CLIENTS_PROBLEM.match(p)]
        if problems:
            raise _off_document("start", problems)
        rule_failure = _breaks_server_rules(body)
        if rule_failure is not None:
            raise rule_failure
        if not isinstance(username, str) or not isinstance(env, dict):
            raise FakeTychoBug("a start request the document accepts has no username or env")
        return self._create(app_id, system, body, env, username)

    @staticmethod
    def _check_compose(
        compose_services: dict[str, Any], env: dict[str, Any], principal: Any
    ) -> None:
        """The failures real servers hit while turning compose services into containers."""
        ordered = [compose_services[key] for key in sorted(compose_services)]
        for service in ordered:
            if not isinstance(service, dict):
                raise _ServerError(f"'{_pytype(service)}' object has no attribute 'get'")
            ports = service.get("ports", [])
            for entry in ports if isinstance(ports, list) else []:
                if entry is None or isinstance(entry, (int, float)):
                    raise _ServerError(f"argument of type '{_pytype(entry)}' is not iterable")
        username = principal.get("username", "Unknown") if isinstance(principal, dict) else ""
        for value in [*env.values(), username]:
            if value is None or isinstance(value, (int, float)):
                raise _ServerError(f"argument of type '{_pytype(value)}' is not iterable")
        if not any(service.get("ports") for service in ordered):
            # Without ports the server's default system port is the integer 8000.
            raise _ServerError("argument of type 'int' is not iterable")
        for service in ordered:
            own_env = service.get("env")
            environment = service.get("environment", [])
            if not own_env and not isinstance(environment, list):
                raise _ServerError(
                    f"unsupported operand type(s) for +: '{_pytype(environment)}' and 'list'"
                )
        for service in ordered:
            if "image" not in service:
                raise _ServerError("image")
        for service in ordered:
            resources = _mapping(_mapping(service.get("deploy")).get("resources"))
            for kind in ("limits", "reservations"):
                for key in _mapping(resources.get(kind)):
                    if key not in _LIMITS_KEYWORDS:
                        # Servers build Limits(**amounts), which takes only these keywords.
                        raise _ServerError(
                            f"Limits.__init__() got an unexpected keyword argument '{key}'"
                        )
        for name in sorted(compose_services):
            volumes = compose_services[name].get("volumes")
            for volume in volumes if isinstance(volumes, list) else []:
                if isinstance(volume, str) and not _PVC_VOLUME.match(volume):
                    raise _ServerError(
                        f"Wrong Volume definition in Container:{name} and Volume:{volume}"
                    )

    def _create(
        self,
        app_id: str,
        system: dict[str, Any],
        body: dict[str, Any],
        env: dict[str, Any],
        username: str,
    ) -> tuple[Any, str]:
        """Start a system whose request the document accepts."""
        requested: dict[str, Any] = body.get("services", {})
        for service_spec in requested.values():
            for cidr in service_spec.get("clients", []):
                try:
                    ipaddress.ip_network(cidr)
                except ValueError as exc:
                    raise _ServerError(str(exc)) from None
        compose: dict[str, Any] = system["services"]
        names = sorted(compose)
        sid = uuid.uuid4().hex
        full_name = f"{app_id}-{sid}"
        record = FakeSystem(
            name=full_name,
            sid=sid,
            app_id=app_id,
            username=username,
            created=datetime.now(timezone.utc).replace(microsecond=0),
            containers={},
            services=requested,
            utilization={name: _limits(compose[name]) for name in names},
            images={name: compose[name]["image"] for name in names},
            conn_string=str(compose[names[-1]].get("conn_string", "")),
            serviceaccount=str(body.get("serviceaccount", "default")),
            is_ready=self.ready_after == 0,
            polls_until_ready=self.ready_after,
            compose=system,
            env=env,
        )
        # The Deployment exists before network policies and Services are made; a failure after
        # this point leaves it behind (servers clean up by full name, which matches nothing).
        failure: str | None = None
        if any(spec_.get("clients") for spec_ in requested.values()):
            failure = _NETPOLICY_TRACEBACK
        elif any(name in requested and not compose[name].get("ports") for name in names):
            failure = _SERVICE_TRACEBACK
        with self._lock:
            self._systems[sid] = record
            if failure is not None:
                raise _ServerError(
                    f"Unable to start system: {full_name} {_TRACEBACK_HEAD}{failure}"
                )
            for name in names:
                if name in requested:
                    record.containers[name] = {
                        "ip_address": self.service_ip_address,
                        "port-1": self._node_port(),
                    }
            result = {
                "name": full_name,
                "sid": sid,
                "containers": {k: dict(v) for k, v in record.containers.items()},
                "conn_string": record.conn_string,
            }
        return result, f"Started system {full_name}"

    def _node_port(self) -> int:
        port = self._next_node_port
        self._next_node_port = port + 1 if port < LAST_NODE_PORT else FIRST_NODE_PORT
        return port

    def _status(self, body: Any, problems: list[str]) -> tuple[Any, str]:
        if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
            raise _ServerError(ABORT)
        if problems:
            raise _off_document("status", problems)
        guid = body.get("name")
        username = body.get("username")
        with self._lock:
            if username:
                found = [s for s in self._systems.values() if s.username == username]
            elif guid:
                found = [s for s in self._systems.values() if s.sid == guid]
            else:
                found = list(self._systems.values())
            result = [self._report(s) for s in sorted(found, key=lambda s: s.name)]
        return result, f"Get status for system {guid}"

    @staticmethod
    def _report(system: FakeSystem) -> dict[str, Any]:
        is_ready = system.is_ready
        if system.polls_until_ready > 0:
            system.polls_until_ready -= 1
            if system.polls_until_ready == 0:
                system.is_ready = True
        return {
            "name": system.name,
            "app_id": system.app_id,
            "sid": system.sid,
            "ip_address": "127.0.0.1",
            "port": "80",
            "creation_time": system.creation_time,
            "username": system.username,
            "utilization": {
                name: None if limits is None else dict(limits)
                for name, limits in system.utilization.items()
            },
            "workspace_name": system.app_id,
            "is_ready": is_ready,
        }

    def _delete(self, body: Any, problems: list[str]) -> tuple[Any, str]:
        if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
            raise _ServerError(ABORT)
        if "name" not in body:
            raise _ServerError("name")
        if problems:
            raise _off_document("delete", problems)
        guid: str = body["name"]
        with self._lock:
            self._systems.pop(guid, None)
        return {}, f"Deleted system {guid}"

    def _modify(self, body: Any, problems: list[str]) -> tuple[Any, str]:
        if not isinstance(body, dict):
            raise _ServerError(ABORT)
        guid = body.get("tycho-guid")
        with self._lock:
            system = self._systems.get(guid) if isinstance(guid, str) else None
            if system is None:
                raise _ServerError(
                    f"Failed to modify system: {guid} {_TRACEBACK_HEAD}{_MODIFY_TRACEBACK}"
                )
            if problems:
                raise _off_document("modify", problems)
            labels: dict[str, str] = dict(body.get("labels", {}))
            resources = {key: body[key] for key in ("cpu", "memory") if key in body}
            system.labels.update(labels)
            system.resources.update(resources)
            if "cpu" in resources:
                resources["cpu"] = cpu_quantity(resources["cpu"])
            for name, limits in system.utilization.items():
                if resources:
                    system.utilization[name] = {**(limits or {}), **resources}
            patch = self._patch(system, labels, resources)
        return {"patches": [patch]}, "Modified the system"

    @staticmethod
    def _patch(
        system: FakeSystem, labels: dict[str, str], resources: dict[str, str]
    ) -> dict[str, Any]:
        """The Deployment patch servers render from ``patch.yaml`` (empty when nothing changes)."""
        if not labels and not resources:
            return {}
        template: dict[str, Any] = {}
        if labels:
            template["metadata"] = {"labels": dict(labels)}
        if resources:
            template["spec"] = {
                "containers": [
                    {
                        "resources": {"limits": dict(resources), "requests": dict(resources)},
                        "name": name,
                        "image": image,
                    }
                    for name, image in system.images.items()
                ]
            }
        return {"spec": {"template": template}}


_PRINCIPAL_SCHEMA = "/components/schemas/StartRequest/properties/principal/contentSchema"


def document_problems(operation: str, body: Any) -> list[str]:
    """Why ``body`` breaks the document's request schema for ``operation``, as
    ``path: fails 'keyword' (...)`` lines (empty: it is valid). For ``start`` this includes the
    ``contentSchema`` of ``principal`` (JSON Schema only annotates it; real servers parse it)."""
    found = spec.problems(spec.request_validator(operation), body)
    principal = body.get("principal") if isinstance(body, dict) else None
    if operation == "start" and isinstance(principal, str):
        try:
            parsed = json.loads(principal)
        except (ValueError, RecursionError):
            return [*found, "principal: not JSON text"]
        inner = spec.problems(spec.schema_validator(_PRINCIPAL_SCHEMA), parsed)
        found += [f"principal (JSON text){p.removeprefix('(body)')}" for p in inner]
    return found


def _header(headers: Mapping[str, str], name: str) -> str:
    if isinstance(headers, httpx.Headers):
        return str(headers.get(name, ""))
    return next((v for k, v in headers.items() if k.lower() == name), "")
