"""A loopback fake of the Kubernetes API that the real Tycho server (tycho-api 1.17.3) can run on.

:class:`FakeKubeCluster` keeps objects in memory and serves what tycho-api's ``KubernetesCompute``
calls through the kubernetes client: create, get, list (by label and field selector) and
delete-collection of Deployments, ReplicaSets, Pods, Services, Secrets, PersistentVolumeClaims
and NetworkPolicies in a namespace, and PATCH of a Deployment. Like a real API server it

- validates what it is given, for the fields tycho-api renders: names (DNS labels and
  subdomains), label keys and values, selectors, container images, environment variables,
  resource quantities (``requests`` no more than ``limits``; extended resources integers with
  ``requests == limits``), ports, probes, security contexts, volume mounts; a failure is a
  ``422 Invalid`` (or ``400 BadRequest`` for a selector or a wrongly typed field) ``Status``;
- answers the stored object as a real server does: metadata filled in (uid, resourceVersion,
  creationTimestamp, namespace), every container with ``resources`` (``{}`` when none), resource
  quantities in Kubernetes' canonical form (``0.01`` -> ``10m``, ``5000M`` -> ``5G``,
  ``1024Mi`` -> ``1Gi``), node ports assigned from 30000 for ``LoadBalancer`` and ``NodePort``
  Services;
- deletes the Services owned by a deleted Deployment (garbage collection by ownerReferences).

``add_ambassador()`` creates the ``ambassador`` Service: tycho-api then fronts systems through the
proxy (ClusterIP Services, no node ports) and skips its 3-second sleep per start.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import threading
import uuid
from collections.abc import Callable
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tycho_client._quantity import BINARY_POWERS, DECIMAL_EXPONENTS, parse_quantity as parse

__all__ = ["FakeKubeCluster", "KubeInvalid", "canonical_quantity", "parse_quantity"]

_CORE = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/(?P<kind>[a-z]+)(?:/(?P<name>[^/]+))?$")
_GROUP = re.compile(
    r"^/apis/(?P<group>apps|networking\.k8s\.io)/v1/namespaces/(?P<ns>[^/]+)/"
    r"(?P<kind>[a-z]+)(?:/(?P<name>[^/]+))?$"
)
_KINDS = {
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "pods": "Pod",
    "services": "Service",
    "secrets": "Secret",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "networkpolicies": "NetworkPolicy",
}
_API_VERSIONS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
_MAX_BODY = 8 * 1024 * 1024

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# Environment variable names as Kubernetes up to 1.29 accepts them (C_IDENTIFIER-like).
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_HTTP_HEADER_NAME = re.compile(r"^[-A-Za-z0-9!#$%&'*+.^_`|~]+$")
_STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage"}


class KubeInvalid(Exception):
    """An object the API server refuses: ``code`` 422 (Invalid) or 400 (BadRequest)."""

    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.code = code


# -- quantities ---------------------------------------------------------------------------


def parse_quantity(text: Any) -> tuple[Fraction, str]:
    """A Kubernetes quantity (string or JSON number) -> (value, format); format is
    ``DecimalSI``, ``BinarySI`` or ``DecimalExponent``. Raises ``ValueError``."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError("quantities must be strings or numbers")
    quantity = parse(str(text) if not isinstance(text, float) else repr(text))
    if quantity is None:
        raise ValueError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    return quantity.value, quantity.format


def _round_up_to_nano(value: Fraction) -> Fraction:
    nanos = value * 10**9
    whole = -((-nanos.numerator) // nanos.denominator)  # ceiling
    return Fraction(whole, 10**9)


def canonical_quantity(text: Any) -> str:
    """The canonical form the API server answers for a quantity (apimachinery's
    ``CanonicalizeBytes``): ``0.01`` -> ``10m``, ``5000M`` -> ``5G``, ``1024Mi`` -> ``1Gi``."""
    value, fmt = parse_quantity(text)
    value = _round_up_to_nano(value)
    if value == 0:
        return "0"
    if fmt == "BinarySI" and (abs(value) < 1024 or value.denominator != 1):
        fmt = "DecimalSI"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if fmt == "BinarySI":
        whole = int(magnitude)
        power = 0
        while whole % 1024 == 0 and power < 6:
            whole //= 1024
            power += 1
        suffix = {0: "", **{p: s for s, p in BINARY_POWERS.items()}}[power]
        return f"{sign}{whole}{suffix}"
    exponent = -9
    mantissa = magnitude * 10**9
    while mantissa.denominator == 1 and mantissa.numerator % 1000 == 0 and exponent < 18:
        mantissa /= 1000
        exponent += 3
    number = int(mantissa)
    if fmt == "DecimalExponent":
        return f"{sign}{number}" + (f"e{exponent}" if exponent else "")
    suffix = {v: k for k, v in DECIMAL_EXPONENTS.items()}[exponent]
    return f"{sign}{number}{suffix}"


# -- selectors ----------------------------------------------------------------------------

_REQUIREMENT = re.compile(r"^(?P<neg>!)?(?P<key>[^=!\s]+)(?:(?P<op>==|=|!=)(?P<value>[^=!,]*))?$")


def parse_label_selector(text: str) -> list[Callable[[dict[str, str]], bool]]:
    """A label selector of ``key=value``, ``key==value``, ``key!=value``, ``key`` and ``!key``
    requirements; raises ``KubeInvalid`` (400) as the API server does for anything else."""
    tests: list[Callable[[dict[str, str]], bool]] = []
    if not text.strip():
        return tests
    for part in text.split(","):
        part = part.strip()
        match = _REQUIREMENT.match(part)
        if match is None or not _valid_label_key(match["key"]):
            raise KubeInvalid(f"unable to parse requirement: {part!r}", 400)
        key, op, value = match["key"], match["op"], match["value"]
        if op is not None:
            if match["neg"] or len(value) > 63 or not LABEL_VALUE.match(value):
                raise KubeInvalid(
                    f'unable to parse requirement: values[0][{key}]: Invalid value: "{value}": '
                    "a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.'",
                    400,
                )
            if op == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match["neg"]:
            tests.append(lambda labels, k=key: k not in labels)
        else:
            tests.append(lambda labels, k=key: k in labels)
    return tests


def _valid_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


# -- validation ---------------------------------------------------------------------------


class _Problems:
    """Field errors collected the way the API server words them."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, text: str) -> None:
        self.items.append(f"{path}: {text}")

    def string(self, path: str, value: Any, *, required: bool = False) -> bool:
        if value is None:
            if required:
                self.add(path, "Required value")
            return False
        if not isinstance(value, str):
            raise KubeInvalid(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{path} of type string",
                400,
            )
        if required and not value:
            self.add(path, "Required value")
            return False
        return True

    def integer(self, path: str, value: Any, low: int, high: int) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise KubeInvalid(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{path} of type int",
                400,
            )
        if not low <= value <= high:
            self.add(path, f"Invalid value: {value}: must be between {low} and {high}, inclusive")

    def mapping(self, path: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise KubeInvalid(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{path} of type object",
                400,
            )
        return value

    def sequence(self, path: str, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise KubeInvalid(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{path} of type array",
                400,
            )
        return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _check_labels(problems: _Problems, path: str, labels: Any) -> None:
    for key, value in problems.mapping(path, labels).items():
        if not _valid_label_key(key):
            problems.add(
                f"{path}",
                f'Invalid value: "{key}": name part must consist of '
                "alphanumeric characters, '-', '_' or '.'",
            )
        if value is None:
            continue
        if problems.string(f"{path}.{key}", value) and (
            len(value) > 63 or not LABEL_VALUE.match(value)
        ):
            problems.add(
                f"{path}",
                f'Invalid value: "{value}": a valid label must be an empty string '
                "or consist of alphanumeric characters, '-', '_' or '.'",
            )


def _check_metadata(problems: _Problems, meta: Any, name_rule: re.Pattern[str]) -> None:
    meta = problems.mapping("metadata", meta)
    name = meta.get("name")
    if problems.string("metadata.name", name, required=True) and (
        len(name) > (253 if name_rule is DNS_SUBDOMAIN else 63) or not name_rule.match(name)
    ):
        problems.add("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 name')
    _check_labels(problems, "metadata.labels", meta.get("labels"))


def _check_resources(problems: _Problems, path: str, resources: Any) -> None:
    resources = problems.mapping(path, resources)
    amounts: dict[str, dict[str, Fraction]] = {}
    for kind in ("limits", "requests"):
        amounts[kind] = {}
        for name, quantity in problems.mapping(f"{path}.{kind}", resources.get(kind)).items():
            where = f"{path}.{kind}[{name}]"
            try:
                value, _ = parse_quantity(quantity)
            except ValueError as exc:
                raise KubeInvalid(
                    f"quantities must match the regular expression: {where}: {exc}", 400
                ) from None
            if value < 0:
                problems.add(
                    where, f'Invalid value: "{quantity}": must be greater than or equal to 0'
                )
            if name not in _STANDARD_RESOURCES and value.denominator != 1:
                problems.add(where, f'Invalid value: "{quantity}": must be an integer')
            amounts[kind][name] = value
    limits, requests = amounts["limits"], amounts["requests"]
    for name, value in requests.items():
        if name in _STANDARD_RESOURCES:
            if name in limits and value > limits[name]:
                problems.add(
                    f"{path}.requests",
                    f'Invalid value: "{value}": must be less than or equal to {name} limit',
                )
        elif name not in limits:
            problems.add(
                f"{path}.limits",
                "Required value: Limit must be set for non overcommitable resources",
            )
        elif limits[name] != value:
            problems.add(
                f"{path}.requests[{name}]", f"Invalid value: must be equal to {name} limit"
            )


def _check_probe(problems: _Problems, path: str, probe: Any) -> None:
    probe = problems.mapping(path, probe)
    handlers = [key for key in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(key)]
    if len(handlers) != 1:
        problems.add(
            path,
            "Required value: must specify a handler type"
            if not handlers
            else "Forbidden: may not specify more than 1 handler type",
        )
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "failureThreshold"):
        problems.integer(f"{path}.{key}", probe.get(key), 0, 2**31 - 1)
    if "exec" in probe:
        for index, arg in enumerate(
            problems.sequence(
                f"{path}.exec.command",
                problems.mapping(f"{path}.exec", probe["exec"]).get("command"),
            )
        ):
            problems.string(f"{path}.exec.command[{index}]", arg)
    for key in ("httpGet", "tcpSocket"):
        if key not in probe:
            continue
        handler = problems.mapping(f"{path}.{key}", probe[key])
        port = handler.get("port")
        if isinstance(port, str):
            if not _IANA_SVC_NAME.match(port) or len(port) > 15:
                problems.add(
                    f"{path}.{key}.port",
                    f'Invalid value: "{port}": must contain only '
                    "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                )
        elif port is None:
            problems.add(f"{path}.{key}.port", "Required value")
        else:
            problems.integer(f"{path}.{key}.port", port, 1, 65535)
        if key == "httpGet":
            problems.string(f"{path}.httpGet.path", handler.get("path"))
            for index, header in enumerate(
                problems.sequence(f"{path}.httpGet.httpHeaders", handler.get("httpHeaders"))
            ):
                header = problems.mapping(f"{path}.httpGet.httpHeaders[{index}]", header)
                name = header.get("name")
                if problems.string(
                    f"{path}.httpGet.httpHeaders[{index}].name", name, required=True
                ) and not _HTTP_HEADER_NAME.match(name):
                    problems.add(
                        f"{path}.httpGet.httpHeaders[{index}].name",
                        f'Invalid value: "{name}": a valid HTTP header must consist '
                        "of alphanumeric characters or '-'",
                    )
                problems.string(f"{path}.httpGet.httpHeaders[{index}].value", header.get("value"))


def _check_security_context(problems: _Problems, path: str, context: Any) -> None:
    context = problems.mapping(path, context)
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        problems.integer(f"{path}.{key}", context.get(key), 0, 2**31 - 1)


def _check_container(problems: _Problems, path: str, container: Any, volumes: set[str]) -> None:
    container = problems.mapping(path, container)
    name = container.get("name")
    if problems.string(f"{path}.name", name, required=True) and (
        len(name) > 63 or not DNS_LABEL.match(name)
    ):
        problems.add(f"{path}.name", f'Invalid value: "{name}": a lowercase RFC 1123 label')
    image = container.get("image")
    if problems.string(f"{path}.image", image, required=True) and image != image.strip():
        problems.add(f"{path}.image", "Invalid value: must not have leading or trailing whitespace")
    for key in ("command", "args"):
        for index, arg in enumerate(problems.sequence(f"{path}.{key}", container.get(key))):
            problems.string(f"{path}.{key}[{index}]", arg)
    for index, variable in enumerate(problems.sequence(f"{path}.env", container.get("env"))):
        variable = problems.mapping(f"{path}.env[{index}]", variable)
        env_name = variable.get("name")
        if problems.string(f"{path}.env[{index}].name", env_name, required=True) and (
            not ENV_NAME.match(env_name)
        ):
            problems.add(
                f"{path}.env[{index}].name",
                f'Invalid value: "{env_name}": a valid '
                "environment variable name must consist of alphabetic characters, "
                "digits, '_', '-', or '.', and must not start with a digit",
            )
        problems.string(f"{path}.env[{index}].value", variable.get("value"))
    for index, port in enumerate(problems.sequence(f"{path}.ports", container.get("ports"))):
        port = problems.mapping(f"{path}.ports[{index}]", port)
        if port.get("containerPort") is None:
            problems.add(f"{path}.ports[{index}].containerPort", "Required value")
        problems.integer(
            f"{path}.ports[{index}].containerPort", port.get("containerPort"), 1, 65535
        )
    _check_resources(problems, f"{path}.resources", container.get("resources"))
    _check_security_context(problems, f"{path}.securityContext", container.get("securityContext"))
    for key in ("livenessProbe", "readinessProbe"):
        if container.get(key) is not None:
            _check_probe(problems, f"{path}.{key}", container[key])
    paths: set[str] = set()
    for index, mount in enumerate(
        problems.sequence(f"{path}.volumeMounts", container.get("volumeMounts"))
    ):
        mount = problems.mapping(f"{path}.volumeMounts[{index}]", mount)
        where = f"{path}.volumeMounts[{index}]"
        mount_name = mount.get("name")
        if (
            problems.string(f"{where}.name", mount_name, required=True)
            and mount_name not in volumes
        ):
            problems.add(f"{where}.name", f'Not found: "{mount_name}"')
        mount_path = mount.get("mountPath")
        if problems.string(f"{where}.mountPath", mount_path, required=True):
            if mount_path in paths:
                problems.add(f"{where}.mountPath", f'Invalid value: "{mount_path}": must be unique')
            paths.add(mount_path)
        sub_path = mount.get("subPath")
        if problems.string(f"{where}.subPath", sub_path) and (
            sub_path.startswith("/") or ".." in sub_path.split("/")
        ):
            problems.add(
                f"{where}.subPath",
                f"Invalid value: \"{sub_path}\": must be a relative path without '..'",
            )


def _check_pod_spec(problems: _Problems, path: str, spec: Any) -> None:
    spec = problems.mapping(path, spec)
    account = spec.get("serviceAccountName")
    if (
        problems.string(f"{path}.serviceAccountName", account)
        and account
        and (len(account) > 253 or not DNS_SUBDOMAIN.match(account))
    ):
        problems.add(
            f"{path}.serviceAccountName",
            f'Invalid value: "{account}": a lowercase RFC 1123 subdomain',
        )
    volumes: set[str] = set()
    for index, volume in enumerate(problems.sequence(f"{path}.volumes", spec.get("volumes"))):
        volume = problems.mapping(f"{path}.volumes[{index}]", volume)
        name = volume.get("name")
        if problems.string(f"{path}.volumes[{index}].name", name, required=True):
            if len(name) > 63 or not DNS_LABEL.match(name):
                problems.add(
                    f"{path}.volumes[{index}].name",
                    f'Invalid value: "{name}": a lowercase RFC 1123 label',
                )
            if name in volumes:
                problems.add(f"{path}.volumes[{index}].name", f'Duplicate value: "{name}"')
            volumes.add(name)
    _check_security_context(problems, f"{path}.securityContext", spec.get("securityContext"))
    containers = problems.sequence(f"{path}.containers", spec.get("containers"))
    if not containers:
        problems.add(f"{path}.containers", "Required value")
    names: set[str] = set()
    for index, container in enumerate(containers):
        _check_container(problems, f"{path}.containers[{index}]", container, volumes)
        name = container.get("name") if isinstance(container, dict) else None
        if name in names:
            problems.add(f"{path}.containers[{index}].name", f'Duplicate value: "{name}"')
        names.add(name)


def _validate(kind: str, body: dict[str, Any]) -> None:
    problems = _Problems()
    _check_metadata(
        problems,
        body.get("metadata"),
        DNS_1035_LABEL
        if kind == "Service"
        else DNS_LABEL
        if kind in ("Pod", "Deployment")
        else DNS_SUBDOMAIN,
    )
    spec = problems.mapping("spec", body.get("spec"))
    if kind == "Deployment":
        template = problems.mapping("spec.template", spec.get("template"))
        meta = problems.mapping("spec.template.metadata", template.get("metadata"))
        _check_labels(problems, "spec.template.metadata.labels", meta.get("labels"))
        _check_pod_spec(problems, "spec.template.spec", template.get("spec"))
    elif kind == "Pod":
        _check_pod_spec(problems, "spec", spec)
    elif kind == "Service":
        ports = problems.sequence("spec.ports", spec.get("ports"))
        if not ports:
            problems.add("spec.ports", "Required value")
        seen: set[tuple[Any, Any]] = set()
        for index, port in enumerate(ports):
            port = problems.mapping(f"spec.ports[{index}]", port)
            problems.integer(f"spec.ports[{index}].port", port.get("port"), 1, 65535)
            if port.get("port") is None:
                problems.add(f"spec.ports[{index}].port", "Required value")
            key = (port.get("port"), port.get("protocol", "TCP"))
            if key in seen:
                problems.add(f"spec.ports[{index}]", f"Duplicate value: {port.get('port')}")
            seen.add(key)
        if spec.get("type", "ClusterIP") not in ("ClusterIP", "NodePort", "LoadBalancer"):
            problems.add("spec.type", "Unsupported value")
    if problems.items:
        name = body.get("metadata", {}).get("name")
        raise KubeInvalid(f'{kind} "{name}" is invalid: [' + ", ".join(problems.items) + "]")


def _canonical_resources(pod_spec: dict[str, Any]) -> None:
    for key in ("containers", "initContainers"):
        for container in pod_spec.get(key) or []:
            resources = container.get("resources") or {}
            for kind in ("limits", "requests"):
                if resources.get(kind):
                    resources[kind] = {
                        name: canonical_quantity(value) for name, value in resources[kind].items()
                    }
                elif kind in resources:
                    del resources[kind]
            container["resources"] = resources


# -- the server -----------------------------------------------------------------------------


class FakeKubeCluster:
    """An in-memory Kubernetes API on 127.0.0.1 (port chosen by the OS).

    ``objects[(kind, namespace, name)]`` holds what was created; ``requests`` records
    ``(method, path)`` of every request; ``ready`` decides the Deployment status answered
    (``None``: the empty status of a Deployment just created, which tycho-api reports ready).
    """

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.ready: bool | None = None
        self._lock = threading.RLock()
        self._next_node_port = 30000
        self._resource_version = 1
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeKubeCluster:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _ClusterHandler)
        server.daemon_threads = True
        server.block_on_close = False
        server.cluster = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeKubeCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the cluster first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- state

    def reset(self) -> None:
        """Forget every object but the ``ambassador`` Service."""
        with self._lock:
            self.objects = {k: v for k, v in self.objects.items() if k[2] == "ambassador"}
            self.requests.clear()

    def add_ambassador(self, namespace: str = "default") -> None:
        if ("Service", namespace, "ambassador") in self.objects:
            return
        self.create(
            namespace,
            "Service",
            {
                "metadata": {"name": "ambassador", "labels": {"app": "ambassador"}},
                "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": 80}]},
            },
        )

    def remove_ambassador(self, namespace: str = "default") -> None:
        with self._lock:
            self.objects.pop(("Service", namespace, "ambassador"), None)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(o) for (k, _, _), o in sorted(self.objects.items()) if k == kind]

    # -- the API

    def create(self, namespace: str, kind: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise KubeInvalid("the body of the request was in an unknown format", 400)
        body = copy.deepcopy(body)
        _validate(kind, body)
        meta = body.setdefault("metadata", {})
        with self._lock:
            key = (kind, namespace, meta["name"])
            if key in self.objects:
                raise KubeInvalid(f'{kind.lower()}s "{meta["name"]}" already exists', 409)
            self._resource_version += 1
            meta.update(
                {
                    "namespace": namespace,
                    "uid": str(uuid.uuid4()),
                    "resourceVersion": str(self._resource_version),
                    "creationTimestamp": datetime.datetime.now(datetime.timezone.utc).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                }
            )
            body["kind"] = kind
            body["apiVersion"] = _API_VERSIONS.get(kind, "v1")
            if kind == "Deployment":
                meta["generation"] = 1
                template_spec = body["spec"]["template"].setdefault("spec", {})
                _canonical_resources(template_spec)
                body["status"] = {}
            if kind == "Service":
                spec = body.setdefault("spec", {})
                spec.setdefault("type", "ClusterIP")
                spec["clusterIP"] = (
                    f"10.96.{len(self.objects) // 250}.{len(self.objects) % 250 + 1}"
                )
                for port in spec.get("ports", []):
                    port.setdefault("protocol", "TCP")
                    port.setdefault("targetPort", port.get("port"))
                    if spec["type"] in ("NodePort", "LoadBalancer"):
                        port["nodePort"] = self._next_node_port
                        self._next_node_port += 1
                body["status"] = {"loadBalancer": {}}
            self.objects[key] = body
            return self._answerable(body)

    def _answerable(self, body: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(body)
        if out["kind"] == "Deployment" and self.ready is not None:
            out["status"] = {
                "replicas": 1,
                "readyReplicas": 1 if self.ready else None,
                "observedGeneration": 1,
            }
        return out

    def list(self, namespace: str, kind: str, labels: str = "", fields: str = "") -> dict[str, Any]:
        tests = parse_label_selector(labels)
        wanted = {}
        for part in filter(None, fields.split(",")):
            key, _, value = part.partition("=")
            if key not in ("metadata.name", "metadata.namespace"):
                raise KubeInvalid(f'field label not supported: "{key}"', 400)
            wanted[key] = value.lstrip("=")
        with self._lock:
            items = [
                self._answerable(obj)
                for (k, ns, name), obj in sorted(self.objects.items())
                if k == kind
                and ns == namespace
                and wanted.get("metadata.name", name) == name
                and all(test(obj["metadata"].get("labels") or {}) for test in tests)
            ]
            version = str(self._resource_version)
        return {
            "kind": f"{kind}List",
            "apiVersion": _API_VERSIONS.get(kind, "v1"),
            "metadata": {"resourceVersion": version},
            "items": items,
        }

    def delete_collection(self, namespace: str, kind: str, labels: str = "") -> dict[str, Any]:
        listed = self.list(namespace, kind, labels)
        with self._lock:
            for item in listed["items"]:
                self.objects.pop((kind, namespace, item["metadata"]["name"]), None)
                if kind == "Deployment":
                    self._collect_owned(namespace, item["metadata"]["uid"])
        return listed

    def _collect_owned(self, namespace: str, owner_uid: str) -> None:
        for key, obj in list(self.objects.items()):
            owners = obj["metadata"].get("ownerReferences") or []
            if key[1] == namespace and any(o.get("uid") == owner_uid for o in owners):
                del self.objects[key]

    def patch(self, namespace: str, kind: str, name: str, body: Any) -> dict[str, Any]:
        with self._lock:
            current = self.objects.get((kind, namespace, name))
            if current is None:
                raise KubeInvalid(f'{kind.lower()}s "{name}" not found', 404)
            merged = _merge(copy.deepcopy(current), body)
            _validate(kind, merged)
            if kind == "Deployment":
                _canonical_resources(merged["spec"]["template"].setdefault("spec", {}))
            self.objects[(kind, namespace, name)] = merged
            return self._answerable(merged)

    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        with self._lock:
            found = self.objects.get((kind, namespace, name))
            if found is None:
                raise KubeInvalid(f'{kind.lower()}s "{name}" not found', 404)
            return self._answerable(found)


def _merge(target: Any, patch: Any) -> Any:
    """A strategic-merge patch, enough for Deployments: maps merge, containers merge by name."""
    if isinstance(target, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            if value is None:
                target.pop(key, None)
            elif key == "containers" and isinstance(value, list):
                by_name = {c.get("name"): c for c in target.get(key) or []}
                for container in value:
                    name = container.get("name")
                    by_name[name] = _merge(by_name.get(name, {}), container)
                target[key] = list(by_name.values())
            else:
                target[key] = _merge(target.get(key), value)
        return target
    return copy.deepcopy(patch)


_REASONS = {400: "BadRequest", 404: "NotFound", 409: "AlreadyExists", 422: "Invalid"}


class _ClusterHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    timeout = 10

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def do_DELETE(self) -> None:
        self._respond("DELETE")

    def do_PATCH(self) -> None:
        self._respond("PATCH")

    def do_PUT(self) -> None:
        self._respond("PUT")

    def _respond(self, method: str) -> None:
        cluster: FakeKubeCluster = self.server.cluster  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        with cluster._lock:
            cluster.requests.append((method, parts.path))
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._send(413, _status(413, "RequestEntityTooLarge", "request entity too large"))
            self.close_connection = True
            return
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(
                400, _status(400, "BadRequest", "the body of the request was in an unknown format")
            )
            return
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            code, answer = self._route(cluster, method, parts.path, query, body)
        except KubeInvalid as exc:
            code, answer = exc.code, _status(exc.code, _REASONS.get(exc.code, "Invalid"), str(exc))
        self._send(code, answer)

    @staticmethod
    def _route(
        cluster: FakeKubeCluster, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        match = _CORE.match(path) or _GROUP.match(path)
        if match is None or match["kind"] not in _KINDS:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        namespace, kind, name = match["ns"], _KINDS[match["kind"]], match["name"]
        labels = query.get("labelSelector", "")
        if method == "GET" and name:
            return 200, cluster.get(namespace, kind, name)
        if method == "GET":
            return 200, cluster.list(namespace, kind, labels, query.get("fieldSelector", ""))
        if method == "POST" and not name:
            return 201, cluster.create(namespace, kind, body)
        if method == "DELETE" and not name:
            return 200, cluster.delete_collection(namespace, kind, labels)
        if method == "PATCH" and name:
            return 200, cluster.patch(namespace, kind, name, body)
        return 405, _status(405, "MethodNotAllowed", "the server does not allow this method")

    def _send(self, code: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are recorded instead."""


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
