"""``extends`` and ``profiles``, resolved before sending as docker compose resolves them: real
Tycho servers read neither, so a service would run without its base's settings, and a service
docker compose leaves out (a profile not activated) would start.

Merging follows docker compose (compose-go's ``override`` package): mappings merge key by key,
the extending service's value winning; lists are appended, the base's first, except
``entrypoint``, ``command`` and ``healthcheck.test``, which the extending service replaces;
``environment`` (and Tycho's ``env``) merge by variable name; ``volumes`` by container path,
``ports``, ``expose`` and ``profiles`` without repeats.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .._data import unshare
from ..errors import FieldError, Loc
from ._errors import Problem

__all__ = ["apply_profiles", "resolve_extends"]

_REPLACED = frozenset({"entrypoint", "command"})
_BY_NAME = frozenset({"environment", "env"})
_UNIQUE = frozenset({"ports", "expose", "profiles", "depends_on"})


def resolve_extends(services: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """``services`` with each ``extends`` replaced by the base service merged under the
    extending one (chains followed, cycles and other files refused)."""
    resolved: dict[str, Any] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Any:
        if name in resolved:
            return resolved[name]
        service = services[name]
        if not isinstance(service, Mapping) or "extends" not in service:
            resolved[name] = service
            return service
        loc: Loc = ("system", "services", name, "extends")
        try:
            base_name = _base_name(service["extends"], services, name, chain)
        except Problem as problem:
            errors.append(FieldError(loc, problem.message))
            resolved[name] = {k: v for k, v in service.items() if k != "extends"}
            return resolved[name]
        base = resolve(base_name, (*chain, name))
        own = {k: v for k, v in service.items() if k != "extends"}
        resolved[name] = _merge(unshare(base), own, ()) if isinstance(base, Mapping) else own
        return resolved[name]

    return {name: resolve(name, ()) for name in services}


def _base_name(extends: Any, services: Mapping[str, Any], name: str, chain: tuple[str, ...]) -> str:
    if isinstance(extends, Mapping):
        if extends.get("file") is not None:
            raise Problem(
                "extends a service of another file, which Tycho cannot read (servers get one "
                "document): copy that service into this file and extend it here"
            )
        extends = extends.get("service")
    if not isinstance(extends, str) or not extends:
        raise Problem(
            "must name a service of this file: `extends: base` or `extends: {service: base}`"
        )
    if extends not in services:
        raise Problem(f"names the service `{extends}`, which this file does not define")
    if extends == name or extends in chain:
        cycle = " -> ".join((*chain, name, extends))
        raise Problem(f"services extend one another in a cycle: {cycle}")
    return extends


def _merge(base: Any, own: Any, path: tuple[str, ...]) -> Any:
    """``own`` merged over ``base`` (``path``: the keys from the service down to here)."""
    key = path[-1] if path else None
    if (len(path) == 1 and key in _REPLACED) or path == ("healthcheck", "test"):
        return own
    if len(path) == 1 and key in _BY_NAME:
        return _by_name([*_as_items(base), *_as_items(own)])
    if isinstance(base, Mapping) and isinstance(own, Mapping):
        merged = dict(base)
        for name, value in own.items():
            inherited = name in merged and not (isinstance(name, str) and name.startswith("x-"))
            merged[name] = _merge(merged[name], value, (*path, name)) if inherited else value
        return merged
    if len(path) == 1 and key == "depends_on":
        base, own = _as_list(base), _as_list(own)
    if isinstance(base, list) and isinstance(own, list):
        if len(path) == 1 and key == "volumes":
            return _by_key([*base, *own], _mount_path)
        if len(path) == 1 and key in _UNIQUE:
            return _by_key([*base, *own], repr)
        return [*base, *own]
    return own


def _as_items(environment: Any) -> list[Any]:
    """An environment as ``KEY=value`` items (a mapping's in key order, as compose sorts them)."""
    if isinstance(environment, Mapping):
        return [
            key if value is None else f"{key}={value}"
            for key, value in sorted(environment.items(), key=lambda item: str(item[0]))
        ]
    return list(environment) if isinstance(environment, list) else []


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, Mapping) else value


def _by_name(items: list[Any]) -> list[Any]:
    return _by_key(items, lambda item: str(item).split("=", 1)[0])


def _by_key(items: list[Any], key_of: Any) -> list[Any]:
    """``items`` with a later item replacing an earlier one of the same key, in its place."""
    result: list[Any] = []
    where: dict[Any, int] = {}
    for item in items:
        key = key_of(item)
        if key in where:
            result[where[key]] = item
        else:
            where[key] = len(result)
            result.append(item)
    return result


def _mount_path(volume: Any) -> Any:
    """Where a volume is mounted in the container: the long form's ``target``, else the last
    field of the short form that is a path (``pvc://claim/sub:/data`` -> ``/data``)."""
    if isinstance(volume, Mapping):
        return volume.get("target", repr(volume))
    if isinstance(volume, str):
        paths = [field for field in volume.split(":") if field.startswith("/")]
        return paths[-1] if paths else volume
    return repr(volume)


def apply_profiles(
    services: dict[str, Any], active: Collection[str], errors: list[FieldError]
) -> dict[str, Any]:
    """``services`` without those whose ``profiles`` name no active profile (as ``docker compose
    up`` leaves them out); ``profiles`` removed from the others, so that doing it again changes
    nothing."""
    kept: dict[str, Any] = {}
    left_out: dict[str, list[str]] = {}
    for name, service in services.items():
        profiles = service.get("profiles") if isinstance(service, Mapping) else None
        if profiles is None:
            kept[name] = service
            continue
        if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
            loc = ("system", "services", name, "profiles")
            errors.append(FieldError(loc, "must be a list of profile names, such as [debug]"))
            kept[name] = service
        elif not profiles or any(profile in active for profile in profiles):
            kept[name] = {key: value for key, value in service.items() if key != "profiles"}
        else:
            left_out[name] = profiles
    if left_out and not kept:
        errors.append(
            FieldError(
                ("system", "services"),
                "every service has `profiles`, so docker compose would start none of them: "
                "remove `profiles` from the services to start, or name a profile in "
                "COMPOSE_PROFILES in .env",
            )
        )
        return services
    for name, service in kept.items():
        _check_dependencies(name, service, left_out, errors)
    return kept


def _check_dependencies(
    name: str, service: Any, left_out: Mapping[str, list[str]], errors: list[FieldError]
) -> None:
    depends_on = service.get("depends_on") if isinstance(service, Mapping) else None
    if isinstance(depends_on, Mapping):
        # The long form may mark a dependency as optional.
        needed = [
            k
            for k, v in depends_on.items()
            if not (isinstance(v, Mapping) and v.get("required") is False)
        ]
    else:
        needed = list(depends_on) if isinstance(depends_on, list) else []
    for dependency in needed:
        if dependency in left_out:
            profiles = ", ".join(left_out[dependency])
            errors.append(
                FieldError(
                    ("system", "services", name, "depends_on"),
                    f"depends on `{dependency}`, which is left out: it has profiles ({profiles}) "
                    "and none is active; name one in COMPOSE_PROFILES in .env, or remove its "
                    "`profiles`",
                )
            )
