"""Requests drawn from the document's own request schemas (hypothesis-jsonschema), for the suite.

``start_requests()`` draws from ``StartRequest`` with ``principal`` drawn from its
``contentSchema`` and serialized to the JSON string servers read. Open-ended arrays and maps are
bounded (a long list adds nothing the server's code treats differently); extra keys of the open
compose objects are drawn too, and those that hold what the document cannot rule out (see
``tycho_client.rules.SERVER_RULES``) are filtered by the caller.

hypothesis-jsonschema almost never fills the optional ``deploy.resources`` of a service (none of
400 draws did), so about every other service gets one drawn from the ``Resources`` schema: limits,
and reservations that take some of the limits' amounts (at most the limits, GPUs equal, as the
rules want). :func:`has_resources` says which draws carry any.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tycho_client.openapi import resolved_schema

_SIZE = 3


def bounded(schema: Any, size: int = _SIZE) -> Any:
    """``schema`` with arrays and open maps of at most ``size`` entries and strings of at most 40
    characters where no longer bound is given."""
    if isinstance(schema, list):
        return [bounded(item, size) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: bounded(value, size) for key, value in schema.items()}
    if "dependentRequired" in out:
        # hypothesis-jsonschema knows the draft-7 spelling of this 2020-12 keyword.
        out["dependencies"] = out.pop("dependentRequired")
    if out.get("type") == "array" and "maxItems" not in out:
        out["maxItems"] = size
    if out.get("type") == "object" and "maxProperties" not in out:
        out["maxProperties"] = size + len(out.get("required", []))
    if out.get("type") == "string" and "maxLength" not in out and "pattern" not in out:
        out["maxLength"] = 24
    return out


def _schema(name: str) -> dict[str, Any]:
    return bounded(resolved_schema(f"/components/schemas/{name}"))


def principal_schema() -> dict[str, Any]:
    start = resolved_schema("/components/schemas/StartRequest")
    return bounded(copy.deepcopy(start["properties"]["principal"]["contentSchema"]))


def start_requests() -> st.SearchStrategy[dict[str, Any]]:
    schema = _schema("StartRequest")
    principal = schema["properties"].pop("principal")
    schema["required"] = [key for key in schema["required"] if key != "principal"]
    principals = from_schema(bounded(principal["contentSchema"])).map(json.dumps)
    services = schema["properties"]["system"]["properties"]["services"]
    # hypothesis-jsonschema meets "not every service lacks ports" (a `not` over a map) only by
    # rejecting whole systems, most of them: instead, a system drawn without ports gets one more
    # service drawn from the same schema with `ports` required. The caller checks every request
    # against the whole document.
    services.pop("not")
    with_ports = copy.deepcopy(services["additionalProperties"])
    with_ports["required"] = [*with_ports["required"], "ports"]
    with_ports["properties"]["ports"]["minItems"] = 1
    extra = st.tuples(
        from_schema({**services["propertyNames"], "type": "string"}), from_schema(with_ports)
    )

    amounts = from_schema({**_schema("Resources"), "minProperties": 1})
    kept = st.sets(st.sampled_from(sorted(_RESOURCE_KEYS)))
    drawn = st.tuples(amounts, kept)
    # One for each service, resources or none, the two alike.
    deploys = st.lists(st.one_of(st.none(), drawn), min_size=_SIZE + 1, max_size=_SIZE + 1)

    def assembled(
        parts: tuple[
            dict[str, Any],
            str,
            tuple[str, dict[str, Any]],
            list[tuple[dict[str, Any], set[str]] | None],
        ],
    ) -> dict[str, Any]:
        body, text, (name, service), resources = parts
        body.pop("principal", None)
        compose = body["system"]["services"]
        if not any(s.get("ports") for s in compose.values()):
            compose[name] = service
        for drawn, chosen in zip(compose.values(), resources, strict=False):
            if chosen is not None and chosen[0] and isinstance(drawn, dict):
                drawn["deploy"] = {"resources": _limits_and_reservations(*chosen)}
        return {**body, "principal": text}

    return st.tuples(from_schema(schema), principals, extra, deploys).map(assembled)


_RESOURCE_KEYS = ("cpus", "memory", "gpus", "ephemeralStorage")


def _limits_and_reservations(limits: dict[str, Any], kept: set[str]) -> dict[str, Any]:
    """Limits, and reservations of some of the same amounts (cpus only with memory)."""
    reserved = {key: value for key, value in limits.items() if key in kept}
    if "cpus" in reserved:
        reserved["memory"] = limits["memory"]
    return {"limits": limits, "reservations": reserved} if reserved else {"limits": limits}


def has_resources(body: dict[str, Any]) -> bool:
    """Whether a drawn start request has ``deploy.resources`` amounts in any service."""
    services = body.get("system", {}).get("services", {})
    return any(
        isinstance(service, dict)
        and isinstance(service.get("deploy"), dict)
        and isinstance(service["deploy"].get("resources"), dict)
        and any(service["deploy"]["resources"].get(kind) for kind in ("limits", "reservations"))
        for service in services.values()
    )


def uses(body: dict[str, Any], key: str) -> bool:
    """Whether any service's limits or reservations name ``key`` (``ephemeralStorage`` ...)."""
    services = body.get("system", {}).get("services", {})
    for service in services.values():
        deploy = service.get("deploy") if isinstance(service, dict) else None
        resources = deploy.get("resources") if isinstance(deploy, dict) else None
        for kind in ("limits", "reservations"):
            amounts = resources.get(kind) if isinstance(resources, dict) else None
            if isinstance(amounts, dict) and key in amounts:
                return True
    return False


def status_requests() -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(_schema("StatusRequest"))


def delete_requests() -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(_schema("DeleteRequest"))
