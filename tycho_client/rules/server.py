"""Rules the document cannot say in JSON Schema, because they relate values across the request or
reach the compose document's open keys: what real servers (mostly through Kubernetes) refuse,
and ``services`` naming no compose service, which they ignore."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._data import mapping
from .._quantity import parse_quantity
from ._rule import GOOD, Broken, Registrar, breaking, items, principal_object, services

__all__ = ["RULES"]

rule: Registrar = Registrar()

_TEMPLATE_MARKER = re.compile(r"\{[{%#]")
_LOWERCASE_USERNAME = re.compile(r"^[a-z0-9]([-a-z0-9_.]{0,51}[a-z0-9])?$")


@rule(
    "template-markers",
    "no string anywhere in `system` (keys too) holds `{{`, `{%` or `{#`: servers render the "
    "whole compose document as a Jinja template",
    {"a Jinja marker in a label": breaking(web={"labels": {"x": "{{ y"}})},
    documented=False,
)
def _template_markers(request: Mapping[str, Any]) -> Iterator[Broken]:
    # Depth first in document order, without recursion: the data is not validated yet.
    pending: list[tuple[Any, tuple[int | str, ...], bool]] = [
        (request.get("system"), ("system",), False)
    ]
    while pending:
        value, loc, keyed = pending.pop()
        key = loc[-1]
        if keyed and isinstance(key, str) and _TEMPLATE_MARKER.search(key):
            yield Broken(loc)
        if isinstance(value, str) and _TEMPLATE_MARKER.search(value):
            yield Broken(loc)
        elif isinstance(value, Mapping):
            pending.extend((item, (*loc, k), True) for k, item in reversed(list(value.items())))
        elif isinstance(value, list):
            pending.extend((item, (*loc, i), False) for i, item in reversed(list(enumerate(value))))


def _exposed(request: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Each compose service named in ``services``, with the container ports servers read."""
    compose = dict(services(request))
    for name in mapping(request.get("services")):
        if name in compose:
            yield name, [str(p).rsplit(":", 1)[-1] for p in items(compose[name], "ports")]


@rule(
    "exposed-service-ports",
    "a compose service named in `services` has `ports`: servers make a Kubernetes Service of "
    "them, and a Service needs one",
    {
        "a service without ports named in services": breaking(
            added={"db": {"image": "postgres:15"}},
            services={**GOOD["services"], "db": {"port": "5432"}},
        )
    },
    documented=False,
)
def _exposed_service_ports(request: Mapping[str, Any]) -> Iterator[Broken]:
    return (Broken(("services", name)) for name, ports in _exposed(request) if not ports)


@rule(
    "exposed-ports-unique",
    "a compose service named in `services` lists no container port twice: Kubernetes refuses "
    "a Service with a duplicate port",
    {"container port 80 twice": breaking(web={"ports": ["8080:80", "80"]})},
    documented=False,
)
def _exposed_ports_unique(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, ports in _exposed(request):
        if len(set(ports)) != len(ports):
            yield Broken(("system", "services", name, "ports"))


def _amount(amounts: Mapping[str, Any], key: str) -> Any:
    value = amounts.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # a GPU count
    quantity = parse_quantity(value) if isinstance(value, str) else None
    return quantity.value if quantity else None


def _reservations(request: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Each service's reservations and limits, with where its reservations are."""
    for name, service in services(request):
        resources = mapping(mapping(service.get("deploy")).get("resources"))
        where = ("system", "services", name, "deploy", "resources", "reservations")
        yield where, mapping(resources.get("reservations")), mapping(resources.get("limits"))


@rule(
    "requests-within-limits",
    "reservations are at most the limits (cpus, and memory with them; ephemeralStorage): "
    "Kubernetes refuses requests above limits",
    {
        "reserved cpus above the limit": breaking(
            web={
                "deploy": {
                    "resources": {
                        "limits": {"cpus": "0.5", "memory": "256M"},
                        "reservations": {"cpus": "1", "memory": "128M"},
                    }
                }
            }
        )
    },
    documented=False,
)
def _requests_within_limits(request: Mapping[str, Any]) -> Iterator[Broken]:
    for where, reserved, limits in _reservations(request):
        compared = ["ephemeralStorage"]
        if "cpus" in limits and "cpus" in reserved:
            compared += ["cpus", "memory"]  # servers write memory only beside cpus
        for key in compared:
            low, high = _amount(reserved, key), _amount(limits, key)
            if key == "ephemeralStorage" and (not low or not high):
                continue  # servers leave out "0"
            if low is not None and high is not None and low > high:
                yield Broken((*where, key))


@rule(
    "gpus-equal",
    "reservations.gpus needs limits.gpus, equal to it: Kubernetes refuses other GPU requests",
    {
        "reserved gpus without a limit": breaking(
            web={"deploy": {"resources": {"reservations": {"gpus": "1"}}}}
        )
    },
    documented=False,
)
def _gpus_equal(request: Mapping[str, Any]) -> Iterator[Broken]:
    for where, reserved, limits in _reservations(request):
        if "gpus" in reserved and _amount(reserved, "gpus") != _amount(limits, "gpus"):
            yield Broken((*where, "gpus"))


@rule(
    "mount-paths-unique",
    "no two volumes of a service mount at one container path",
    {
        "two volumes at /data": breaking(
            web={"volumes": ["pvc://stdnfs/a:/data", "pvc://stdnfs/b:/data"]}
        )
    },
    documented=False,
)
def _mount_paths_unique(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        paths = [str(v).rsplit(":", 1)[-1] for v in items(service, "volumes")]
        if len(set(paths)) != len(paths):
            yield Broken(("system", "services", name, "volumes"))


@rule(
    "gitea-lowercase-username",
    "with gitea_integration, the username is lowercase: servers name a pod volume after it",
    {
        "gitea for Alice": breaking(
            web={"gitea_integration": True}, principal='{"username": "Alice"}'
        )
    },
    documented=False,
)
def _gitea_lowercase_username(request: Mapping[str, Any]) -> Iterator[Broken]:
    if any(service.get("gitea_integration") is True for _, service in services(request)):
        username = principal_object(request).get("username")
        if isinstance(username, str) and not _LOWERCASE_USERNAME.match(username):
            yield Broken(("principal", "username"))


@rule(
    "services-defined",
    "every key of `services` names a compose service: servers make no Service for another "
    "name, and answer success",
    {
        "a service no compose service is": breaking(
            services={**GOOD["services"], "ghost": {"port": "80", "clients": []}}
        )
    },
    documented=False,
    servers_refuse=False,
)
def _services_defined(request: Mapping[str, Any]) -> Iterator[Broken]:
    compose = mapping(mapping(request.get("system")).get("services"))
    unknown = sorted(str(name) for name in mapping(request.get("services")) if name not in compose)
    message = f"services names {', '.join(unknown)}, which the compose document does not define"
    return (Broken(("services", name), message) for name in unknown)


RULES = tuple(rule.rules)
