"""The Kubernetes configuration, read without the kubernetes package: a :class:`Connection`.

A kubeconfig context (:func:`load_kubeconfig`: files merged as kubectl does, every connection
setting, the static credentials -- client certificates, tokens, token files, basic auth -- and
the TLS material).
Only credentials that run code -- ``exec`` plugins and ``auth-provider`` -- are delegated to the
kubernetes package, imported then (:func:`_delegated_credentials`).

Every file is read through :func:`tycho_client.kube.material.read` (regular files only, bounded,
within the deadline), and the kubeconfig is parsed within the deadline too: a 16 MiB YAML
document takes seconds. The in-cluster service account is :mod:`tycho_client.kube.incluster`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import logging
import os
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tycho_client import _files
from tycho_client._files import FileReadError
from tycho_client._transport import environment_proxy
from tycho_client.errors import TychoDiscoveryError, quote_body
from tycho_client.kube import Deadline, bearer, quoted
from tycho_client.kube.material import (
    EncryptedKeyError,
    ca_context,
    load_cert_chain,
    read,
    read_text,
)

__all__ = ["MAX_KUBECONFIG_BYTES", "Connection", "load_kubeconfig"]

logger: logging.Logger = logging.getLogger("tycho_client.discovery")

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
"""The largest kubeconfig file read (16 MiB: room for many embedded certificates)."""

INSTALL_KUBERNETES = "pip install 'tycho-client[kubernetes]'"


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


def _merge(
    files: list[Path], deadline: Deadline
) -> tuple[dict[str, dict[str, _Entry]], str | None]:
    """The named ``clusters``, ``users`` and ``contexts`` of ``files``, and ``current-context``."""
    sections: dict[str, dict[str, _Entry]] = {"clusters": {}, "users": {}, "contexts": {}}
    current: str | None = None
    for path in files:
        # Read and parsed in a thread given up at the deadline: a big YAML file parses slowly.
        document, base = deadline.run(
            f"reading the kubeconfig {path}", functools.partial(_parse, path), reason="no-config"
        )
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
    sections, current = _merge(files, deadline)
    contexts = sections["contexts"]
    known = ", ".join(quote_body(name, 100) for name in contexts) or "none"
    chosen = context_name or current
    if not chosen:
        raise _KubeconfigError(
            f"no current-context is set (contexts: {known}); choose one with --context"
        )
    if chosen not in contexts:
        raise _KubeconfigError(f"no context {quoted(chosen)} (contexts: {known})")
    context = contexts[chosen].body
    cluster_name = _string(context, "cluster", f"context {quoted(chosen)}")
    if cluster_name is None or cluster_name not in sections["clusters"]:
        raise _KubeconfigError(
            f"the context {quoted(chosen)} names the cluster {quoted(cluster_name or '')}, which "
            "is not in the kubeconfig"
        )
    cluster = sections["clusters"][cluster_name]
    user_name = _string(context, "user", f"context {quoted(chosen)}")
    # As kubectl does, a user that is not defined means no credentials.
    user = sections["users"].get(user_name) if user_name else None
    namespace = _string(context, "namespace", f"context {quoted(chosen)}") or "default"

    where = f"cluster {quoted(cluster_name)}"
    server = _string(cluster.body, "server", where)
    if not server:
        raise _KubeconfigError(f"the {where} has no server")
    server = _server_url(server, where)
    secure = server.startswith("https://")
    tls_server_name = _string(cluster.body, "tls-server-name", where)
    proxy = _string(cluster.body, "proxy-url", where) or environment_proxy(server)

    authorization, cert_files = None, None
    who = f"user {quoted(user_name or '')}"
    if user is not None:
        authorization, cert_files = _credentials(user, who, files, chosen, deadline)
    context_ssl = None
    if secure:
        context_ssl = _cluster_ssl(cluster, where, deadline)
        if cert_files is not None:
            _load_cert_chain(context_ssl, *cert_files, who)
        elif user is not None:
            _load_client_cert(context_ssl, user, who, deadline)
    return Connection(
        server=server,
        namespace=namespace,
        in_cluster=False,
        source=f"context {quoted(chosen)} of {shown}",
        authorization=authorization,
        ssl_context=context_ssl,
        tls_server_name=tls_server_name,
        proxy=proxy,
    )


def _parse(path: Path) -> tuple[Mapping[str, Any], Path]:
    """The document of the kubeconfig ``path`` and the folder its relative paths start from."""
    return _parse_kubeconfig(path), path.resolve().parent


def _parse_kubeconfig(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        loader: Any = yaml.CSafeLoader
    except AttributeError:  # PyYAML built without libyaml
        loader = yaml.SafeLoader
    try:
        text = _files.read_text(path, "the file", MAX_KUBECONFIG_BYTES)
        document = yaml.load(text, Loader=loader)  # noqa: S506 -- a safe loader
    except FileReadError as exc:
        raise _KubeconfigError(exc.message) from exc
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
) -> tuple[str | None, tuple[bytes, bytes] | None]:
    """The Authorization header and any client certificate and key (PEM) that ``user`` gives.

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
            text = read_text(path, "the file", deadline).strip()
        except FileReadError as exc:
            raise _KubeconfigError(f"the tokenFile of the {where}: {exc}") from exc
        if text:
            return _bearer(text, f"the tokenFile {path} of the {where}"), None
    if body.get("exec") is not None:
        return _delegated_credentials(files, context, deadline, "the exec credential plugin")
    username, password = _string(body, "username", where), _string(body, "password", where)
    if username is not None and password is not None:
        pair = f"{username}:{password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii"), None
    return None, None


def _delegated_credentials(
    files: list[Path], context: str, deadline: Deadline, what: str
) -> tuple[str | None, tuple[bytes, bytes] | None]:
    """Credentials that run code (exec plugins, auth-provider): the kubernetes package's loader.

    It needs the optional ``kubernetes`` package (and its 0.7 s import); its result is read back
    from the ``Configuration`` it fills: a bearer token, or client certificate files.
    """
    try:
        k8s = _kubernetes()
    except ImportError as exc:
        raise TychoDiscoveryError(
            f"the kubeconfig context {quoted(context)} authenticates with {what}, which needs "
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
            f"{what} of the kubeconfig context {quoted(context)} failed: {quote_body(str(exc))}",
            reason="no-config",
        ) from exc
    token = (configuration.api_key or {}).get("BearerToken")
    cert = (configuration.cert_file, configuration.key_file)
    if token:
        return _bearer(str(token).removeprefix("Bearer ").strip(), what), None
    if all(cert):
        try:  # files it wrote, or the kubeconfig's own client-certificate and client-key
            pair = tuple(read(Path(name), "the file", deadline) for name in cert)
        except FileReadError as exc:
            raise TychoDiscoveryError(
                f"the client certificate that {what} of the kubeconfig context {quoted(context)} "
                f"gave cannot be read: {exc}",
                reason="no-config",
            ) from exc
        return None, (pair[0], pair[1])
    said = f": {quote_body(logged[-1])}" if logged else ""
    raise TychoDiscoveryError(
        f"{what} of the kubeconfig context {quoted(context)} gave no credentials{said}",
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


def _cluster_ssl(cluster: _Entry, where: str, deadline: Deadline) -> ssl.SSLContext:
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
    if not data and not file:
        return ssl.create_default_context()
    if data:
        key, pem = "certificate-authority-data", _base64(data, where, "certificate-authority-data")
    else:
        path = _relative(cluster.base, file or "")
        key, pem = (
            f"certificate-authority {path}",
            _read_pem(path, where, "certificate-authority", deadline),
        )
    try:
        return ca_context(pem)
    except (ssl.SSLError, ValueError) as exc:
        raise _KubeconfigError(
            f"the {key} of the {where} cannot be loaded ({quote_body(str(exc))})"
        ) from exc


def _load_client_cert(
    context: ssl.SSLContext, user: _Entry, where: str, deadline: Deadline
) -> None:
    """Load the client certificate (``client-certificate[-data]``, ``client-key[-data]``)."""
    body = user.body
    pem: dict[str, bytes] = {}
    for kind in ("certificate", "key"):
        key = f"client-{kind}"
        data, file = _string(body, f"{key}-data", where), _string(body, key, where)
        if data:
            pem[kind] = _base64(data, where, f"{key}-data")
        elif file:
            pem[kind] = _read_pem(_relative(user.base, file), where, key, deadline)
    if len(pem) == 2:
        _load_cert_chain(context, pem["certificate"], pem["key"], where)
    elif pem:
        raise _KubeconfigError(f"the {where} has a client certificate or key, not both")


def _read_pem(path: Path, where: str, key: str, deadline: Deadline) -> bytes:
    try:
        return read(path, "the file", deadline)
    except FileReadError as exc:
        raise _KubeconfigError(f"the {key} of the {where}: {exc}") from exc


def _load_cert_chain(context: ssl.SSLContext, cert: bytes, key: bytes, where: str) -> None:
    try:
        load_cert_chain(context, cert, key)
    except (ssl.SSLError, OSError, EncryptedKeyError) as exc:
        raise _KubeconfigError(
            f"the client certificate of the {where} cannot be loaded ({quote_body(str(exc))})"
        ) from exc


# -- small readers -------------------------------------------------------------------------------


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


def _base64(data: str, where: str, key: str) -> bytes:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise _KubeconfigError(f"{key} of the {where} is not base64 PEM text") from exc


def _bearer(token: str, what: str) -> str:
    try:
        return bearer(token, what)
    except ValueError as exc:
        raise _KubeconfigError(str(exc)) from None


def _server_url(server: str, where: str) -> str:
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _KubeconfigError(
            f"the server {quote_body(server)} of the {where} is not an http(s) URL"
        )
    if not server.isprintable():
        raise _KubeconfigError(f"the server of the {where} holds control characters")
    return server.strip().rstrip("/")
