"""Docker-compose documents in the form real Tycho servers read.

The pipeline, each step a pure function over plain data::

    load_compose(text)           YAML text -> dict (safe, bounded, multi-document)
    interpolate(system, env)     $VAR / ${VAR:-default} from the given .env mapping only
    normalize_compose(system)    compose forms -> the forms servers can read (idempotent)
    validate_for_tycho(system)   what real servers accept but cannot run (or crash on)
    derive_services(system)      the start request's ``services`` for the compose services

Real servers (``tycho-api``) read the document with few checks and fail in obscure ways: an integer
``ports`` entry or a system without any ``ports`` fails with ``argument of type 'int' is not
iterable``, an ``environment`` mapping with ``unsupported operand type(s) for +: 'dict' and
'list'``, a volume that is not ``pvc://...`` with ``Wrong Volume definition``. These functions turn
each such case into either a rewrite or a :class:`~tycho_client.errors.TychoComposeError` whose
``errors`` name the field (``system.services.web.ports[0]``).

As in docker compose (and unlike PyYAML's YAML 1.1 defaults), ``22:22`` stays the string
``"22:22"`` (not the base-60 integer 1342), ``2024-01-01`` a string (not a date), and ``yes``,
``no``, ``on`` and ``off`` strings (only ``true`` and ``false`` are booleans).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._data import number_as_string, unshare
from ._limits import MAX_EXPANDED_NODES, MAX_NUMBER_DIGITS, MAX_SERVICES
from .errors import FieldError, Loc, TychoComposeError, summarize
from .naming import MAX_NAME_LENGTH, is_dns_label

__all__ = [
    "MAX_EXPANDED_NODES",
    "MAX_SERVICES",
    "container_port",
    "derive_normalized_services",
    "derive_services",
    "interpolate",
    "load_compose",
    "normalize_compose",
    "validate_for_tycho",
    "validate_normalized",
]

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)
_REFERENCED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_PORT_NUMBER = re.compile(r"[1-9][0-9]{0,4}")
_PORT_RANGE = re.compile(r"[0-9]+-[0-9]+")
_PVC_VOLUME = re.compile(r"pvc://(?P<claim>[^/:]+)(?P<subpath>/[^:]*)?:(?P<path>/[^:]*)")
_PVC_FORM = "pvc://<claim>[/<subpath>]:<container-path>"

# The server builds its own `Limits(**limits)` object, which takes exactly these keywords.
_SERVER_RESOURCE_KEYS = ("cpus", "gpus", "memory", "ephemeralStorage")
# Keys the server iterates or dereferences without a default, so `null` must mean "absent".
_NULL_MEANS_ABSENT = ("ports", "expose", "environment", "env", "depends_on", "volumes", "deploy")


class _Problem(Exception):
    """A problem with one value; the caller knows where the value is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _invalid(errors: Sequence[FieldError]) -> TychoComposeError:
    shown = summarize(f"{e.path}: {e.msg}" for e in errors)
    return TychoComposeError(f"invalid compose document: {shown}", errors)


def load_compose(text: str, *, source: str | None = None) -> dict[str, Any]:
    """Load compose YAML ``text`` into plain data (dict, list, str, int, float, bool, None).

    Several YAML documents (``---``) are merged in order; a top-level key may appear in only one.
    The result must have a non-empty ``services`` mapping. Aliases may not expand to more than
    :data:`MAX_EXPANDED_NODES` nodes. ``source`` (a file name) appears in error messages.
    Raises :class:`~tycho_client.errors.TychoComposeError`, with the line where known.
    """
    # PyYAML is imported only by the commands that read files, not by `tycho status`.
    from ._compose_yaml import load_yaml_documents

    return load_yaml_documents(text, source=source)


# ----------------------------------------------------------------------------------- interpolation


def interpolate(system: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Substitute variables in every string value of ``system``, using only ``env``.

    Docker compose syntax: ``$VAR``, ``${VAR}``, ``${VAR:-default}`` (unset or empty),
    ``${VAR-default}`` (unset), ``${VAR:+alt}`` and ``${VAR+alt}``, ``${VAR:?message}`` and
    ``${VAR?message}`` (an error when missing) and ``$$`` for a literal ``$``. A variable missing
    from ``env`` is left as written, so the server sees it. The process environment is never
    read. Keys are not interpolated. Returns a new dict.
    """
    result = _interpolate_value(system, env, ("system",))
    assert isinstance(result, dict)
    return result


def _interpolate_value(value: Any, env: Mapping[str, str], loc: Loc) -> Any:
    if isinstance(value, Mapping):
        return {key: _interpolate_value(item, env, (*loc, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_interpolate_value(item, env, (*loc, i)) for i, item in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        try:
            return _substitute(value, env)
        except _Problem as problem:
            raise _invalid([FieldError(loc, problem.message)]) from None
    return value


def _closing_brace(text: str, start: int) -> int:
    """Index of the '}' closing a ``${`` whose body starts at ``start`` (nesting allowed), or -1."""
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("$$", index):
            index += 2
            continue
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _substitute(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        dollar = text.find("$", index)
        if dollar < 0:
            out.append(text[index:])
            break
        out.append(text[index:dollar])
        following = text[dollar + 1 : dollar + 2]
        if following == "$":
            out.append("$")
            index = dollar + 2
        elif following == "{":
            close = _closing_brace(text, dollar + 2)
            if close < 0:
                out.append(text[dollar:])
                break
            body = _BRACED_BODY.fullmatch(text, dollar + 2, close)
            written = text[dollar : close + 1]
            out.append(_expand(body, env) if body else written)
            index = close + 1
        else:
            name = _VARIABLE_NAME.match(text, dollar + 1)
            if name:
                out.append(env.get(name.group(), text[dollar : name.end()]))
                index = name.end()
            else:
                out.append("$")
                index = dollar + 1
    return "".join(out)


def _expand(body: re.Match[str], env: Mapping[str, str]) -> str:
    name, operator, argument = body.group(1), body.group(2), body.group(3)
    value = env.get(name)
    if operator is None:
        return value if value is not None else body.string[body.start() - 2 : body.end() + 1]
    # With ':' an empty value counts as missing; without, only an unset one does.
    present = bool(value) if operator.startswith(":") else value is not None
    kind = operator[-1]
    if kind == "-":
        return value if present and value is not None else _substitute(argument, env)
    if kind == "+":
        return _substitute(argument, env) if present else ""
    if present and value is not None:
        return value
    detail = f": {argument}" if argument else ""
    raise _Problem(f"required variable {name} is not set (define it in .env){detail}")


# ----------------------------------------------------------------------------------- normalizing


def _split_outside_variables(text: str, separator: str) -> list[str]:
    """Split on ``separator`` except inside ``${...}`` and ``[...]`` (an IPv6 address)."""
    parts: list[str] = []
    depth = 0
    in_brackets = False
    start = 0
    index = 0
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        char = text[index]
        if char == "}" and depth:
            depth -= 1
        elif char == "[" and not depth:
            in_brackets = True
        elif char == "]" and in_brackets:
            in_brackets = False
        elif char == separator and not depth and not in_brackets:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts


def _without_tcp(text: str) -> str:
    parts = _split_outside_variables(text.strip(), "/")
    if len(parts) == 1:
        return parts[0]
    protocol = parts[-1].strip().lower()
    if len(parts) == 2 and protocol == "tcp":
        return parts[0].strip()
    if len(parts) == 2 and protocol in ("udp", "sctp"):
        raise _Problem(f"{protocol.upper()} ports are not supported: Tycho publishes TCP only")
    raise _Problem("expected a port with an optional /tcp suffix")


def _long_syntax_port(entry: Mapping[str, Any]) -> str:
    target = entry.get("target")
    if isinstance(target, bool) or not isinstance(target, (int, str)) or target == "":
        raise _Problem("the long port syntax needs `target`, the container port")
    protocol = entry.get("protocol", "tcp")
    published = entry.get("published")
    text = f"{target}" if published in (None, "") else f"{published}:{target}"
    return f"{text}/{protocol}"


def _normalize_port(entry: Any) -> str:
    """One ``ports`` entry as ``"container"`` or ``"host:container"`` (servers read field 1)."""
    if isinstance(entry, bool):
        raise _Problem('must be a port such as "8080:80"')
    if isinstance(entry, int):
        return str(entry)
    if isinstance(entry, Mapping):
        entry = _long_syntax_port(entry)
    if not isinstance(entry, str):
        raise _Problem('must be a port such as "8080:80"')
    fields = _split_outside_variables(_without_tcp(entry), ":")
    if len(fields) > 3:
        raise _Problem("expected [ip:]host:container")
    if any(_PORT_RANGE.fullmatch(field.strip()) for field in fields):
        raise _Problem("port ranges are not supported: Tycho maps single ports")
    container = fields[-1].strip()
    host = fields[-2].strip() if len(fields) > 1 else ""
    if not container:
        raise _Problem("has no container port")
    # The IP is dropped: servers take the text after the first ':' as the container port.
    return f"{host}:{container}" if host else container


def _normalize_expose(entry: Any) -> str:
    if isinstance(entry, bool) or not isinstance(entry, (int, str)):
        raise _Problem('must be a container port such as "8080"')
    text = _without_tcp(str(entry))
    if ":" in text:
        raise _Problem("`expose` takes a container port only; use `ports` for host:container")
    if _PORT_RANGE.fullmatch(text):
        raise _Problem("port ranges are not supported: Tycho maps single ports")
    return text


def _normalize_items(
    value: Any, loc: Loc, errors: list[FieldError], normalize: Callable[[Any], str]
) -> Any:
    if not isinstance(value, list):
        errors.append(FieldError(loc, "must be a list"))
        return value
    items: list[Any] = []
    for index, entry in enumerate(value):
        try:
            items.append(normalize(entry))
        except _Problem as problem:
            errors.append(FieldError((*loc, index), problem.message))
            items.append(entry)
    return items


def _normalize_environment(value: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if isinstance(value, Mapping):
        items: list[str] = []
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(FieldError(loc, "variable names must be strings"))
            elif item is None:
                items.append(key)
            elif isinstance(item, bool):
                items.append(f"{key}={'true' if item else 'false'}")
            elif isinstance(item, (str, int, float)):
                items.append(f"{key}={item}")
            else:
                errors.append(FieldError((*loc, key), "must be a string, a number or null"))
        return items
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                errors.append(FieldError((*loc, index), 'must be a string "KEY=value"'))
        return list(value)
    errors.append(FieldError(loc, 'must be a list of "KEY=value" strings or a mapping'))
    return value


def _normalize_command(value: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [number_as_string(item) for item in value]
        for index, item in enumerate(items):
            if not isinstance(item, str):
                errors.append(FieldError((*loc, index), "must be a string"))
        return items
    text = number_as_string(value)
    if not isinstance(text, str):
        errors.append(FieldError(loc, "must be a string or a list of strings"))
    return text


def _normalize_deploy(value: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(FieldError(loc, "must be a mapping"))
        return value
    deploy = dict(value)
    if deploy.get("resources", "") is None:
        del deploy["resources"]
    resources = deploy.get("resources")
    if resources is None:
        return deploy
    if not isinstance(resources, Mapping):
        errors.append(FieldError((*loc, "resources"), "must be a mapping"))
        return deploy
    resources = dict(resources)
    for kind in ("limits", "reservations"):
        amounts = resources.get(kind)
        if kind in resources and amounts is None:
            del resources[kind]
        elif isinstance(amounts, Mapping):
            resources[kind] = {key: number_as_string(a) for key, a in amounts.items()}
    deploy["resources"] = resources
    return deploy


def _normalize_service(service: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if not isinstance(service, Mapping):
        errors.append(FieldError(loc, "must be a mapping with at least an `image`"))
        return service
    out = dict(service)
    for key in _NULL_MEANS_ABSENT:
        if key in out and out[key] is None:
            del out[key]
    image = out.get("image")
    if image is None:
        errors.append(FieldError((*loc, "image"), "is required: every service needs an image"))
    elif not isinstance(image, str) or not image.strip():
        errors.append(FieldError((*loc, "image"), "must be a non-empty string"))
    if "ports" in out:
        out["ports"] = _normalize_items(out["ports"], (*loc, "ports"), errors, _normalize_port)
    if "expose" in out:
        out["expose"] = _normalize_items(out["expose"], (*loc, "expose"), errors, _normalize_expose)
    for key in ("environment", "env"):
        if key in out:
            out[key] = _normalize_environment(out[key], (*loc, key), errors)
    for key in ("entrypoint", "command"):
        if key in out:
            out[key] = _normalize_command(out[key], (*loc, key), errors)
    if "deploy" in out:
        out["deploy"] = _normalize_deploy(out["deploy"], (*loc, "deploy"), errors)
    if isinstance(out.get("depends_on"), Mapping):
        out["depends_on"] = list(out["depends_on"])
    if "volumes" in out:
        if isinstance(out["volumes"], list):
            # Servers split the text as is: " pvc://..." would not start with "pvc".
            out["volumes"] = [v.strip() if isinstance(v, str) else v for v in out["volumes"]]
        else:
            errors.append(FieldError((*loc, "volumes"), "must be a list"))
    return out


# An int this many bits long has more than MAX_NUMBER_DIGITS digits (checked without printing it).
_MAX_NUMBER_BITS = int(MAX_NUMBER_DIGITS * 3.33)


def _scalar_problems(value: Any, loc: Loc, errors: list[FieldError]) -> None:
    """What no server can take, anywhere in the document: NUL characters, non-finite numbers,
    integers too long to print. Iterative, so deep nesting cannot exhaust the stack."""
    pending: list[tuple[Any, Loc]] = [(value, loc)]
    while pending and len(errors) < 20:
        item, where = pending.pop()
        if isinstance(item, str):
            if "\0" in item:
                errors.append(FieldError(where, "contains a NUL character"))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if item.bit_length() > _MAX_NUMBER_BITS:
                errors.append(FieldError(where, f"is a number of over {MAX_NUMBER_DIGITS} digits"))
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                errors.append(FieldError(where, "must be a finite number (not .inf or .nan)"))
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and "\0" in key:
                    errors.append(FieldError(where, "a key contains a NUL character"))
                pending.append((child, (*where, key)))
        elif isinstance(item, (list, tuple)):
            pending.extend((child, (*where, index)) for index, child in enumerate(item))


def normalize_compose(system: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a compose document into the forms real Tycho servers read; a new dict.

    Per service: ``ports`` entries become strings ``"container"`` or ``"host:container"`` (an IP
    is dropped, ``/tcp`` stripped; UDP and ranges are errors; the long syntax is accepted);
    ``expose`` entries become strings; ``environment``/``env`` mappings become ``"KEY=value"``
    lists (``KEY`` alone for a null value); numbers in ``entrypoint``/``command`` lists and in
    ``deploy.resources.limits``/``reservations`` become strings; a ``depends_on`` mapping becomes
    the list of its keys; ``null`` for ``ports``, ``expose``, ``environment``, ``env``,
    ``depends_on``, ``volumes`` or ``deploy`` removes the key; ``volumes`` strings are stripped of
    surrounding blanks. Other keys are left alone.
    Idempotent. Raises :class:`~tycho_client.errors.TychoComposeError` listing every problem.
    """
    services = system.get("services")
    if not isinstance(services, Mapping) or not services:
        problem = "must be a non-empty mapping of services"
        raise _invalid([FieldError(("system", "services"), problem)])
    if len(services) > MAX_SERVICES:
        problem = f"too many services ({len(services)}; a Tycho system has at most {MAX_SERVICES})"
        raise _invalid([FieldError(("system", "services"), problem)])
    errors: list[FieldError] = []
    _scalar_problems(system, ("system",), errors)
    if errors:
        raise _invalid(errors)
    result: dict[str, Any] = {key: unshare(value) for key, value in system.items()}
    services = result["services"]
    normalized: dict[str, Any] = {}
    for name, service in services.items():
        if not isinstance(name, str):
            errors.append(FieldError(("system", "services"), "service names must be strings"))
            continue
        normalized[name] = _normalize_service(service, ("system", "services", name), errors)
    if errors:
        raise _invalid(errors)
    result["services"] = normalized
    return result


# ----------------------------------------------------------------------------------- validating


def _literal_port(text: str) -> str:
    if _PORT_NUMBER.fullmatch(text) and int(text) <= 65535:
        return text
    variables = _REFERENCED.findall(text)
    if variables:
        names = ", ".join(dict.fromkeys(variables))
        raise _Problem(
            f"the container port comes from {names}, which is not defined: define it in .env "
            "(real Tycho servers need a literal port number here)"
        )
    raise _Problem("the container port must be a number from 1 to 65535")


def _container_port(entry: Any) -> str:
    normalized = _normalize_port(entry)
    # Servers read the text between the first and second ':' (or all of it): it must be the port.
    server_view = normalized.split(":")[1] if ":" in normalized else normalized
    port = _literal_port(_split_outside_variables(normalized, ":")[-1])
    if server_view != port:
        raise _Problem(
            "the host side contains ':' (an undefined ${VAR:-...}?); real Tycho servers would "
            "read the wrong container port: define the variable in .env"
        )
    return port


def container_port(entry: str | int) -> str:
    """The container side of a ``ports`` entry, as servers read it: ``"8080:80"`` -> ``"80"``.

    Raises :class:`~tycho_client.errors.TychoComposeError` unless it is a literal port 1-65535
    (for example ``"$APP_PORT:$APP_PORT"`` with ``APP_PORT`` not defined in ``.env``).
    """
    try:
        return _container_port(entry)
    except _Problem as problem:
        raise _invalid([FieldError(("ports",), problem.message)]) from None


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
        ports = service.get("ports")
        if not ports:
            continue
        try:
            result[name] = {"port": _container_port(ports[0]), "clients": []}
        except _Problem as problem:
            errors.append(FieldError(("system", "services", name, "ports", 0), problem.message))
    if errors:
        raise _invalid(errors)
    return result


def _check_volume(volume: Any) -> None:
    form = (
        f"real Tycho servers mount only PersistentVolumeClaims: a volume must be {_PVC_FORM} "
        "(no host paths, named volumes or :ro suffix)"
    )
    if not isinstance(volume, str):
        raise _Problem(form)
    hint = "; it still contains a variable: define it in .env" if "$" in volume else ""
    match = _PVC_VOLUME.fullmatch(volume)
    if not match:
        raise _Problem(form + hint)
    if not is_dns_label(match.group("claim")):
        raise _Problem(
            "the claim name must be a DNS label (a-z, 0-9, '-'): servers also use it as the "
            f"pod's volume name{hint}"
        )


def _check_env_item(item: str) -> None:
    key, equals, value = item.partition("=")
    if not _VARIABLE_NAME.fullmatch(key.strip()):
        raise _Problem('must be "KEY=value" with a variable name as KEY')
    if "\0" in value:
        raise _Problem(f"the value of {key} contains a NUL character")
    # Servers split each item on every '=' and write the value into a double-quoted YAML string.
    if equals and "=" in value:
        raise _Problem(
            f"the value of {key} contains '=': real Tycho servers split on every '=' and keep "
            "only the text before the second one"
        )
    if '"' in value or "\\" in value:
        raise _Problem(
            f"the value of {key} contains '\"' or '\\': real Tycho servers put it unescaped "
            "inside a double-quoted YAML string, which breaks the pod they generate"
        )


def env_item_problem(item: str) -> str | None:
    """Why real Tycho servers would mangle the environment item ``KEY=value`` (None: they won't)."""
    try:
        _check_env_item(item)
    except _Problem as problem:
        return problem.message
    return None


def _check_service_name(name: str, has_ports: bool) -> str | None:
    if has_ports and not (is_dns_label(name, MAX_NAME_LENGTH) and name[0].isalpha()):
        return (
            f"a service with ports needs a name of at most {MAX_NAME_LENGTH} characters of "
            "a-z, 0-9 and '-', starting with a letter: real Tycho servers name its Kubernetes "
            "Service '<service>-<32-hex guid>', which must fit in 63 characters"
        )
    if not is_dns_label(name):
        return (
            "a service name must be a DNS label (a-z, 0-9, '-', at most 63 characters): real "
            "Tycho servers use it as the Kubernetes container name"
        )
    return None


def _service_problems(name: str, service: Mapping[str, Any]) -> list[FieldError]:
    loc: Loc = ("system", "services", name)
    errors: list[FieldError] = []

    def check_each(key: str, check: Callable[[Any], object]) -> None:
        for index, entry in enumerate(service.get(key) or []):
            try:
                check(entry)
            except _Problem as problem:
                errors.append(FieldError((*loc, key, index), problem.message))

    name_problem = _check_service_name(name, bool(service.get("ports")))
    if name_problem:
        errors.append(FieldError(loc, name_problem))
    check_each("ports", _container_port)
    check_each("expose", lambda entry: _literal_port(_normalize_expose(entry)))
    check_each("volumes", _check_volume)
    for key in ("env", "environment"):
        check_each(key, _check_env_item)
    if service.get("env") and service.get("environment"):
        errors.append(
            FieldError(
                (*loc, "environment"),
                "both `env` and `environment` are set: real Tycho servers read only `env`; "
                "merge them into one",
            )
        )
    resources = (service.get("deploy") or {}).get("resources") or {}
    for kind in ("limits", "reservations"):
        amounts = resources.get(kind)
        if isinstance(amounts, Mapping):
            for key in amounts:
                if key not in _SERVER_RESOURCE_KEYS:
                    errors.append(
                        FieldError(
                            (*loc, "deploy", "resources", kind, key),
                            "real Tycho servers accept only "
                            f"{', '.join(_SERVER_RESOURCE_KEYS)} here and fail on anything else",
                        )
                    )
    return errors


def validate_for_tycho(system: Mapping[str, Any]) -> None:
    """Reject a compose document that real Tycho servers accept but cannot run.

    Normalizes first (see :func:`normalize_compose`), then checks that at least one service has
    ``ports`` (servers otherwise fail with ``argument of type 'int' is not iterable``, because
    their fallback port is an integer); that every container port is a literal number (an
    undefined ``$VAR`` is named); that every volume is ``pvc://<claim>[/<subpath>]:<path>``;
    that service names fit Kubernetes; that ``env`` items survive the server's ``split('=')``;
    and that resources use only the keys the server knows. Raises
    :class:`~tycho_client.errors.TychoComposeError` listing every problem.
    """
    validate_normalized(normalize_compose(system))


def validate_normalized(system: Mapping[str, Any]) -> None:
    """:func:`validate_for_tycho` of a document that :func:`normalize_compose` already returned."""
    services = system["services"]
    errors: list[FieldError] = []
    for name, service in services.items():
        errors.extend(_service_problems(name, service))
    if not any(service.get("ports") for service in services.values()):
        errors.append(
            FieldError(
                ("system", "services"),
                "no service has `ports`: real Tycho servers fail on such a system with "
                "\"argument of type 'int' is not iterable\" (their fallback port is an "
                "integer); publish the port of the service users connect to",
            )
        )
    if errors:
        raise _invalid(errors)
