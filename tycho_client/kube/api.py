"""The Kubernetes API reads that discovery makes: a Service, and the addresses of the nodes.

The GETs go over the clients' own connection pool (:func:`tycho_client._transport.connection_pool`),
whose every socket operation waits at most until the discovery's
:class:`~tycho_client.kube.Deadline`, so a server that trickles bytes cannot stretch it; every
reply is bounded by :data:`MAX_RESPONSE_BYTES`. The objects are read defensively: any field may
be missing or of the wrong type. Every value used is checked whole -- an address is exactly an IP
literal or a DNS name (no whitespace around it, no newline after it), a port exactly an integer
in range -- and anything else is a :class:`TychoDiscoveryError` naming the object and the field,
never a URL the user did not type. Every text quoted in a message is escaped and bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import httpcore

from tycho_client._transport import DEADLINE, connection_pool
from tycho_client.errors import TychoDiscoveryError, quote_body
from tycho_client.kube import Deadline, is_dns_name, is_host, is_ip, quoted
from tycho_client.kube.config import Connection

__all__ = ["MAX_RESPONSE_BYTES", "KubeAPI", "Port", "Reply", "Service"]

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The largest Kubernetes API reply read (8 MiB); a larger one is a :class:`TychoDiscoveryError`."""


@dataclass(frozen=True)
class Reply:
    """A Kubernetes API answer: its status, reason phrase and JSON body (None if not JSON)."""

    status: int
    reason: str
    data: Any
    text: str  # the body as text, for a non-JSON error answer


@dataclass(frozen=True)
class Port:
    """The Service port to use: its scheme (http or https), number and node port if any."""

    scheme: str
    port: int
    node_port: int | None


class KubeAPI:
    """GETs to one Kubernetes API server, sharing one connection, bounded by ``deadline``.

    ``timeouts`` are the (connect, read) timeouts of each call; none outlasts the deadline.
    """

    def __init__(
        self, connection: Connection, deadline: Deadline, timeouts: tuple[float, float]
    ) -> None:
        self.connection = connection
        self.deadline = deadline
        self.timeouts = timeouts
        self._pool = connection_pool(
            ssl_context=connection.ssl_context, proxy=connection.proxy, max_connections=1
        )

    def __enter__(self) -> KubeAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.close()

    def service(self, name: str, namespace: str) -> Service:
        """The Service ``name`` in ``namespace``."""
        reply = self.get(
            f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{quote(name, safe='')}"
        )
        if reply.status != 200:
            raise self._refused(
                reply,
                f"get services in namespace {quoted(namespace)}",
                not_found=f"no Service {quoted(name)} in namespace {quoted(namespace)}",
            )
        return Service(reply.data, name, namespace)

    def node_address(self) -> str | None:
        """An ExternalIP of a node, else an InternalIP; Ready nodes first.

        Entries that are not objects are passed over; the address chosen must be a host
        (an IP literal or DNS name, exactly), else it is an error naming the node.
        """
        reply = self.get("/api/v1/nodes")
        if reply.status != 200:
            raise self._refused(reply, "list nodes (cluster-wide)")

        def status(node: Mapping[str, Any]) -> Mapping[str, Any]:
            value = node.get("status")
            return value if isinstance(value, dict) else {}

        def ready(node: Mapping[str, Any]) -> bool:
            conditions = (c for _, c in _dicts(status(node).get("conditions")))
            return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

        nodes = sorted(_dicts(reply.data.get("items")), key=lambda item: not ready(item[1]))
        for kind in ("ExternalIP", "InternalIP"):
            for index, node in nodes:
                for at, address in _dicts(status(node).get("addresses")):
                    if address.get("type") != kind:
                        continue
                    value = address.get("address")
                    if not is_host(value):
                        metadata = node.get("metadata")
                        name = metadata.get("name") if isinstance(metadata, dict) else None
                        label = f"the node {quoted(name)}" if isinstance(name, str) else "a node"
                        where = f"{label} (items[{index}] of the node list)"
                        raise _invalid_value(where, f"status.addresses[{at}].address", value)
                    return str(value)
        return None

    def get(self, path: str) -> Reply:
        """GET ``path``; a transport failure is a :class:`TychoDiscoveryError` ``unreachable``,
        a reply over :data:`MAX_RESPONSE_BYTES` or a 2xx that is not JSON one of ``error``."""
        connect, read = self.timeouts
        headers = [("Accept", "application/json"), ("User-Agent", "tycho-client")]
        if self.connection.authorization:
            headers.append(("Authorization", self.connection.authorization))
        # Not cut to the time left here: the pool's backend cuts every socket operation to it.
        timeouts = {"connect": connect, "read": read, "write": read, "pool": connect}
        extensions: dict[str, Any] = {"timeout": timeouts}
        if self.connection.tls_server_name:
            extensions["sni_hostname"] = self.connection.tls_server_name
        url = self.connection.server + path
        token = DEADLINE.set(self.deadline.end)
        try:
            with self._pool.stream("GET", url, headers=headers, extensions=extensions) as answer:
                body = self._read(answer.iter_stream(), answer.headers)
                status = answer.status
                reason = answer.extensions.get("reason_phrase", b"").decode("ascii", "replace")
        except httpcore.TimeoutException as exc:
            raise self._unreachable(self._timeout_detail()) from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError, OSError) as exc:
            if self.deadline.expired:
                raise self._unreachable(self._timeout_detail()) from exc
            raise self._unreachable(_root_cause(exc)) from exc
        except (httpcore.UnsupportedProtocol, ValueError) as exc:  # e.g. a host httpcore rejects
            raise self._unreachable(quote_body(str(exc))) from exc
        finally:
            DEADLINE.reset(token)
        return self._reply(status, reason, body, path)

    def _read(self, chunks: Iterable[bytes], headers: list[tuple[bytes, bytes]]) -> bytes:
        for name, value in headers:
            declared = value.strip()
            too_large = declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES
            if name.lower() == b"content-length" and too_large:
                raise self._too_large()
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise self._too_large()
        return bytes(body)

    def _reply(self, status: int, reason: str, body: bytes, path: str) -> Reply:
        text = body.decode("utf-8", "replace")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        if 200 <= status < 300 and not isinstance(data, dict):
            raise TychoDiscoveryError(
                f"the Kubernetes API ({self.connection.where}) answered GET {path} with a body "
                f"that is not a JSON object: {quote_body(text, 120) or '(empty)'}",
                reason="error",
            )
        return Reply(status, reason, data, text)

    def _refused(
        self, reply: Reply, permission: str, not_found: str | None = None
    ) -> TychoDiscoveryError:
        """The error for an answer other than 200 to the request ``permission`` names."""
        where = self.connection.where
        message = reply.data.get("message") if isinstance(reply.data, dict) else reply.text
        detail = f": {quote_body(str(message))}" if message else ""
        if reply.status == 404 and not_found:
            return TychoDiscoveryError(f"{not_found} ({where}){detail}", reason="not-found")
        if reply.status == 403:
            return TychoDiscoveryError(
                f"the Kubernetes credentials ({where}) lack the permission to {permission}{detail}",
                reason="forbidden",
            )
        if reply.status == 401:
            return TychoDiscoveryError(
                f"the Kubernetes API did not accept the credentials ({where}): 401 Unauthorized"
                f"{detail}",
                reason="forbidden",
            )
        return TychoDiscoveryError(
            f"the Kubernetes API ({where}) answered {reply.status} {quote_body(reply.reason, 60)}"
            f" when asked to {permission}{detail}",
            reason="error",
        )

    def _too_large(self) -> TychoDiscoveryError:
        return TychoDiscoveryError(
            f"the Kubernetes API ({self.connection.where}) sent a reply larger than "
            f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
            reason="error",
        )

    def _timeout_detail(self) -> str:
        if self.deadline.expired:
            return f"no answer within the discovery deadline of {self.deadline.seconds:g}s"
        connect, read = self.timeouts
        return f"no answer in time (timeouts: connect {connect}s, read {read}s)"

    def _unreachable(self, detail: str) -> TychoDiscoveryError:
        connection = self.connection
        return TychoDiscoveryError(
            f"cannot reach the Kubernetes API at {connection.server} ({connection.source}): "
            f"{detail}",
            reason="unreachable",
        )


class Service:
    """A Service object from the API, read defensively: any field may be missing or wrong."""

    def __init__(self, data: Any, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace
        self.label: str = f"the Service {quoted(name)} in namespace {quoted(namespace)}"
        spec = data.get("spec") if isinstance(data, dict) else None
        if not isinstance(spec, dict):
            self._invalid("spec", spec)
        self.spec: dict[str, Any] = spec
        status = data.get("status")
        self.status: dict[str, Any] = status if isinstance(status, dict) else {}

    @property
    def type(self) -> str:
        value = self.spec.get("type") or "ClusterIP"
        if not isinstance(value, str):
            self._invalid("spec.type", value)
        return value

    def port(self) -> Port:
        """The port named ``http``, else ``https`` (served as https), else the first one."""
        ports = self.spec.get("ports") or []
        if not isinstance(ports, list) or not all(isinstance(p, dict) for p in ports):
            self._invalid("spec.ports", ports)
        if not ports:
            raise TychoDiscoveryError(f"{self.label} has no ports", reason="error")
        index, scheme = 0, "http"
        names = [port.get("name") for port in ports]
        for wanted in ("http", "https"):
            if wanted in names:
                index, scheme = names.index(wanted), wanted
                break
        chosen = ports[index]
        number = self._port_number(chosen.get("port"), f"spec.ports[{index}].port")
        node_port = chosen.get("nodePort")
        if node_port is not None:
            node_port = self._port_number(node_port, f"spec.ports[{index}].nodePort")
        return Port(scheme, number, node_port or None)

    def ingress_hosts(self) -> list[str]:
        """The load balancer's addresses: each entry's ``ip`` (an IP literal), else its
        ``hostname`` (a DNS name). Entries that are not objects, or name neither, are passed
        over; an address that is not exactly what its field promises is an error."""
        balancer = self.status.get("loadBalancer")
        entries = balancer.get("ingress") if isinstance(balancer, dict) else None
        hosts: list[str] = []
        for index, entry in _dicts(entries):
            for key, valid in (("ip", is_ip), ("hostname", is_dns_name)):
                value = entry.get(key)
                if value is None or value == "":  # unset, as the API server treats ""
                    continue
                if not valid(value):
                    self._invalid(f"status.loadBalancer.ingress[{index}].{key}", value)
                hosts.append(str(value))
                break
        return hosts

    def _port_number(self, value: Any, field: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            return value
        self._invalid(field, value)

    def _invalid(self, field: str, value: Any) -> NoReturn:
        raise _invalid_value(self.label, field, value)


def _invalid_value(where: str, field: str, value: Any) -> TychoDiscoveryError:
    """The error for a ``field`` of the object ``where`` whose ``value`` cannot be used; the
    value is shown as JSON (so whitespace and newlines are visible), escaped and bounded."""
    try:
        shown = json.dumps(value)
    except (TypeError, ValueError):
        shown = repr(value)
    return TychoDiscoveryError(
        f"{where} has an invalid {field}: {quote_body(shown, 80)}; fix it in Kubernetes, or pass "
        "the Tycho API URL instead (--url)",
        reason="error",
    )


def _dicts(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """The mappings in ``value`` with their indexes, if it is a list (anything else in it is
    passed over: it names nothing to use)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _root_cause(exc: BaseException) -> str:
    """The innermost cause, e.g. ``[Errno 111] Connection refused`` or a certificate failure."""
    root = exc
    while (inner := root.__cause__ or root.__context__) is not None:
        root = inner
    return quote_body(str(root) or str(exc) or type(root).__name__)
