"""Find the Tycho API through the Kubernetes API: :class:`TychoClientFactory`.

Inside a cluster (``KUBERNETES_SERVICE_HOST`` set) the pod's service account is used and the
URL is the Service's cluster DNS name. Outside, the kubeconfig (``KUBECONFIG`` or
``~/.kube/config``) is used and the URL is the Service's external address: a LoadBalancer's
ingress, or a node's address with the NodePort. A ClusterIP-only Service cannot be reached from
outside; the error says how to port-forward instead.

The configuration and the two GETs are :mod:`tycho_client._kube`'s, without the kubernetes
package (whose import alone takes 0.7 s); only kubeconfig credentials that run code (``exec``
plugins, ``auth-provider``) import it, then. Importing this module imports neither.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from tycho_client.errors import TychoDiscoveryError

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

    from tycho_client._config import AsyncClientKwargs, ClientKwargs
    from tycho_client._kube import Connection, Deadline, KubeAPI, Reply
    from tycho_client.aio import AsyncTychoClient
    from tycho_client.client import TychoClient

__all__ = [
    "API_TIMEOUT",
    "DISCOVERY_TIMEOUT",
    "SERVICE_ACCOUNT_DIR",
    "TychoClientFactory",
    "kube_config_available",
]

logger: logging.Logger = logging.getLogger("tycho_client.discovery")

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where Kubernetes mounts a pod's service account: ``token``, ``ca.crt`` and ``namespace``."""

API_TIMEOUT: tuple[float, float] = (3.05, 10.0)
"""(connect, read) timeout in seconds of every Kubernetes API call made here."""

DISCOVERY_TIMEOUT = 30.0
"""Seconds the whole discovery may take when no ``timeout`` is given (the client's default)."""

DEFAULT_KUBECONFIG = "~/.kube/config"
LOCAL_FORWARD_PORT = 5000

# A DNS name (RFC 1123 labels) or an IP literal: what an ingress or node address may be.
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def _kubeconfig_paths() -> list[Path]:
    """The kubeconfig files kubectl would read: ``$KUBECONFIG``'s list, else ``~/.kube/config``.

    Read at call time, so that a ``KUBECONFIG`` (or ``HOME``) set after import counts.
    """
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in listed or [DEFAULT_KUBECONFIG]]


def kube_config_available() -> bool:
    """Whether a Kubernetes configuration is at hand (without importing kubernetes).

    True inside a cluster (``KUBERNETES_SERVICE_HOST`` set) or when a kubeconfig file exists.
    """
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    return any(path.is_file() for path in _kubeconfig_paths())


@dataclass(frozen=True)
class _Port:
    scheme: str
    port: int
    node_port: int | None


class TychoClientFactory:
    """Locate the Tycho API Service in Kubernetes and build a client for it.

    ``context`` and ``kubeconfig`` choose the kubeconfig context and file(s) (default: the
    current context of ``$KUBECONFIG`` or ``~/.kube/config``). ``service_account_dir`` is where
    the in-cluster token, CA and namespace files are (default :data:`SERVICE_ACCOUNT_DIR`).
    ``in_cluster`` forces (True) or forbids (False) the in-cluster configuration; by default it
    is used when ``KUBERNETES_SERVICE_HOST`` is set and no kubeconfig or context was named.

    Nothing is read until a ``get_*`` method is called, so the environment of that moment counts.
    """

    def __init__(
        self,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        service_account_dir: str | None = None,
        in_cluster: bool | None = None,
    ) -> None:
        self.context = context
        self.kubeconfig = kubeconfig
        self.service_account_dir = service_account_dir
        self.in_cluster = in_cluster

    def get_url(
        self,
        name: str = "tycho-api",
        namespace: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
    ) -> str:
        """The base URL of the Service ``name`` in ``namespace``.

        ``namespace`` None means the service account's namespace in a cluster, else the
        kubeconfig context's namespace, else ``default``. ``timeout`` bounds the whole discovery
        (an ``httpx.Timeout``: its longest phase; default :data:`DISCOVERY_TIMEOUT` seconds).

        :raises TychoDiscoveryError: with ``reason`` ``no-config``, ``not-found``,
            ``forbidden``, ``unreachable``, ``no-external-address`` or ``error``.
        """
        from tycho_client._kube import Deadline, KubeAPI, deadline_seconds

        deadline = Deadline(deadline_seconds(timeout, DISCOVERY_TIMEOUT))
        connection = self._connect(deadline)
        namespace = namespace or connection.namespace
        logger.debug("using the Kubernetes API of %s", connection.where)
        with KubeAPI(connection, deadline, API_TIMEOUT) as api:
            path = f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{quote(name, safe='')}"
            reply = api.get(path)
            if reply.status != 200:
                _raise_api_error(
                    reply,
                    connection,
                    permission=f"get services in namespace {_shown(namespace)}",
                    not_found=f"no Service {_shown(name)} in namespace {_shown(namespace)}",
                )
            service = _Service(reply.data, name, namespace)
            port = service.port()
            if connection.in_cluster:
                url = _url(port.scheme, f"{name}.{namespace}.svc", port.port)
            else:
                url = _external_url(api, service, port)
        logger.debug("found the Tycho API Service %s/%s at %s", namespace, name, url)
        return url

    async def get_url_async(
        self,
        name: str = "tycho-api",
        namespace: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
    ) -> str:
        """:meth:`get_url` in a worker thread, so the event loop keeps running meanwhile.

        Cancelling the caller returns at once; the thread ends by the discovery deadline.
        """
        import functools

        import anyio.to_thread

        work = functools.partial(self.get_url, name, namespace, timeout=timeout)
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    def get_client(
        self,
        name: str = "tycho-api",
        namespace: str | None = None,
        **options: Unpack[ClientKwargs],
    ) -> TychoClient:
        """A :class:`~tycho_client.client.TychoClient` for the Service; ``options`` (timeout,
        token, headers ...) go to its constructor, and its ``timeout`` bounds the discovery."""
        from tycho_client.client import TychoClient

        url = self.get_url(name, namespace, timeout=options.get("timeout"))
        return TychoClient(url, **options)

    async def get_async_client(
        self,
        name: str = "tycho-api",
        namespace: str | None = None,
        **options: Unpack[AsyncClientKwargs],
    ) -> AsyncTychoClient:
        """An :class:`~tycho_client.aio.AsyncTychoClient` for the Service (``options`` as for
        :meth:`get_client`); discovery runs in a worker thread (:meth:`get_url_async`)."""
        from tycho_client.aio import AsyncTychoClient

        url = await self.get_url_async(name, namespace, timeout=options.get("timeout"))
        return AsyncTychoClient(url, **options)

    # -- configuration --------------------------------------------------------------------

    def _connect(self, deadline: Deadline) -> Connection:
        from tycho_client import _kube

        use_in_cluster = self.in_cluster
        if use_in_cluster is None:
            use_in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not (
                self.kubeconfig or self.context
            )
        if use_in_cluster:
            account_dir = Path(self.service_account_dir or SERVICE_ACCOUNT_DIR)
            return _kube.load_in_cluster(account_dir, os.environ)
        paths = [Path(self.kubeconfig).expanduser()] if self.kubeconfig else _kubeconfig_paths()
        existing = [path for path in paths if path.is_file()]
        if not existing:
            looked_for = ", ".join(str(path) for path in paths)
            not_in_cluster = (
                ""
                if os.environ.get("KUBERNETES_SERVICE_HOST")
                else "not inside a cluster (KUBERNETES_SERVICE_HOST is not set) and "
            )
            raise TychoDiscoveryError(
                f"no Kubernetes configuration found: {not_in_cluster}no kubeconfig file at "
                f"{looked_for}; pass the Tycho API URL instead (--url)",
                reason="no-config",
            )
        return _kube.load_kubeconfig(existing, self.context, deadline)


# -- the Service and the nodes, as JSON ---------------------------------------------------------


class _Service:
    """A Service object from the API, read defensively: any field may be missing or wrong."""

    def __init__(self, data: Any, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace
        self.label = f"the Service {_shown(name)} in namespace {_shown(namespace)}"
        spec = data.get("spec") if isinstance(data, dict) else None
        if not isinstance(spec, dict):
            self._invalid("spec", spec)
        self.spec: dict[str, Any] = spec
        status = data.get("status")
        self.status: dict[str, Any] = status if isinstance(status, dict) else {}

    def _invalid(self, field: str, value: Any) -> NoReturn:
        from tycho_client._kube import safe_quote

        raise TychoDiscoveryError(
            f"{self.label} has an invalid {field}: {safe_quote(_json_text(value), 80)}",
            reason="error",
        )

    @property
    def type(self) -> str:
        value = self.spec.get("type") or "ClusterIP"
        if not isinstance(value, str):
            self._invalid("spec.type", value)
        return value

    def port(self) -> _Port:
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
        return _Port(scheme, number, node_port or None)

    def _port_number(self, value: Any, field: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            return value
        self._invalid(field, value)

    def ingress_hosts(self) -> list[str]:
        from tycho_client._kube import iter_dicts

        balancer = self.status.get("loadBalancer")
        entries = balancer.get("ingress") if isinstance(balancer, dict) else None
        hosts: list[str] = []
        for entry in iter_dicts(entries):
            host = entry.get("ip") or entry.get("hostname")
            if _valid_host(host):
                hosts.append(str(host))
        return hosts


def _external_url(api: KubeAPI, service: _Service, port: _Port) -> str:
    service_type = service.type
    if service_type == "LoadBalancer":
        hosts = service.ingress_hosts()
        if hosts:
            return _url(port.scheme, hosts[0], port.port)
        # Pending, or a cluster without a load balancer: the node port still answers.
        logger.debug("LoadBalancer %s has no ingress; trying its node port", service.label)
    if service_type in ("LoadBalancer", "NodePort") and port.node_port:
        reply = api.get("/api/v1/nodes")
        if reply.status != 200:
            _raise_api_error(reply, api.connection, permission="list nodes (cluster-wide)")
        node = _node_address(reply.data.get("items"))
        if node:
            return _url(port.scheme, node, port.node_port)
        reason = "no node has an ExternalIP or InternalIP address"
    elif service_type == "LoadBalancer":
        reason = "its load balancer has no external address yet and it has no node port"
    else:
        reason = f"it is of type {_shown(service_type)}, which has no address outside the cluster"
    name, namespace = service.name, service.namespace
    local = f"{port.scheme}://localhost:{LOCAL_FORWARD_PORT}"
    raise TychoDiscoveryError(
        f"{service.label} cannot be reached from outside the cluster: {reason}. Run `kubectl "
        f"port-forward svc/{name} {LOCAL_FORWARD_PORT}:{port.port} -n {namespace}` and pass "
        f"--url {local}",
        reason="no-external-address",
    )


def _node_address(items: Any) -> str | None:
    """An ExternalIP of a node, else an InternalIP; Ready nodes first."""
    from tycho_client._kube import iter_dicts

    def status(node: Any) -> dict[str, Any]:
        value = node.get("status")
        return value if isinstance(value, dict) else {}

    def ready(node: Any) -> bool:
        conditions = iter_dicts(status(node).get("conditions"))
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    ordered = sorted(iter_dicts(items), key=lambda node: not ready(node))
    for kind in ("ExternalIP", "InternalIP"):
        for node in ordered:
            for address in iter_dicts(status(node).get("addresses")):
                if address.get("type") == kind and _valid_host(address.get("address")):
                    return str(address["address"])
    return None


def _valid_host(host: Any) -> bool:
    """A DNS name or an IP literal: nothing else may go into a URL we print and connect to."""
    import ipaddress

    if not isinstance(host, str) or not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST.match(host) is not None
    return True


def _url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _shown(text: str) -> str:
    from tycho_client._kube import safe_quote

    return f"'{safe_quote(text, 100)}'"


def _json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _raise_api_error(
    reply: Reply, connection: Connection, *, permission: str, not_found: str | None = None
) -> NoReturn:
    """Turn a Kubernetes API answer other than 200 into a :class:`TychoDiscoveryError`."""
    where = connection.where
    detail = _status_message(reply)
    if reply.status == 404 and not_found:
        raise TychoDiscoveryError(f"{not_found} ({where}){detail}", reason="not-found")
    if reply.status == 403:
        raise TychoDiscoveryError(
            f"the Kubernetes credentials ({where}) lack the permission to {permission}{detail}",
            reason="forbidden",
        )
    if reply.status == 401:
        raise TychoDiscoveryError(
            f"the Kubernetes API did not accept the credentials ({where}): 401 Unauthorized"
            f"{detail}",
            reason="forbidden",
        )
    from tycho_client._kube import safe_quote

    raise TychoDiscoveryError(
        f"the Kubernetes API ({where}) answered {reply.status} {safe_quote(reply.reason, 60)} "
        f"when asked to {permission}{detail}",
        reason="error",
    )


def _status_message(reply: Reply) -> str:
    """``: <message>`` from a Kubernetes Status body, escaped and bounded; empty when none."""
    from tycho_client._kube import safe_quote

    message = reply.data.get("message") if isinstance(reply.data, dict) else reply.text
    return f": {safe_quote(message)}" if message else ""
