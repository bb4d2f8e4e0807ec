"""The in-cluster Kubernetes configuration: the pod's service account, as a :class:`Connection`.

``KUBERNETES_SERVICE_HOST``/``_PORT`` and the service account's ``token``, ``ca.crt`` and
``namespace`` files (read through :func:`tycho_client.kube.material.read`: regular files only,
bounded, within the deadline). Every value is checked whole before it goes into a URL or a header.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping
from pathlib import Path

from tycho_client._files import FileReadError
from tycho_client._transport import environment_proxy
from tycho_client.errors import TychoDiscoveryError, quote_body
from tycho_client.kube import Deadline, bearer, is_host
from tycho_client.kube.config import Connection
from tycho_client.kube.material import ca_context, read, read_text

__all__ = ["load_in_cluster"]

logger: logging.Logger = logging.getLogger("tycho_client.discovery")

# A namespace name (an RFC 1123 label): it goes into the in-cluster URL's host name.
_NAMESPACE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


def load_in_cluster(
    account_dir: Path, environ: Mapping[str, str], deadline: Deadline
) -> Connection:
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
    if not is_host(host):
        raise fail(f"KUBERNETES_SERVICE_HOST is not a host name or IP: {quote_body(host, 100)}")
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise fail(f"KUBERNETES_SERVICE_PORT is not a port number: {quote_body(port, 100)}")
    server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    try:
        token = read_text(token_file, "the service account token", deadline).strip()
        ca_pem = read(ca_file, "the service account CA", deadline)
    except FileReadError as exc:
        raise fail(exc.message) from exc
    if not token:
        raise fail(f"{token_file} is empty")
    try:
        context = ca_context(ca_pem)
    except (ssl.SSLError, ValueError) as exc:
        raise fail(f"{ca_file} holds no usable CA certificate ({quote_body(str(exc))})") from exc
    try:
        authorization = bearer(token, str(token_file))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    namespace_file = account_dir / "namespace"
    try:
        namespace = _read_namespace(namespace_file, deadline)
    except FileReadError as exc:
        raise fail(exc.message) from exc
    # It becomes part of the Service's DNS name: nothing but a namespace name may.
    if not _NAMESPACE.fullmatch(namespace):
        raise fail(f"{namespace_file} holds no namespace name: {quote_body(namespace, 100)}")
    return Connection(
        server=server,
        namespace=namespace,
        in_cluster=True,
        source=f"in-cluster service account {account_dir}",
        authorization=authorization,
        ssl_context=context,
        proxy=environment_proxy(server),
    )


def _read_namespace(path: Path, deadline: Deadline) -> str:
    """The pod's namespace; ``default`` when the file is missing or empty."""
    what = "the service account namespace"
    try:
        namespace = read_text(path, what, deadline).strip()
    except FileReadError as exc:
        if exc.problem != "missing":
            raise
        logger.debug("no %s; using namespace 'default'", path)
        return "default"
    return namespace or "default"
