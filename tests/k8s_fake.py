"""A loopback fake of the Kubernetes API, for testing discovery with the real kubernetes client.

:class:`FakeKubeAPI` is a ``ThreadingHTTPServer`` on 127.0.0.1 (optionally over TLS) that serves
the two reads discovery makes -- ``GET /api/v1/namespaces/{ns}/services/{name}`` and
``GET /api/v1/nodes`` -- from objects the test puts in it; it answers 403, 404 and any other
path with Kubernetes ``Status`` objects, and records every request. The helpers build Service and
Node objects, write a kubeconfig pointing at the fake, and make a self-signed certificate for
127.0.0.1 (for the in-cluster configuration, which is HTTPS only).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = [
    "FakeKubeAPI",
    "RecordedRequest",
    "make_client_cert",
    "make_node",
    "make_self_signed_cert",
    "make_service",
    "service_port",
    "write_kubeconfig",
]

_SERVICE_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/services/(?P<name>[^/]+)$")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    client_cn: str | None = None  # the client certificate's subject CN (with ``client_ca``)


class FakeKubeAPI:
    """A fake Kubernetes API server on 127.0.0.1, port chosen by the OS.

    Configure it through its attributes, before or while it runs:

    - ``services``: ``{(namespace, name): Service object}`` (see :func:`make_service`, or
      :meth:`add_service`);
    - ``nodes``: Node objects listed by ``/api/v1/nodes`` (see :func:`make_node`);
    - ``forbidden``: resources (``"services"``, ``"nodes"``) that answer 403;
    - ``delay``: seconds to wait before each answer (to test timeouts);
    - ``drop``: close each connection without answering (to count retries);
    - ``trickle``: seconds between the bytes of each answer, status line and headers included
      (a server that keeps a per-read timeout from ever firing);
    - ``oversize``: bytes of a 200 answer streamed without a Content-Length (a huge reply);
    - ``raw_body``: bytes sent instead of the JSON body, as given (a reply that is not JSON).

    ``tls=(cert_file, key_file)`` serves HTTPS; ``client_ca`` (a CA file) then requires a client
    certificate it signed, whose subject CN each request records as ``client_cn``. ``requests``
    records what was asked; ``sent`` counts the bytes of answers written.
    """

    def __init__(
        self, *, tls: tuple[Path, Path] | None = None, client_ca: Path | None = None
    ) -> None:
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        self.nodes: list[dict[str, Any]] = []
        self.forbidden: set[str] = set()
        self.delay = 0.0
        self.drop = False
        self.requests: list[RecordedRequest] = []
        self.trickle = 0.0
        self.oversize = 0
        self.raw_body: bytes | None = None
        self.sent = 0
        self._client_ca = client_ca
        self._tls = tls
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeKubeAPI:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.fake = self  # type: ignore[attr-defined]
        if self._tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self._tls[0]), str(self._tls[1]))
            if self._client_ca is not None:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(str(self._client_ca))
            # The handshake then happens in the handler thread, so a client that rejects the
            # certificate cannot stall the accept loop.
            server.socket = context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    # -- configuration --------------------------------------------------------------------

    def add_service(self, service: dict[str, Any]) -> None:
        meta = service["metadata"]
        self.services[(meta["namespace"], meta["name"])] = service

    def paths(self) -> list[str]:
        """The paths asked so far, in order."""
        with self._lock:
            return [request.path for request in self.requests]

    # -- answering ------------------------------------------------------------------------

    def _answer(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        match = _SERVICE_PATH.match(path)
        if method == "GET" and match:
            namespace, name = match["ns"], match["name"]
            if "services" in self.forbidden:
                return 403, _status(
                    403,
                    "Forbidden",
                    f'services "{name}" is forbidden: User "system:serviceaccount:test:tester" '
                    f'cannot get resource "services" in API group "" in the namespace '
                    f'"{namespace}"',
                )
            service = self.services.get((namespace, name))
            if service is None:
                return 404, _status(404, "NotFound", f'services "{name}" not found')
            return 200, service
        if method == "GET" and path == "/api/v1/nodes":
            if "nodes" in self.forbidden:
                return 403, _status(
                    403,
                    "Forbidden",
                    'nodes is forbidden: User "system:serviceaccount:test:tester" cannot list '
                    'resource "nodes" in API group "" at the cluster scope',
                )
            return 200, {
                "kind": "NodeList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": self.nodes,
            }
        return 404, _status(404, "NotFound", "the server could not find the requested resource")


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake-kube-apiserver"
    timeout = 5  # a client that connects and says nothing does not pin a thread

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def _respond(self, method: str) -> None:
        fake: FakeKubeAPI = self.server.fake  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        if path.startswith("http://"):  # absolute-form: asked as a proxy
            path = "/" + path.split("/", 3)[-1]
        with fake._lock:
            fake.requests.append(
                RecordedRequest(
                    method,
                    path,
                    {k.lower(): v for k, v in self.headers.items()},
                    _client_cn(self.connection),
                )
            )
        if fake.drop or (fake.delay and fake._stopping.wait(fake.delay)):
            self.close_connection = True
            return
        if fake.oversize:
            self._send_oversized(fake)
            return
        status, body = fake._answer(method, path)
        data = fake.raw_body if fake.raw_body is not None else json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        if fake.trickle:
            self._send_trickled(fake, head + data)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        fake.sent += len(data)

    def _send_trickled(self, fake: FakeKubeAPI, answer: bytes) -> None:
        """One byte every ``fake.trickle`` seconds until done, stopped, or the client leaves."""
        self.close_connection = True
        for index in range(len(answer)):
            if fake._stopping.wait(fake.trickle):
                return
            try:
                self.wfile.write(answer[index : index + 1])
                self.wfile.flush()
            except OSError:
                return
            fake.sent += 1

    def _send_oversized(self, fake: FakeKubeAPI) -> None:
        """A 200 whose JSON body of ``fake.oversize`` bytes ends when the connection closes."""
        self.close_connection = True
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        chunk = b'{"padding": "' + b"x" * (1024 * 1024 - 13)
        written = 0
        while written < fake.oversize and not fake._stopping.is_set():
            try:
                self.wfile.write(chunk)
            except OSError:
                return
            written += len(chunk)
            fake.sent += len(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded instead."""


def _client_cn(connection: Any) -> str | None:
    """The subject CN of the peer's certificate on a TLS connection, if it sent one."""
    if not isinstance(connection, ssl.SSLSocket):
        return None
    peer = connection.getpeercert() or {}
    for rdn in peer.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


# -- objects ------------------------------------------------------------------------------


def service_port(
    port: int, *, name: str | None = None, node_port: int | None = None
) -> dict[str, Any]:
    """One entry of a Service's ``spec.ports``."""
    entry: dict[str, Any] = {"protocol": "TCP", "port": port, "targetPort": port}
    if name is not None:
        entry["name"] = name
    if node_port is not None:
        entry["nodePort"] = node_port
    return entry


def make_service(
    name: str = "tycho-api",
    namespace: str = "default",
    *,
    type: str = "ClusterIP",
    ports: list[dict[str, Any]] | None = None,
    ingress: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A Service object as the API server returns it. ``ingress`` fills
    ``status.loadBalancer.ingress`` (``[{"ip": ...}]`` or ``[{"hostname": ...}]``)."""
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"},
        "spec": {
            "type": type,
            "clusterIP": "10.96.0.42",
            "ports": ports if ports is not None else [service_port(8099, name="http")],
            "selector": {"app": name},
        },
        "status": {"loadBalancer": {"ingress": ingress} if ingress else {}},
    }


def make_node(name: str, addresses: list[tuple[str, str]], *, ready: bool = True) -> dict[str, Any]:
    """A Node object; ``addresses`` are ``(type, address)`` pairs such as
    ``("ExternalIP", "203.0.113.7")``."""
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {"name": name},
        "status": {
            "addresses": [{"type": kind, "address": address} for kind, address in addresses],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def write_kubeconfig(
    path: Path,
    servers: dict[str, str],
    *,
    current: str,
    namespaces: dict[str, str] | None = None,
    token: str = "kubeconfig-token",
    certificate_authority: Path | None = None,
) -> Path:
    """A kubeconfig with one context (and cluster) per entry of ``servers`` (name -> API URL),
    all using one user with a bearer ``token`` and trusting ``certificate_authority`` (a CA
    file) for HTTPS servers. JSON is YAML, so it is written as JSON."""
    namespaces = namespaces or {}

    def cluster_entry(url: str) -> dict[str, str]:
        entry = {"server": url}
        if certificate_authority is not None:
            entry["certificate-authority"] = str(certificate_authority)
        return entry

    contexts = []
    for name in servers:
        context: dict[str, str] = {"cluster": name, "user": "tester"}
        if name in namespaces:
            context["namespace"] = namespaces[name]
        contexts.append({"name": name, "context": context})
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": cluster_entry(url)} for name, url in servers.items()
        ],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": contexts,
        "current-context": current,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def make_self_signed_cert(directory: Path, name: str = "fake-kube") -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1; returns ``(cert_file, key_file)``.

    The certificate is its own CA, so it serves as the in-cluster ``ca.crt`` too.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Strict verification (Python >= 3.13 defaults) wants these on a CA certificate.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file = directory / f"{name}.crt"
    key_file = directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def make_client_cert(directory: Path, name: str = "tester") -> tuple[Path, Path]:
    """A self-signed client certificate (subject CN ``name``, its own CA, for ``client_ca``);
    returns ``(cert_file, key_file)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file = directory / f"{name}-client.crt"
    key_file = directory / f"{name}-client.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


# The fuller fake Kubernetes that the real Tycho server runs on (Deployments, Services, label
# selectors, validation, canonical quantities) lives beside this one.
from k8s_cluster import FakeKubeCluster  # noqa: E402

__all__ += ["FakeKubeCluster"]
