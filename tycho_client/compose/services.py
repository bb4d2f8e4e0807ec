"""The start request's ``services``: which compose services get a Kubernetes Service, and on which
container port, read as real servers read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import FieldError
from ..rules import container_port_problem
from ._errors import Problem, invalid
from .normalize import normalize_compose, normalize_port


def _container_port(normalized: str) -> str:
    problem = container_port_problem(normalized)
    if problem:
        raise Problem(problem)
    return normalized.rsplit(":", 1)[-1]


def container_port(entry: str | int) -> str:
    """The container side of a ``ports`` entry, as servers read it: ``"8080:80"`` -> ``"80"``.

    Raises :class:`~tycho_client.errors.TychoComposeError` unless it is a literal port 1-65535
    (for example ``"$APP_PORT:$APP_PORT"`` with ``APP_PORT`` not defined in ``.env``).
    """
    try:
        return _container_port(normalize_port(entry))
    except Problem as problem:
        raise invalid([FieldError(("ports",), problem.message)]) from None


def derive_services(system: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The start request's ``services``: each compose service with ``ports``, by its first port.

    ``{"jupyter": {"port": "8888", "clients": []}}``; the port is a string and ``clients`` empty,
    which is what real servers accept. Normalizes ``system`` first.
    """
    return derive_normalized_services(normalize_compose(system))


def derive_normalized_services(system: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """:func:`derive_services` of a document that :func:`normalize_compose` already returned."""
    result: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    for name, service in system["services"].items():
        ports = service.get("ports") if isinstance(service, Mapping) else None
        # A first port normalizing could not read is named by its problem already.
        if not isinstance(ports, list) or not ports or not isinstance(ports[0], str):
            continue
        try:
            result[name] = {"port": _container_port(ports[0]), "clients": []}
        except Problem as problem:
            errors.append(FieldError(("system", "services", name, "ports", 0), problem.message))
    if errors:
        raise invalid(errors)
    return result
