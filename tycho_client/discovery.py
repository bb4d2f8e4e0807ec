"""Find the Tycho API through the Kubernetes API: :class:`TychoClientFactory`.

Inside a cluster (``KUBERNETES_SERVICE_HOST`` set) the pod's service account is used and the
URL is the Service's cluster DNS name. Outside, the kubeconfig (``KUBECONFIG`` or
``~/.kube/config``) is used and the URL is the Service's external address: a LoadBalancer's
ingress, or a node's address with the NodePort. A ClusterIP-only Service cannot be reached from
outside; the error says how to port-forward instead.

The configuration (:mod:`tycho_client.kube.config`, :mod:`tycho_client.kube.incluster`) and the
two reads (:mod:`tycho_client.kube.api`) are made without the kubernetes package (whose import
alone takes 0.7 s); only kubeconfig credentials that run code (``exec`` plugins,
``auth-provider``) import it, then. Importing this module imports neither.

Discovery never blocks and trusts nothing: every file it reads is a regular file, bounded, read
(and the kubeconfig parsed) within the one deadline; every value from the Kubernetes API is
checked whole before it goes into the URL.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tycho_client import _publish
from tycho_client._defaults import DEFAULT_SERVICE_NAME
from tycho_client.errors import TychoDiscoveryError

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

    from tycho_client._config import AsyncClientKwargs, ClientKwargs
    from tycho_client.aio import AsyncTychoClient
    from tycho_client.client import TychoClient
    from tycho_client.kube import Deadline
    from tycho_client.kube.api import KubeAPI, Port, Service
    from tycho_client.kube.config import Connection

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


def _kubeconfig_paths() -> list[Path]:
    """The kubeconfig files kubectl would read: ``$KUBECONFIG``'s list, else ``~/.kube/config``.

    Read at call time, so that a ``KUBECONFIG`` (or ``HOME``) set after import counts.
    """
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in listed or [DEFAULT_KUBECONFIG]]


def kube_config_available() -> bool:
    """Whether a Kubernetes configuration is at hand (without importing kubernetes).

    True inside a cluster (``KUBERNETES_SERVICE_HOST`` set) or when a kubeconfig path exists,
    whatever it is: one that is not a regular file (a FIFO, a directory) is then reported by
    the discovery, rather than passed over for a default URL.
    """
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    return any(path.exists() for path in _kubeconfig_paths())


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
        name: str = DEFAULT_SERVICE_NAME,
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
        from tycho_client.kube import Deadline
        from tycho_client.kube.api import KubeAPI

        deadline = Deadline(_deadline_seconds(timeout))
        connection = self._connect(deadline)
        namespace = namespace or connection.namespace
        logger.debug("using the Kubernetes API of %s", connection.where)
        with KubeAPI(connection, deadline, API_TIMEOUT) as api:
            service = api.service(name, namespace)
            port = service.port()
            if connection.in_cluster:
                url = _url(port.scheme, f"{name}.{namespace}.svc", port.port)
            else:
                url = _external_url(api, service, port)
        logger.debug("found the Tycho API Service %s/%s at %s", namespace, name, url)
        return url

    async def get_url_async(
        self,
        name: str = DEFAULT_SERVICE_NAME,
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
        name: str = DEFAULT_SERVICE_NAME,
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
        name: str = DEFAULT_SERVICE_NAME,
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
        from tycho_client.kube import config, incluster

        use_in_cluster = self.in_cluster
        if use_in_cluster is None:
            use_in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not (
                self.kubeconfig or self.context
            )
        if use_in_cluster:
            account_dir = Path(self.service_account_dir or SERVICE_ACCOUNT_DIR)
            return incluster.load_in_cluster(account_dir, os.environ, deadline)
        paths = [Path(self.kubeconfig).expanduser()] if self.kubeconfig else _kubeconfig_paths()
        # Missing files are skipped, as kubectl does; any other path is read, and one that is
        # not a regular file refused by the reader (exists() stats, never opens: no FIFO waits).
        existing = [path for path in paths if path.exists()]
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
        return config.load_kubeconfig(existing, self.context, deadline)


def _deadline_seconds(timeout: float | httpx.Timeout | None) -> float:
    """The whole discovery's deadline from a client ``timeout`` option: a number of seconds, or
    an ``httpx.Timeout`` (its longest phase); None means :data:`DISCOVERY_TIMEOUT`."""
    from tycho_client._config import positive_seconds

    if timeout is None:
        return DISCOVERY_TIMEOUT
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return positive_seconds(float(timeout), "timeout")
    phases = [getattr(timeout, name, None) for name in ("connect", "read", "write", "pool")]
    numbers = [float(p) for p in phases if isinstance(p, (int, float))]
    return positive_seconds(max(numbers), "timeout") if numbers else DISCOVERY_TIMEOUT


def _external_url(api: KubeAPI, service: Service, port: Port) -> str:
    """A LoadBalancer's ingress, else a node's address with the node port, else an error that
    says how to port-forward."""
    from tycho_client.kube import quoted

    service_type = service.type
    if service_type == "LoadBalancer":
        hosts = service.ingress_hosts()
        if hosts:
            return _url(port.scheme, hosts[0], port.port)
        # Pending, or a cluster without a load balancer: the node port still answers.
        logger.debug("LoadBalancer %s has no ingress; trying its node port", service.label)
    if service_type in ("LoadBalancer", "NodePort") and port.node_port:
        node = api.node_address()
        if node:
            return _url(port.scheme, node, port.node_port)
        reason = "no node has an ExternalIP or InternalIP address"
    elif service_type == "LoadBalancer":
        reason = "its load balancer has no external address yet and it has no node port"
    else:
        reason = f"it is of type {quoted(service_type)}, which has no address outside the cluster"
    name, namespace = service.name, service.namespace
    local = f"{port.scheme}://localhost:{LOCAL_FORWARD_PORT}"
    raise TychoDiscoveryError(
        f"{service.label} cannot be reached from outside the cluster: {reason}. Run `kubectl "
        f"port-forward svc/{name} {LOCAL_FORWARD_PORT}:{port.port} -n {namespace}` and pass "
        f"--url {local}",
        reason="no-external-address",
    )


def _url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


_publish(__name__, globals())
