"""How real servers (``tycho-api``, the release the fake plays) fail, so that the fake fails alike:
their checks of a request, in their order, and their error texts.

How requests are answered when they fail (the first matching rule wins; texts are the servers'):

- Any method but POST: 405 ``{"message": "The method is not allowed for the requested URL."}``
  (OPTIONS: 200 with ``Allow``). A path that is not routed: the HTML 404 page (``NotRouted``).
- ``Content-Type: application/json`` with a body that is not JSON: 500
  ``{"message": "Internal Server Error"}``.
- No JSON content type, a ``null`` or non-object body, or a ``name`` that is not a string:
  the release's schema error, ``name 'abort' is not defined`` (1.14.0 and later: their own
  schema check calls an undefined ``abort``) or ``'>=' not supported between instances of
  'ValidationError' and 'int'`` (1.12.0 - 1.13.0).
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
  unexpected keyword argument '<key>'`` (also ``ephemeralStorage`` on 1.12.0 - 1.13.0); on
  1.14.0 - 1.17.1, ``limits`` or ``reservations`` without an integer ``gpus``: ``Fractional GPUs
  not supported``; a volume not in ``pvc://`` form: ``Wrong Volume definition in Container:<c>
  and Volume:<v>``.
- start, a principal without a string ``username``: ``'NoneType' object has no attribute
  'replace'``; a ``clients`` entry that is not a network: the ``ipaddress`` module's message.
- status with a ``username`` or ``name`` that is no label value: Kubernetes refuses the
  selector, and servers answer 500 ``{"message": "Internal Server Error"}``.
- Any other body the document rejects: the fake's own words, naming the fields and the document
  (the document is stricter than the servers' code; what servers then do is not part of it).
- start that breaks one of :data:`tycho_client.rules.SERVER_RULES`: the fake's own words naming
  the rule (servers fail with a Kubernetes traceback).
- start with a non-empty ``clients`` list: ``Unable to start system: <name> Traceback ... No
  template policy/tycho-default-netpolicy.yaml ...`` (exchange 21); start naming in ``services``
  a compose service without ``ports``: ``Unable to start system: ... ApiException: (422)``. In
  both cases the system stays: servers clean up by full name, which matches no GUID label.
- modify of a GUID no system has (or without ``tycho-guid``): ``Failed to modify system: <guid>
  Traceback ... No deployments found ...``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, NamedTuple

from tycho_client import openapi, rules
from tycho_client._data import mapping
from tycho_client._generated.operations import START
from tycho_client.releases import ABORT_ERROR, GPU_ASSERTION_ERROR, Release
from tycho_client.rules.compose import SERVER_RESOURCE_KEYS

__all__ = [
    "ABORT",
    "INTERNAL_SERVER_ERROR",
    "FakeTychoBug",
    "InternalServerError",
    "ServerError",
    "StartInput",
    "check_clients",
    "deployment_failure",
    "document_problems",
    "modify_failure",
    "off_document",
    "read_start",
    "selector_refused",
    "start_failure",
]

ABORT = ABORT_ERROR
INTERNAL_SERVER_ERROR = {"message": "Internal Server Error"}
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
_CLIENTS_PROBLEM = re.compile(r"^services\.[^.]+\.clients: fails 'maxItems'")
# The fake fails a Service without ports as servers do, leaving the Deployment behind.
_NAMED_RULES = tuple(rule for rule in rules.SERVER_RULES if rule.name != "exposed-service-ports")
_PRINCIPAL_SCHEMA = (
    f"/components/schemas/{START.request.__name__}/properties/principal/contentSchema"
)


class FakeTychoBug(Exception):
    """The fake was about to answer what the document does not allow (a bug in the fake); the
    loopback server answers 500 and keeps serving."""


class ServerError(Exception):
    """A failure the server reports as ``{"status": "error"}``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class InternalServerError(Exception):
    """A failure the server does not catch: Flask answers 500 ``Internal Server Error``."""


class StartInput(NamedTuple):
    """What servers read from a start request they go on with."""

    app_id: str
    system: dict[str, Any]
    env: dict[str, Any]
    username: str


def _pytype(value: Any) -> str:
    """The Python type name real servers' error texts use for a JSON value."""
    return type(value).__name__


def selector_refused(body: Any) -> bool:
    """Whether a status request puts a string into its label selector that is no label value
    (``username`` wins over ``name``, and an empty one selects all)."""
    if not isinstance(body, dict):
        return False
    value = body.get("username") or body.get("name")
    return isinstance(value, str) and not rules.is_label_value(value)


def off_document(operation: str, problems: list[str]) -> ServerError:
    """The fake's own answer to a request the document rejects but real servers' own schema
    check lets through: what they would do with it is not known, so say why, in our words."""
    schema = openapi.operation_of(operation).request.__name__
    shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if problems[3:] else "")
    return ServerError(
        f"FakeTycho: this {operation} request breaks openapi/tycho.yaml ({schema}): {shown}"
    )


def document_problems(operation: str, body: Any) -> list[str]:
    """Why ``body`` breaks the document's request schema for ``operation``, as
    ``path: fails 'keyword' (...)`` lines (empty: it is valid). For ``start`` this includes the
    ``contentSchema`` of ``principal`` (JSON Schema only annotates it; real servers parse it)."""
    found = openapi.problems(openapi.request_validator(operation), body)
    principal = body.get("principal") if isinstance(body, dict) else None
    if operation == START.name and isinstance(principal, str):
        try:
            parsed = json.loads(principal)
        except (ValueError, RecursionError):
            return [*found, "principal: not JSON text"]
        inner = openapi.problems(openapi.schema_validator(_PRINCIPAL_SCHEMA), parsed)
        found += [f"principal (JSON text){p.removeprefix('(body)')}" for p in inner]
    return found


def read_start(body: Any, problems: list[str], release: Release) -> StartInput:
    """A start request as ``release`` reads it, failing where it fails (``problems``: the
    document's complaints about it)."""
    if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
        raise ServerError(release.schema_error)
    for key in ("name", "system"):
        if key not in body:
            raise ServerError(key)
    system = body["system"]
    if not isinstance(system, dict):
        raise ServerError(f"'{_pytype(system)}' object has no attribute 'get'")
    security_context = system.get("security_context", {})
    if not isinstance(security_context, dict):
        raise ServerError(f"'{_pytype(security_context)}' object has no attribute 'get'")
    principal_text = body.get("principal")
    if not isinstance(principal_text, str):
        raise ServerError(
            "the JSON object must be str, bytes or bytearray, not " + _pytype(principal_text)
        )
    try:
        principal = json.loads(principal_text)
    except ValueError as exc:
        raise ServerError(str(exc)) from None
    except RecursionError:
        raise off_document("start", ["principal: nested too deeply"]) from None
    env = body.get("env", {})
    if env is not None and not isinstance(principal, dict):
        raise ServerError(f"'{_pytype(principal)}' object has no attribute 'get'")
    compose_services = system.get("services", {})
    if isinstance(compose_services, dict) and not compose_services:
        raise ServerError(_NO_SPEC)
    if env is None:
        raise ServerError("'NoneType' object is not iterable")
    if isinstance(compose_services, dict) and isinstance(env, dict):
        _check_compose(compose_services, env, principal, release)
    username = principal.get("username") if isinstance(principal, dict) else None
    if not isinstance(username, str) and isinstance(principal, dict):
        raise ServerError(f"'{_pytype(username)}' object has no attribute 'replace'")
    # A non-empty `clients` list is off the document, but what servers then do is known.
    problems = [p for p in problems if not _CLIENTS_PROBLEM.match(p)]
    if problems:
        raise off_document("start", problems)
    broken = [f"{p.type}: {p.path}" for p in rules.problems(body, _NAMED_RULES)]
    if broken:
        raise ServerError(
            "FakeTycho: real Tycho servers fail on this start request: "
            f"{'; '.join(broken[:3])} (tycho_client.rules.SERVER_RULES)"
        )
    if not isinstance(username, str) or not isinstance(env, dict):
        raise FakeTychoBug("a start request the document accepts has no username or env")
    return StartInput(body["name"], system, env, username)


def _check_compose(
    compose_services: dict[str, Any], env: dict[str, Any], principal: Any, release: Release
) -> None:
    """The failures ``release`` hits while turning compose services into containers."""
    ordered = [compose_services[key] for key in sorted(compose_services)]
    for service in ordered:
        if not isinstance(service, dict):
            raise ServerError(f"'{_pytype(service)}' object has no attribute 'get'")
        ports = service.get("ports", [])
        for entry in ports if isinstance(ports, list) else []:
            if entry is None or isinstance(entry, (int, float)):
                raise ServerError(f"argument of type '{_pytype(entry)}' is not iterable")
    username = principal.get("username", "Unknown") if isinstance(principal, dict) else ""
    for value in [*env.values(), username]:
        if value is None or isinstance(value, (int, float)):
            raise ServerError(f"argument of type '{_pytype(value)}' is not iterable")
    if not any(service.get("ports") for service in ordered):
        # Without ports the server's default system port is the integer 8000.
        raise ServerError("argument of type 'int' is not iterable")
    for service in ordered:
        own_env = service.get("env")
        environment = service.get("environment", [])
        if not own_env and not isinstance(environment, list):
            raise ServerError(
                f"unsupported operand type(s) for +: '{_pytype(environment)}' and 'list'"
            )
    for service in ordered:
        if "image" not in service:
            raise ServerError("image")
    known = [
        k for k in SERVER_RESOURCE_KEYS if release.ephemeral_storage or k != "ephemeralStorage"
    ]
    for service in ordered:
        resources = mapping(mapping(service.get("deploy")).get("resources"))
        for kind in ("limits", "reservations"):
            amounts = mapping(resources.get(kind))
            for key in amounts:
                if key not in known:
                    # Servers build Limits(**amounts), which takes only these keywords.
                    raise ServerError(
                        f"Limits.__init__() got an unexpected keyword argument '{key}'"
                    )
            gpus = amounts.get("gpus")
            if release.gpu_assertion and not isinstance(gpus, int):
                # `assert isinstance(gpus, int)` in Limits: a bool passes, as in Python.
                raise ServerError(GPU_ASSERTION_ERROR)
    for name in sorted(compose_services):
        volumes = compose_services[name].get("volumes")
        for volume in volumes if isinstance(volumes, list) else []:
            if isinstance(volume, str) and not _PVC_VOLUME.match(volume):
                raise ServerError(
                    f"Wrong Volume definition in Container:{name} and Volume:{volume}"
                )


def check_clients(requested: dict[str, Any]) -> None:
    """Servers parse every ``clients`` entry as a network."""
    for service_spec in requested.values():
        for cidr in service_spec.get("clients", []):
            try:
                ipaddress.ip_network(cidr)
            except ValueError as exc:
                raise ServerError(str(exc)) from None


def deployment_failure(requested: dict[str, Any], compose: dict[str, Any]) -> str | None:
    """What servers fail on once the Deployment exists (it stays behind), if anything."""
    if any(spec.get("clients") for spec in requested.values()):
        return _NETPOLICY_TRACEBACK
    if any(name in requested and not compose[name].get("ports") for name in compose):
        return _SERVICE_TRACEBACK
    return None


def start_failure(full_name: str, traceback: str) -> ServerError:
    """Servers' answer to a start that failed once the Deployment existed."""
    return ServerError(f"Unable to start system: {full_name} {_TRACEBACK_HEAD}{traceback}")


def modify_failure(guid: Any) -> ServerError:
    """Servers find no Deployment with that GUID."""
    return ServerError(f"Failed to modify system: {guid} {_TRACEBACK_HEAD}{_MODIFY_TRACEBACK}")
