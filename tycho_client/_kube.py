"""Talk to the Kubernetes API without the kubernetes package: configuration and bounded GETs.

Discovery needs a configuration (the in-cluster service account, or a kubeconfig context) and two
GETs. Importing ``kubernetes`` builds hundreds of generated model classes (0.7 s), so this module
reads the kubeconfig itself (every connection setting and the static credentials: client
certificates, tokens, token files, basic auth) and sends the GETs with httpcore, the engine of
httpx. Only the credentials that run code -- ``exec`` plugins and ``auth-provider`` -- are
delegated to the kubernetes package, imported then (:func:`_delegated_credentials`).

Every wait is bounded by one :class:`Deadline` for the whole discovery (a network backend clamps
each socket operation to the time left, so a server that trickles bytes cannot stretch it), and
every reply by :data:`MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpcore

from tycho_client._transport import DEADLINE, DeadlineBackend
from tycho_client.errors import TychoDiscoveryError, TychoValidationError, quote_body

__all__ = [
    "MAX_KUBECONFIG_BYTES",
    "MAX_RESPONSE_BYTES",
    "Connection",
    "Deadline",
    "KubeAPI",
    "Reply",
    "deadline_seconds",
    "iter_dicts",
    "load_in_cluster",
    "load_kubeconfig",
    "safe_quote",
]

logger: logging.Logger = logging.getLogger("tycho_client.discovery")

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The largest Kubernetes API reply read (8 MiB); a larger one is a :class:`TychoDiscoveryError`."""

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
"""The largest kubeconfig file read (16 MiB: room for many embedded certificates)."""

INSTALL_KUBERNETES = "pip install 'tycho-client[kubernetes]'"

T = TypeVar("T")


def safe_quote(value: object, limit: int = 200) -> str:
    """``value`` for an error message: control characters escaped, one line, bounded.

    Text from a Kubernetes API server (or a kubeconfig) could otherwise drive the terminal.
    """
    text = str(value)
    escaped = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text[: limit * 2]
    )
    return quote_body(escaped, limit)


class Deadline:
    """The end of the whole discovery, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def clamp(self, timeout: float | None) -> float:
        """``timeout`` cut to the time left; :class:`httpcore.TimeoutException` when none is."""
        left = self.remaining()
        if left <= 0:
            raise httpcore.ReadTimeout(f"the discovery deadline of {self.seconds:g}s passed")
        return left if timeout is None else min(timeout, left)

    def run(self, what: str, work: Callable[[], T]) -> T:
        """``work()`` in a thread, waited for until the deadline: for code that has none of its
        own (an ``exec`` credential plugin). A late thread is left to finish on its own."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc

        thread = threading.Thread(target=target, name=f"tycho-discovery {what}", daemon=True)
        thread.start()
        thread.join(max(self.remaining(), 0.0))
        if thread.is_alive():
            raise TychoDiscoveryError(
                f"{what} did not finish within the discovery deadline of {self.seconds:g}s",
                reason="unreachable",
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Connection:
    """Where the Kubernetes API is and how to authenticate to it."""

    server: str  # scheme://host[:port][/prefix], no trailing slash
    namespace: str  # the namespace to use when the caller names none
    in_cluster: bool
    source: str  # names the configuration in messages: the context and files, or in-cluster
    authorization: str | None = field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    tls_server_name: str | None = None
    proxy: str | None = None

    @property
    def where(self) -> str:
        return f"{self.source}, API server {self.server}"


# -- in-cluster ---------------------------------------------------------------------------------


def load_in_cluster(account_dir: Path, environ: Mapping[str, str]) -> Connection:
    """The pod's service account: ``KUBERNETES_SERVICE_HOST``/``_PORT``, its token and CA."""
    token_file, ca_file = account_dir / "token", account_dir / "ca.crt"

    def fail(problem: str) -> TychoDiscoveryError:
        return TychoDiscoveryError(
            f"cannot use the in-cluster Kubernetes configuration: {problem} (it needs "
            f"KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, {token_file} and {ca_file}); "
            "pass the Tycho API URL instead (--url)",
            reason="no-config",
        )

    host = environ.get("KUBERNETES_SERVICE_HOST", "").strip()
    port = environ.get("KUBERNETES_SERVICE_PORT", "").strip()
    if not host or not port:
        raise fail("service host/port is not set")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise fail(f"KUBERNETES_SERVICE_PORT is not a port number: {safe_quote(port)}")
    server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    try:
        token = _read_file(token_file, "the service account token").decode("utf-8").strip()
        ca_pem = _read_file(ca_file, "the service account CA").decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(_file_problem(exc)) from exc
    if not token:
        raise fail(f"{token_file} is empty")
    if not ca_pem.strip():
        raise fail(f"{ca_file} is empty")
    try:
        context = ssl.create_default_context(cadata=ca_pem)
    except (ssl.SSLError, ValueError) as exc:
        raise fail(f"{ca_file} holds no usable CA certificate ({safe_quote(exc)})") from exc
    try:
        authorization = _bearer(token, str(token_file))
    except _KubeconfigError as exc:
        raise fail(str(exc)) from exc
    namespace = _read_namespace(account_dir / "namespace")
    return Connection(
        server=server,
        namespace=namespace,
        in_cluster=True,
        source=f"in-cluster service account {account_dir}",
        authorization=authorization,
        ssl_context=context,
        proxy=_environment_proxy(server),
    )


def _read_namespace(path: Path) -> str:
    try:
        namespace = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        logger.debug("cannot read %s (%s); using namespace 'default'", path, exc)
        return "default"
    return namespace or "default"


# -- kubeconfig ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """A named cluster, user or context, and the folder its relative paths start from."""

    body: Mapping[str, Any]
    base: Path


class _KubeconfigError(Exception):
    """A problem with the kubeconfig, worded without quoting its values (they may be secrets)."""


def load_kubeconfig(files: list[Path], context: str | None, deadline: Deadline) -> Connection:
    """The connection that the ``context`` (default: the current one) of ``files`` names.

    ``files`` are merged as kubectl does: the first file to name a cluster, user or context, and
    the first to set ``current-context``, wins.
    """
    shown = ", ".join(str(path) for path in files)
    try:
        return _load_kubeconfig(files, context, deadline, shown)
    except _KubeconfigError as exc:
        raise TychoDiscoveryError(
            f"cannot use the kubeconfig {shown}: {exc}; pass the Tycho API URL instead (--url)",
            reason="no-config",
        ) from exc


def _merge(files: list[Path]) -> tuple[dict[str, dict[str, _Entry]], str | None]:
    """The named ``clusters``, ``users`` and ``contexts`` of ``files``, and ``current-context``."""
    sections: dict[str, dict[str, _Entry]] = {"clusters": {}, "users": {}, "contexts": {}}
    current: str | None = None
    for path in files:
        document = _parse_kubeconfig(path)
        base = path.resolve().parent
        for section, entries in sections.items():
            kind = section[:-1]
            for index, item in enumerate(_list(document.get(section), f"{path}: {section}")):
                where = f"{path}: {section}[{index}]"
                item = _mapping(item, where)
                name = item.get("name")
                if not isinstance(name, str):
                    raise _KubeconfigError(f"{where}.name is not a string")
                entries.setdefault(name, _Entry(_mapping(item.get(kind), f"{where}.{kind}"), base))
        if current is None:
            value = document.get("current-context")
            if value is not None and not isinstance(value, str):
                raise _KubeconfigError(f"{path}: current-context is not a string")
            current = value or None
    return sections, current


def _load_kubeconfig(
    files: list[Path], context_name: str | None, deadline: Deadline, shown: str
) -> Connection:
    sections, current = _merge(files)
    contexts = sections["contexts"]
    known = ", ".join(safe_quote(name, 100) for name in contexts) or "none"
    chosen = context_name or current
    if not chosen:
        raise _KubeconfigError(
            f"no current-context is set (contexts: {known}); choose one with --context"
        )
    if chosen not in contexts:
        raise _KubeconfigError(f"no context {_name(chosen)} (contexts: {known})")
    context = contexts[chosen].body
    cluster_name = _string(context, "cluster", f"context {_name(chosen)}")
    if cluster_name is None or cluster_name not in sections["clusters"]:
        raise _KubeconfigError(
            f"the context {_name(chosen)} names the cluster {_name(cluster_name or '')}, which "
            "is not in the kubeconfig"
        )
    cluster = sections["clusters"][cluster_name]
    user_name = _string(context, "user", f"context {_name(chosen)}")
    # As kubectl does, a user that is not defined means no credentials.
    user = sections["users"].get(user_name) if user_name else None
    namespace = _string(context, "namespace", f"context {_name(chosen)}") or "default"

    where = f"cluster {_name(cluster_name)}"
    server = _string(cluster.body, "server", where)
    if not server:
        raise _KubeconfigError(f"the {where} has no server")
    server = _server_url(server, where)
    secure = server.startswith("https://")
    tls_server_name = _string(cluster.body, "tls-server-name", where)
    proxy = _string(cluster.body, "proxy-url", where) or _environment_proxy(server)

    authorization, cert_files = None, None
    if user is not None:
        authorization, cert_files = _credentials(
            user, f"user {_name(user_name or '')}", files, chosen, deadline
        )
    context_ssl = None
    if secure:
        context_ssl = _cluster_ssl(cluster, where)
        _load_client_cert(context_ssl, user, cert_files, f"user {_name(user_name or '')}")
    return Connection(
        server=server,
        namespace=namespace,
        in_cluster=False,
        source=f"context {_name(chosen)} of {shown}",
        authorization=authorization,
        ssl_context=context_ssl,
        tls_server_name=tls_server_name,
        proxy=proxy,
    )


def _parse_kubeconfig(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        loader: Any = yaml.CSafeLoader
    except AttributeError:  # PyYAML built without libyaml
        loader = yaml.SafeLoader
    try:
        text = _read_file(path, "the kubeconfig", MAX_KUBECONFIG_BYTES).decode("utf-8")
        document = yaml.load(text, Loader=loader)  # noqa: S506 -- a safe loader
    except (OSError, UnicodeDecodeError) as exc:
        raise _KubeconfigError(f"{path}: {_file_problem(exc)}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise _KubeconfigError(f"{path}: not valid YAML ({exc.problem}{at})") from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise _KubeconfigError(f"{path}: not valid YAML") from exc
    if document is None:  # an empty file adds nothing, as with kubectl
        return {}
    return _mapping(document, f"{path}: the top level")


def _credentials(
    user: _Entry, where: str, files: list[Path], context: str, deadline: Deadline
) -> tuple[str | None, tuple[str, str] | None]:
    """The Authorization header and any client certificate files that ``user`` gives.

    The order is the kubernetes package's: auth-provider, token (or tokenFile), exec, basic.
    """
    body = user.body
    if body.get("auth-provider") is not None:
        return _delegated_credentials(files, context, deadline, "the auth-provider")
    token = _string(body, "token", where)
    token_file = _string(body, "tokenFile", where)
    if token:
        return _bearer(token.strip(), f"the token of the {where}"), None
    if token_file:
        path = _relative(user.base, token_file)
        try:
            read = _read_file(path, "the token file").decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _KubeconfigError(f"the tokenFile of the {where}: {_file_problem(exc)}") from exc
        if read:
            return _bearer(read, f"the tokenFile {path} of the {where}"), None
    if body.get("exec") is not None:
        return _delegated_credentials(files, context, deadline, "the exec credential plugin")
    username, password = _string(body, "username", where), _string(body, "password", where)
    if username is not None and password is not None:
        pair = f"{username}:{password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii"), None
    return None, None


def _delegated_credentials(
    files: list[Path], context: str, deadline: Deadline, what: str
) -> tuple[str | None, tuple[str, str] | None]:
    """Credentials that run code (exec plugins, auth-provider): the kubernetes package's loader.

    It needs the optional ``kubernetes`` package (and its 0.7 s import); its result is read back
    from the ``Configuration`` it fills: a bearer token, or client certificate files.
    """
    try:
        k8s = _kubernetes()
    except ImportError as exc:
        raise TychoDiscoveryError(
            f"the kubeconfig context {_name(context)} authenticates with {what}, which needs "
            f"the kubernetes package: {INSTALL_KUBERNETES}; or pass the Tycho API URL instead "
            "(--url)",
            reason="no-config",
        ) from exc

    def load() -> Any:
        kube_config = k8s.config.kube_config
        merged = kube_config.KubeConfigMerger(os.pathsep.join(str(p) for p in files)).config
        loader = kube_config.KubeConfigLoader(
            config_dict=merged, config_base_path=None, active_context=context
        )
        configuration = k8s.client.Configuration()
        loader.load_and_set(configuration)
        return configuration

    try:
        with _kubernetes_log() as logged:
            configuration = deadline.run(what, load)
    except (k8s.config.ConfigException, ValueError, KeyError, TypeError, OSError) as exc:
        raise TychoDiscoveryError(
            f"{what} of the kubeconfig context {_name(context)} failed: {safe_quote(exc)}",
            reason="no-config",
        ) from exc
    token = (configuration.api_key or {}).get("BearerToken")
    cert = (configuration.cert_file, configuration.key_file)
    if token:
        return _bearer(str(token).removeprefix("Bearer ").strip(), what), None
    if all(cert):
        return None, (str(cert[0]), str(cert[1]))
    said = f": {safe_quote(logged[-1])}" if logged else ""
    raise TychoDiscoveryError(
        f"{what} of the kubeconfig context {_name(context)} gave no credentials{said}",
        reason="no-config",
    )


def _kubernetes() -> Any:
    """The kubernetes package, imported now; typed Any because its functions carry no hints."""
    import kubernetes.client
    import kubernetes.config.kube_config

    return kubernetes


@contextlib.contextmanager
def _kubernetes_log() -> Iterator[list[str]]:
    """Catch what the kubernetes loader logs on the root logger (an exec plugin's failure).

    Without this, its ``logging.error`` would print to stderr (and configure the root logger).
    """
    messages: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if f"{os.sep}kubernetes{os.sep}" in record.pathname:
                messages.append(record.getMessage())

    handler = Catch()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield messages
    finally:
        root.removeHandler(handler)


def _cluster_ssl(cluster: _Entry, where: str) -> ssl.SSLContext:
    body = cluster.body
    insecure = body.get("insecure-skip-tls-verify")
    if insecure is not None and not isinstance(insecure, bool):
        raise _KubeconfigError(f"insecure-skip-tls-verify of the {where} is not true or false")
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    data = _string(body, "certificate-authority-data", where)
    file = _string(body, "certificate-authority", where)
    try:
        if data:
            return ssl.create_default_context(cadata=_base64(data, where, "certificate-authority"))
        if file:
            return ssl.create_default_context(cafile=str(_relative(cluster.base, file)))
        return ssl.create_default_context()
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise _KubeconfigError(
            f"the certificate authority of the {where} cannot be loaded ({_file_problem(exc)})"
        ) from exc


def _load_client_cert(
    context: ssl.SSLContext,
    user: _Entry | None,
    cert_files: tuple[str, str] | None,
    where: str,
) -> None:
    """Load the client certificate (``client-certificate[-data]``, ``client-key[-data]``)."""
    if cert_files is None and user is not None:
        body = user.body
        cert_data = _string(body, "client-certificate-data", where)
        key_data = _string(body, "client-key-data", where)
        cert_file = _string(body, "client-certificate", where)
        key_file = _string(body, "client-key", where)
        if (cert_data or cert_file) and (key_data or key_file):
            with tempfile.TemporaryDirectory(prefix="tycho-kube-") as folder:
                cert = _pem_file(folder, "cert", cert_data, cert_file, user.base, where)
                key = _pem_file(folder, "key", key_data, key_file, user.base, where)
                _load_cert_chain(context, cert, key, where)
            return
        if cert_data or cert_file or key_data or key_file:
            raise _KubeconfigError(f"the {where} has a client certificate or key, not both")
    if cert_files is not None:
        _load_cert_chain(context, *cert_files, where)


def _pem_file(
    folder: str, kind: str, data: str | None, file: str | None, base: Path, where: str
) -> str:
    """A path to the PEM text: the file named, or ``data`` decoded into a private file."""
    if not data:
        return str(_relative(base, file or ""))
    path = Path(folder) / f"{kind}.pem"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(_base64(data, where, f"client-{kind}").encode())
    return str(path)


def _load_cert_chain(context: ssl.SSLContext, cert: str, key: str, where: str) -> None:
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise _KubeconfigError(
            f"the client certificate of the {where} cannot be loaded ({_file_problem(exc)})"
        ) from exc


# -- small readers -------------------------------------------------------------------------------


def _read_file(path: Path, what: str, limit: int = 1024 * 1024) -> bytes:
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{what} {path} is larger than {limit} bytes")
    return data


def _file_problem(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (a binary file?)"
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
        return safe_quote(text)
    return safe_quote(exc)


def _relative(base: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else base / path


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _KubeconfigError(f"{where} is not a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _KubeconfigError(f"{where} is not a list")
    return value


def _string(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _KubeconfigError(f"{key} of the {where} is not a string")


def _name(name: str) -> str:
    return f"'{safe_quote(name, 100)}'"


def _base64(data: str, where: str, key: str) -> str:
    try:
        return base64.b64decode(data, validate=False).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise _KubeconfigError(f"{key}-data of the {where} is not base64 PEM text") from exc


def _bearer(token: str, what: str) -> str:
    # A header cannot carry control characters or non-ASCII; say so without quoting the token.
    if not token.isascii() or not token.isprintable() or " " in token:
        raise _KubeconfigError(f"{what} holds characters an HTTP header cannot carry")
    return f"Bearer {token}"


def _server_url(server: str, where: str) -> str:
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _KubeconfigError(
            f"the server {safe_quote(server)} of the {where} is not an http(s) URL"
        )
    if not server.isprintable():
        raise _KubeconfigError(f"the server of the {where} holds control characters")
    return server.strip().rstrip("/")


def _environment_proxy(server: str) -> str | None:
    """``HTTPS_PROXY``/``HTTP_PROXY`` for ``server`` unless ``NO_PROXY`` exempts its host, as
    the kubernetes package (and kubectl) honour them."""
    parts = urlsplit(server)
    host = (parts.hostname or "").lower()
    for name in ("no_proxy", "NO_PROXY"):
        for entry in os.environ.get(name, "").split(","):
            entry = entry.strip().lower().lstrip(".")
            if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
                return None
            if "/" in entry and _in_network(host, entry):
                return None
    scheme = parts.scheme
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def _in_network(host: str, network: str) -> bool:
    """Whether ``host`` is an IP address inside the CIDR ``network`` (a ``NO_PROXY`` entry)."""
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


# -- HTTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A Kubernetes API answer: its status, reason phrase and JSON body (None if not JSON)."""

    status: int
    reason: str
    data: Any
    text: str  # the body as text, for a non-JSON error answer


class KubeAPI:
    """GETs to one Kubernetes API server, sharing one connection, bounded by ``deadline``.

    ``timeouts`` are the (connect, read) timeouts of each call, cut to the time left.
    """

    def __init__(
        self, connection: Connection, deadline: Deadline, timeouts: tuple[float, float]
    ) -> None:
        self.connection = connection
        self.deadline = deadline
        self.timeouts = timeouts
        self._pool = httpcore.ConnectionPool(
            ssl_context=connection.ssl_context,
            proxy=httpcore.Proxy(connection.proxy) if connection.proxy else None,
            max_connections=1,
            retries=0,
            # The clients' backend: every socket operation waits at most until DEADLINE.
            network_backend=DeadlineBackend(httpcore.SyncBackend()),
        )

    def __enter__(self) -> KubeAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.close()

    def get(self, path: str) -> Reply:
        """GET ``path``; a transport failure is a :class:`TychoDiscoveryError` ``unreachable``,
        a reply over :data:`MAX_RESPONSE_BYTES` or a 2xx that is not JSON one of ``error``."""
        connect, read = self.timeouts
        headers = [("Accept", "application/json"), ("User-Agent", "tycho-client")]
        if self.connection.authorization:
            headers.append(("Authorization", self.connection.authorization))
        extensions: dict[str, Any] = {
            "timeout": {
                "connect": self.deadline.clamp(connect),
                "read": self.deadline.clamp(read),
                "write": self.deadline.clamp(read),
                "pool": self.deadline.clamp(connect),
            }
        }
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
            raise self._unreachable(safe_quote(exc)) from exc
        finally:
            DEADLINE.reset(token)
        return _reply(status, reason, body, self.connection, path)

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


def _reply(status: int, reason: str, body: bytes, connection: Connection, path: str) -> Reply:
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if 200 <= status < 300 and not isinstance(data, dict):
        raise TychoDiscoveryError(
            f"the Kubernetes API ({connection.where}) answered GET {path} with a body that is "
            f"not a JSON object: {safe_quote(text, 120) or '(empty)'}",
            reason="error",
        )
    return Reply(status, reason, data, text)


def _root_cause(exc: BaseException) -> str:
    """The innermost cause, e.g. ``[Errno 111] Connection refused`` or a certificate failure."""
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    return safe_quote(str(root) or str(exc) or type(root).__name__)


def deadline_seconds(timeout: Any, default: float) -> float:
    """The whole discovery's deadline from a client ``timeout`` option: a number of seconds, or
    an ``httpx.Timeout`` (its longest phase); None means ``default``."""
    if timeout is None:
        return default
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        phases = [getattr(timeout, name, None) for name in ("connect", "read", "write", "pool")]
        numbers = [float(p) for p in phases if isinstance(p, (int, float))]
        if not numbers:
            return default
        seconds = max(numbers)
    if not (math.isfinite(seconds) and seconds > 0):
        raise TychoValidationError("timeout must be a finite number of seconds > 0")
    return seconds


def iter_dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    """The mappings in ``value`` if it is a list (anything else in it is skipped)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield item
