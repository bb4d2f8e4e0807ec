"""Find the Tycho API through the Kubernetes API: :class:`TychoClientFactory`.

Inside a cluster (``KUBERNETES_SERVICE_HOST`` set) the pod's service account is used and the
URL is the Service's cluster DNS name. Outside, the kubeconfig (``KUBECONFIG`` or
``~/.kube/config``) is used and the URL is the Service's external address: a LoadBalancer's
ingress, or a node's address with the NodePort. A ClusterIP-only Service cannot be reached from
outside; the error says how to port-forward instead.

This is the only module that imports ``kubernetes``, and only inside the functions that need
it, so that ``import tycho_client`` stays cheap for everyone who passes a URL.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tycho_client.errors import TychoDiscoveryError, quote_body

if TYPE_CHECKING:
    from tycho_client.aio import AsyncTychoClient
    from tycho_client.client import TychoClient

__all__ = [
    "API_TIMEOUT",
    "SERVICE_ACCOUNT_DIR",
    "TychoClientFactory",
    "kube_config_available",
]

logger: logging.Logger = logging.getLogger("tycho_client.discovery")

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where Kubernetes mounts a pod's service account: ``token``, ``ca.crt`` and ``namespace``."""

API_TIMEOUT: tuple[float, float] = (3.05, 10.0)
"""(connect, read) timeout in seconds of every Kubernetes API call made here."""

DEFAULT_KUBECONFIG = "~/.kube/config"
LOCAL_FORWARD_PORT = 5000


def _kubeconfig_paths() -> list[Path]:
    """The kubeconfig files kubectl would read: ``$KUBECONFIG``'s list, else ``~/.kube/config``.

    Read at call time: the kubernetes package fixes its default at import time, which would
    ignore a ``KUBECONFIG`` (or ``HOME``) set afterwards.
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
class _Connection:
    """A loaded Kubernetes client configuration and what it implies."""

    configuration: Any  # kubernetes.client.Configuration
    namespace: str  # the namespace to use when the caller names none
    in_cluster: bool
    source: str  # names the configuration in messages: the context and files, or in-cluster

    @property
    def where(self) -> str:
        return f"{self.source}, API server {self.configuration.host}"


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

    def get_url(self, name: str = "tycho-api", namespace: str | None = None) -> str:
        """The base URL of the Service ``name`` in ``namespace``.

        ``namespace`` None means the service account's namespace in a cluster, else the
        kubeconfig context's namespace, else ``default``.

        :raises TychoDiscoveryError: with ``reason`` ``no-config``, ``not-found``,
            ``forbidden``, ``unreachable``, ``no-external-address`` or ``error``.
        :raises TychoMissingDependencyError: when the ``kubernetes`` extra is not installed.
        """
        from tycho_client._extras import KUBERNETES, require

        require("kubernetes", KUBERNETES, feature="Kubernetes discovery (TychoClientFactory)")
        from kubernetes.client import ApiClient, CoreV1Api

        connection = self._connect()
        namespace = namespace or connection.namespace
        with ApiClient(connection.configuration) as api_client:
            core = CoreV1Api(api_client)
            try:
                service = core.read_namespaced_service(
                    name, namespace, _request_timeout=API_TIMEOUT
                )
            except Exception as exc:
                _raise_api_error(
                    exc,
                    connection,
                    permission=f"get services in namespace '{namespace}'",
                    not_found=f"no Service '{name}' in namespace '{namespace}'",
                )
            port = _pick_port(service, name, namespace)
            if connection.in_cluster:
                url = _url(port.scheme, f"{name}.{namespace}.svc", port.port)
            else:
                url = self._external_url(core, connection, service, port, name, namespace)
        logger.debug("found the Tycho API Service %s/%s at %s", namespace, name, url)
        return url

    def get_client(
        self, name: str = "tycho-api", namespace: str | None = None, **options: Any
    ) -> TychoClient:
        """A :class:`~tycho_client.client.TychoClient` for the Service; ``options`` (timeout,
        token, headers ...) go to its constructor."""
        from tycho_client.client import TychoClient

        return TychoClient(self.get_url(name, namespace), **options)

    def get_async_client(
        self, name: str = "tycho-api", namespace: str | None = None, **options: Any
    ) -> AsyncTychoClient:
        """An :class:`~tycho_client.aio.AsyncTychoClient` for the Service; ``options`` go to
        its constructor. Discovery itself is a short blocking call."""
        from tycho_client.aio import AsyncTychoClient

        return AsyncTychoClient(self.get_url(name, namespace), **options)

    # -- configuration --------------------------------------------------------------------

    def _connect(self) -> _Connection:
        from kubernetes.client import Configuration

        configuration = Configuration()
        use_in_cluster = self.in_cluster
        if use_in_cluster is None:
            use_in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not (
                self.kubeconfig or self.context
            )
        if use_in_cluster:
            namespace, source = self._load_in_cluster(configuration)
        else:
            namespace, source = self._load_kubeconfig(configuration)
        # urllib3's default of 3 retries with backoff makes an unreachable API server look like
        # a hang; fail at once and say so instead.
        configuration.retries = False
        connection = _Connection(configuration, namespace, use_in_cluster, source)
        logger.debug("using the Kubernetes API of %s", connection.where)
        return connection

    def _load_in_cluster(self, configuration: Any) -> tuple[str, str]:
        k8s_config = _kubernetes_config()
        account_dir = Path(self.service_account_dir or SERVICE_ACCOUNT_DIR)
        loader = k8s_config.incluster_config.InClusterConfigLoader(
            token_filename=str(account_dir / "token"),
            cert_filename=str(account_dir / "ca.crt"),
            environ=os.environ,
        )
        try:
            loader.load_and_set(configuration)
        except k8s_config.ConfigException as exc:
            raise TychoDiscoveryError(
                f"cannot use the in-cluster Kubernetes configuration: {exc} (it needs "
                f"KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, {account_dir}/token and "
                f"{account_dir}/ca.crt); pass the Tycho API URL instead (--url)",
                reason="no-config",
            ) from exc
        namespace = _read_text(account_dir / "namespace") or "default"
        return namespace, f"in-cluster service account {account_dir}"

    def _load_kubeconfig(self, configuration: Any) -> tuple[str, str]:
        import yaml

        k8s_config = _kubernetes_config()
        paths = [Path(self.kubeconfig).expanduser()] if self.kubeconfig else _kubeconfig_paths()
        existing = [str(path) for path in paths if path.is_file()]
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
        files = ", ".join(existing)
        try:
            # The merger and loader that load_kube_config uses, kept so that the chosen
            # context (and its namespace) can be read back.
            merged = k8s_config.kube_config.KubeConfigMerger(os.pathsep.join(existing)).config
            loader = k8s_config.kube_config.KubeConfigLoader(
                config_dict=merged, config_base_path=None, active_context=self.context
            )
            loader.load_and_set(configuration)
            context = loader.current_context
        except (k8s_config.ConfigException, yaml.YAMLError, OSError, KeyError) as exc:
            known = _context_names(existing)
            if self.context and self.context not in known:
                problem = f"no context '{self.context}' (contexts: {', '.join(known) or 'none'})"
            else:
                problem = _config_problem(exc)
            raise TychoDiscoveryError(
                f"cannot use the kubeconfig {files}: {problem}; pass the Tycho API URL "
                "instead (--url)",
                reason="no-config",
            ) from exc
        namespace = (context.get("context") or {}).get("namespace") or "default"
        return str(namespace), f"context '{context.get('name')}' of {files}"

    # -- addresses ------------------------------------------------------------------------

    def _external_url(
        self,
        core: Any,
        connection: _Connection,
        service: Any,
        port: _Port,
        name: str,
        namespace: str,
    ) -> str:
        service_type = service.spec.type or "ClusterIP"
        if service_type == "LoadBalancer":
            load_balancer = service.status.load_balancer if service.status else None
            for ingress in (load_balancer.ingress if load_balancer else None) or []:
                host = ingress.ip or ingress.hostname
                if host:
                    return _url(port.scheme, host, port.port)
            # Pending, or a cluster without a load balancer: the node port still answers.
            logger.debug("LoadBalancer %s/%s has no ingress; trying its node port", namespace, name)
        if service_type in ("LoadBalancer", "NodePort") and port.node_port:
            try:
                nodes = core.list_node(_request_timeout=API_TIMEOUT).items or []
            except Exception as exc:
                _raise_api_error(exc, connection, permission="list nodes (cluster-wide)")
            host = _node_address(nodes)
            if host:
                return _url(port.scheme, host, port.node_port)
            reason = "no node has an ExternalIP or InternalIP address"
        elif service_type == "LoadBalancer":
            reason = "its load balancer has no external address yet and it has no node port"
        else:
            reason = f"it is of type {service_type}, which has no address outside the cluster"
        local = f"{port.scheme}://localhost:{LOCAL_FORWARD_PORT}"
        raise TychoDiscoveryError(
            f"the Service '{name}' in namespace '{namespace}' cannot be reached from outside the "
            f"cluster: {reason}. Run `kubectl port-forward svc/{name} "
            f"{LOCAL_FORWARD_PORT}:{port.port} -n {namespace}` and pass --url {local}",
            reason="no-external-address",
        )


def _config_problem(exc: Exception) -> str:
    """What is wrong with a kubeconfig, without quoting its text (it may hold tokens)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"not valid YAML ({exc.problem}, line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(exc, yaml.YAMLError):
        return "not valid YAML"
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return quote_body(str(exc))


def _context_names(files: list[str]) -> list[str]:
    """The context names in kubeconfig files, for an error message; unreadable files add none."""
    import yaml

    names: list[str] = []
    for file in files:
        try:
            config = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
            names += [
                str(c["name"]) for c in config.get("contexts") or [] if c["name"] not in names
            ]
        except (yaml.YAMLError, OSError, AttributeError, KeyError, TypeError):
            continue
    return names


def _kubernetes_config() -> Any:
    """``kubernetes.config``, imported now; typed Any because its functions carry no hints."""
    import kubernetes.config

    return kubernetes.config


def _pick_port(service: Any, name: str, namespace: str) -> _Port:
    """The port named ``http``, else ``https`` (served as https), else the first one."""
    ports = (service.spec.ports if service.spec else None) or []
    if not ports:
        raise TychoDiscoveryError(
            f"the Service '{name}' in namespace '{namespace}' has no ports", reason="error"
        )
    by_name = {port.name: port for port in ports if port.name}
    for scheme in ("http", "https"):
        if scheme in by_name:
            chosen = by_name[scheme]
            break
    else:
        scheme, chosen = "http", ports[0]
    return _Port(scheme, int(chosen.port), int(chosen.node_port) if chosen.node_port else None)


def _node_address(nodes: list[Any]) -> str | None:
    """An ExternalIP of a node, else an InternalIP; Ready nodes first."""

    def ready(node: Any) -> bool:
        conditions = (node.status.conditions if node.status else None) or []
        return any(c.type == "Ready" and c.status == "True" for c in conditions)

    ordered = sorted(nodes, key=lambda node: not ready(node))
    for kind in ("ExternalIP", "InternalIP"):
        for node in ordered:
            for address in (node.status.addresses if node.status else None) or []:
                if address.type == kind and address.address:
                    return str(address.address)
    return None


def _url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        logger.debug("cannot read %s (%s); using namespace 'default'", path, exc)
        return ""


def _raise_api_error(
    exc: Exception, connection: _Connection, *, permission: str, not_found: str | None = None
) -> NoReturn:
    """Turn a failed Kubernetes API call into a :class:`TychoDiscoveryError`."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    where = connection.where
    unreachable = (
        f"cannot reach the Kubernetes API at {connection.configuration.host} ({connection.source})"
    )
    if isinstance(exc, ApiException) and not exc.status:
        # The kubernetes client reports a TLS failure as an ApiException with status 0.
        raise TychoDiscoveryError(
            f"{unreachable}: {quote_body(str(exc.reason))}", reason="unreachable"
        ) from exc
    if isinstance(exc, ApiException):
        detail = _status_message(exc.body)
        if exc.status == 404 and not_found:
            raise TychoDiscoveryError(f"{not_found} ({where}){detail}", reason="not-found") from exc
        if exc.status == 403:
            raise TychoDiscoveryError(
                f"the Kubernetes credentials ({where}) lack the permission to {permission}{detail}",
                reason="forbidden",
            ) from exc
        if exc.status == 401:
            raise TychoDiscoveryError(
                f"the Kubernetes API did not accept the credentials ({where}): 401 Unauthorized"
                f"{detail}",
                reason="forbidden",
            ) from exc
        raise TychoDiscoveryError(
            f"the Kubernetes API ({where}) answered {exc.status} {exc.reason} when asked to "
            f"{permission}{detail}",
            reason="error",
        ) from exc
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        raise TychoDiscoveryError(
            f"{unreachable}: {_transport_detail(exc)}", reason="unreachable"
        ) from exc
    raise exc


def _status_message(body: Any) -> str:
    """``: <message>`` from a Kubernetes Status body, bounded; empty when there is none."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return ""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = body
    return f": {quote_body(str(message))}" if message else ""


def _transport_detail(exc: BaseException) -> str:
    """The root cause of a urllib3 failure, e.g. ``[Errno 111] Connection refused``."""
    import urllib3

    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # NewConnectionError is a ConnectTimeoutError to urllib3, though it usually is a refusal.
    if isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(
        exc, urllib3.exceptions.NewConnectionError
    ):
        connect, read = API_TIMEOUT
        return f"no answer in time (timeouts: connect {connect}s, read {read}s)"
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    return str(root) or type(root).__name__
