"""What the fake does for each operation it has a handler for, as real servers do.

- ``start`` names the system ``{name}-{guid}`` (``guid`` a uuid4 in hex), reports in
  ``containers`` only the compose services listed in the request's ``services``, as
  ``{"ip_address": None, "port-1": <node port from 30000 up>}``, in sorted service order (servers
  round-trip the compose document through ``yaml.dump``, which sorts keys), and ``conn_string``
  from the last service in that order.
- ``status`` lists systems sorted by name: all, by GUID (``name``), or by ``username`` (which wins
  over ``name``); ``utilization`` is each container's limits as Kubernetes reports them
  (``cpus: "0.01"`` becomes ``cpu: "10m"``; ``memory`` is only rendered together with ``cpus``;
  ``null`` for a container without limits); ``creation_time`` is ``M-D-YYYY H:M:S`` UTC.
- ``delete`` removes the system with that GUID; any other string also answers success.
- ``modify`` records ``labels`` and ``cpu``/``memory`` (set as limits of every container) and
  answers the Deployment patches.

Each takes a :class:`Call` and returns the success answer's ``result`` and ``message``, or raises
a failure of :mod:`.checks`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tycho_client._data import mapping
from tycho_client._generated.operations import OperationName
from tycho_client._quantity import BINARY_POWERS, DECIMAL_EXPONENTS, parse_quantity
from tycho_client.releases import Release

from . import checks
from .state import FakeSystem, State

__all__ = ["HANDLERS", "Call", "Handler", "canonical_quantity", "report"]


@dataclass(frozen=True)
class Call:
    """One API request routed to a handler, and what the handler may read and change."""

    body: Any
    problems: list[str]
    """The document's complaints about ``body``."""
    state: State
    ready_after: int
    service_ip_address: str | None
    release: Release
    """The tycho-api release the fake plays."""


Handler = Callable[[Call], tuple[Any, str]]


def start(call: Call) -> tuple[Any, str]:
    app_id, system, env, username = checks.read_start(call.body, call.problems, call.release)
    requested: dict[str, Any] = call.body.get("services", {})
    checks.check_clients(requested)
    compose: dict[str, Any] = system["services"]
    names = sorted(compose)
    sid = uuid.uuid4().hex
    full_name = f"{app_id}-{sid}"
    record = FakeSystem(
        name=full_name,
        sid=sid,
        app_id=app_id,
        username=username,
        created=datetime.now(timezone.utc).replace(microsecond=0),
        containers={},
        services=requested,
        utilization={name: _reported_limits(compose[name]) for name in names},
        images={name: compose[name]["image"] for name in names},
        conn_string=str(compose[names[-1]].get("conn_string", "")),
        serviceaccount=str(call.body.get("serviceaccount", "default")),
        is_ready=call.ready_after == 0,
        polls_until_ready=call.ready_after,
        compose=system,
        env=env,
    )
    # The Deployment exists before network policies and Services are made; a failure after
    # this point leaves it behind (servers clean up by full name, which matches nothing).
    failure = checks.deployment_failure(requested, compose)
    with call.state.lock:
        call.state.systems[sid] = record
        if failure is not None:
            raise checks.start_failure(full_name, failure)
        for name in names:
            if name in requested:
                record.containers[name] = {
                    "ip_address": call.service_ip_address,
                    "port-1": call.state.node_port(),
                }
        result = {
            "name": full_name,
            "sid": sid,
            "containers": {k: dict(v) for k, v in record.containers.items()},
            "conn_string": record.conn_string,
        }
    return result, f"Started system {full_name}"


def status(call: Call) -> tuple[Any, str]:
    body = call.body
    if checks.selector_refused(body):
        # Kubernetes refuses the label selector; tycho-api then fails formatting the
        # ApiException (it has no args) and Flask answers 500.
        raise checks.InternalServerError
    if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
        raise checks.ServerError(call.release.schema_error)
    if call.problems:
        raise checks.off_document("status", call.problems)
    guid, username = body.get("name"), body.get("username")
    with call.state.lock:
        systems = call.state.systems.values()
        if username:
            found = [s for s in systems if s.username == username]
        elif guid:
            found = [s for s in systems if s.sid == guid]
        else:
            found = list(systems)
        result = [report(s, call.release) for s in sorted(found, key=lambda s: s.name)]
    return result, f"Get status for system {guid}"


def report(system: FakeSystem, release: Release) -> dict[str, Any]:
    """A system's entry in a status answer (counting down its unready answers); without
    ``is_ready`` for a release that does not report readiness."""
    is_ready = system.is_ready
    if system.polls_until_ready > 0:
        system.polls_until_ready -= 1
        if system.polls_until_ready == 0:
            system.is_ready = True
    entry = {
        "name": system.name,
        "app_id": system.app_id,
        "sid": system.sid,
        "ip_address": "127.0.0.1",
        "port": "80",
        "creation_time": system.creation_time,
        "username": system.username,
        "utilization": {
            name: None if limits is None else dict(limits)
            for name, limits in system.utilization.items()
        },
        "workspace_name": system.app_id,
        "is_ready": is_ready,
    }
    if not release.reports_readiness:
        del entry["is_ready"]
    return entry


def delete(call: Call) -> tuple[Any, str]:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("name", ""), str):
        raise checks.ServerError(call.release.schema_error)
    if "name" not in body:
        raise checks.ServerError("name")
    if call.problems:
        raise checks.off_document("delete", call.problems)
    guid: str = body["name"]
    with call.state.lock:
        call.state.systems.pop(guid, None)
    return {}, f"Deleted system {guid}"


def modify(call: Call) -> tuple[Any, str]:
    body = call.body
    if not isinstance(body, dict):
        raise checks.ServerError(call.release.schema_error)
    guid = body.get("tycho-guid")
    with call.state.lock:
        system = call.state.systems.get(guid) if isinstance(guid, str) else None
        if system is None:
            raise checks.modify_failure(guid)
        if call.problems:
            raise checks.off_document("modify", call.problems)
        labels: dict[str, str] = dict(body.get("labels", {}))
        resources = {key: body[key] for key in ("cpu", "memory") if key in body}
        system.labels.update(labels)
        system.resources.update(resources)
        if "cpu" in resources:
            resources["cpu"] = canonical_quantity(resources["cpu"])
        for name, limits in system.utilization.items():
            if resources:
                system.utilization[name] = {**(limits or {}), **resources}
        patch = _patch(system, labels, resources)
    return {"patches": [patch]}, "Modified the system"


def _patch(system: FakeSystem, labels: dict[str, str], resources: dict[str, str]) -> dict[str, Any]:
    """The Deployment patch servers render from ``patch.yaml`` (empty when nothing changes)."""
    if not labels and not resources:
        return {}
    template: dict[str, Any] = {}
    if labels:
        template["metadata"] = {"labels": dict(labels)}
    if resources:
        template["spec"] = {
            "containers": [
                {
                    "resources": {"limits": dict(resources), "requests": dict(resources)},
                    "name": name,
                    "image": image,
                }
                for name, image in system.images.items()
            ]
        }
    return {"spec": {"template": template}}


HANDLERS: dict[OperationName, Handler] = {
    "start": start,
    "status": status,
    "delete": delete,
    "modify": modify,
}
"""The operations the fake emulates; it answers any other with the document's example."""

_DECIMAL_SUFFIXES = {exponent: suffix for suffix, exponent in DECIMAL_EXPONENTS.items()}
_BINARY_SUFFIXES = ["", *BINARY_POWERS]


def canonical_quantity(text: str) -> str:
    """A Kubernetes quantity in the canonical form the API server reports it in: ``"0.01"`` ->
    ``"10m"``, ``"5000M"`` -> ``"5G"``, ``"1024Mi"`` -> ``"1Gi"``, ``"0.5Gi"`` -> ``"512Mi"``.

    Values are rounded up to a whole nano-unit, as Kubernetes does. Anything that is not a plain
    quantity the document allows is returned unchanged.
    """
    quantity = parse_quantity(text.strip())
    if quantity is None or quantity.format == "DecimalExponent" or text.strip()[0] in "+-":
        return text
    nanos = -(-quantity.value.numerator * 10**9 // quantity.value.denominator)  # rounded up
    if nanos == 0:
        return "0"
    if quantity.format == "BinarySI" and nanos % 10**9 == 0 and nanos >= 1024 * 10**9:
        whole, power = nanos // 10**9, 0
        while whole % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
            whole, power = whole // 1024, power + 1
        return f"{whole}{_BINARY_SUFFIXES[power]}"
    exponent = -9
    while nanos % 1000 == 0 and exponent < 18:
        nanos, exponent = nanos // 1000, exponent + 3
    return f"{nanos}{_DECIMAL_SUFFIXES[exponent]}"


def _reported_limits(service: Mapping[str, Any]) -> dict[str, str] | None:
    """What Kubernetes reports as a container's limits, rendered the way the pod template does."""
    limits = mapping(mapping(mapping(service.get("deploy")).get("resources")).get("limits"))
    rendered: dict[str, str] = {}
    if limits.get("cpus") is not None:
        rendered["cpu"] = canonical_quantity(str(limits["cpus"]))
        if limits.get("memory") is not None:
            rendered["memory"] = canonical_quantity(str(limits["memory"]))
    if limits.get("gpus") is not None:
        rendered["nvidia.com/gpu"] = canonical_quantity(_as_yaml_reads(str(limits["gpus"])))
    if limits.get("ephemeralStorage") not in (None, "0", ""):
        storage = _as_yaml_reads(str(limits["ephemeralStorage"]))
        rendered["ephemeral-storage"] = canonical_quantity(storage)
    return rendered or None


_YAML_OCTAL = re.compile(r"0[0-7_]+")
_YAML_FLOAT = re.compile(r"[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*")


def _as_yaml_reads(text: str) -> str:
    """An amount servers write unquoted into YAML, as the number YAML reads (``010`` is the
    octal 8, ``1.`` the float 1.0) and JSON then carries to Kubernetes."""
    if _YAML_OCTAL.fullmatch(text):
        return str(int(text.replace("_", ""), 8))
    if _YAML_FLOAT.fullmatch(text):
        return repr(float(text.replace("_", "")))
    return text
