"""Compose forms -> the forms real Tycho servers read (ports as strings, environment lists ...).

Real servers (``tycho-api``) read the document with few checks and fail in obscure ways: an
integer ``ports`` entry fails with ``argument of type 'int' is not iterable``, an ``environment``
mapping with ``unsupported operand type(s) for +: 'dict' and 'list'``. Each such form is rewritten
here, or named in a :class:`~tycho_client.errors.TychoComposeError`.
"""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .._data import number_as_string, split_outside_variables, unshare
from .._limits import MAX_NESTING, MAX_NUMBER_DIGITS, MAX_SERVICES
from ..errors import FieldError, Loc, TychoComposeWarning, format_loc
from ..rules.keys import unknown_keys
from ._errors import Problem, invalid
from .extends import apply_profiles, resolve_extends

_PORT_RANGE = re.compile(r"[0-9]+-[0-9]+")
_NULL_MEANS_ABSENT = ("ports", "expose", "environment", "env", "depends_on", "volumes", "deploy")


def _without_tcp(text: str) -> str:
    parts = split_outside_variables(text.strip(), "/")
    if len(parts) == 1:
        return parts[0]
    protocol = parts[-1].strip().lower()
    if len(parts) == 2 and protocol == "tcp":
        return parts[0].strip()
    if len(parts) == 2 and protocol in ("udp", "sctp"):
        raise Problem(f"{protocol.upper()} ports are not supported: Tycho publishes TCP only")
    raise Problem("expected a port with an optional /tcp suffix")


def _long_syntax_port(entry: Mapping[str, Any]) -> str:
    target = entry.get("target")
    if isinstance(target, bool) or not isinstance(target, (int, str)) or target == "":
        raise Problem("the long port syntax needs `target`, the container port")
    protocol = entry.get("protocol", "tcp")
    published = entry.get("published")
    text = f"{target}" if published in (None, "") else f"{published}:{target}"
    return f"{text}/{protocol}"


def normalize_port(entry: Any) -> str:
    """One ``ports`` entry as ``"container"`` or ``"host:container"`` (servers read field 1)."""
    if isinstance(entry, bool):
        raise Problem('must be a port such as "8080:80"')
    if isinstance(entry, int):
        return str(entry)
    if isinstance(entry, Mapping):
        entry = _long_syntax_port(entry)
    if not isinstance(entry, str):
        raise Problem('must be a port such as "8080:80"')
    fields = split_outside_variables(_without_tcp(entry), ":")
    if len(fields) > 3:
        raise Problem("expected [ip:]host:container")
    if any(_PORT_RANGE.fullmatch(field.strip()) for field in fields):
        raise Problem("port ranges are not supported: Tycho maps single ports")
    container = fields[-1].strip()
    host = fields[-2].strip() if len(fields) > 1 else ""
    if not container:
        raise Problem("has no container port")
    # The IP is dropped: servers take the text after the first ':' as the container port.
    return f"{host}:{container}" if host else container


def _normalize_expose(entry: Any) -> str:
    if isinstance(entry, bool) or not isinstance(entry, (int, str)):
        raise Problem('must be a container port such as "8080"')
    text = _without_tcp(str(entry))
    if ":" in text:
        raise Problem("`expose` takes a container port only; use `ports` for host:container")
    if _PORT_RANGE.fullmatch(text):
        raise Problem("port ranges are not supported: Tycho maps single ports")
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
        except Problem as problem:
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


def _words(value: Any, loc: Loc, errors: list[FieldError]) -> list[Any] | None:
    """A command line as its words: a string split as docker compose splits it, into shell
    words (servers split on blanks, which would keep quotes inside the words)."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return None
    try:
        return shlex.split(value)
    except ValueError:
        errors.append(
            FieldError(loc, "a quote is not closed (or a '\\' ends it): close it, or write a list")
        )
        return None


def _command_line(out: dict[str, Any], loc: Loc, errors: list[FieldError]) -> None:
    """``entrypoint`` as docker runs it: a string split into words, and ``command`` appended to
    it (docker runs the entrypoint with the command as its arguments; servers ignore
    ``command``). A ``command`` without an entrypoint is left for the rules to refuse."""
    if out.get("command") in (None, "", []):
        out.pop("command", None)
    if out.get("entrypoint") is None:
        out.pop("entrypoint", None)
    if "entrypoint" not in out:
        return
    words = _words(out["entrypoint"], (*loc, "entrypoint"), errors)
    if words is None:
        return
    if "command" in out:
        arguments = _words(out["command"], (*loc, "command"), errors)
        if arguments is None:
            return
        out["entrypoint"] = [*words, *arguments]
        del out["command"]
    elif isinstance(out["entrypoint"], str) and words != out["entrypoint"].split():
        # Quotes or backslashes: servers' split on blanks would keep them inside the words.
        out["entrypoint"] = words


def _without_nulls(value: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``value`` without those of ``keys`` that are ``null``: servers iterate or dereference
    them without a default, so ``null`` must mean "absent"."""
    return {key: item for key, item in value.items() if item is not None or key not in keys}


def _normalize_deploy(value: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(FieldError(loc, "must be a mapping"))
        return value
    deploy = _without_nulls(value, ("resources",))
    resources = deploy.get("resources", {})
    if not isinstance(resources, Mapping):
        errors.append(FieldError((*loc, "resources"), "must be a mapping"))
        return deploy
    if "resources" in deploy:
        resources = _without_nulls(resources, ("limits", "reservations"))
        for kind in ("limits", "reservations"):
            if isinstance(resources.get(kind), Mapping):
                resources[kind] = {
                    k: gpu_count(a) if k == "gpus" else number_as_string(a)
                    for k, a in resources[kind].items()
                }
        deploy["resources"] = resources
    return deploy


def gpu_count(value: Any) -> Any:
    """A GPU count as the JSON integer every release reads (``"1"`` -> ``1``, ``1.0`` -> ``1``):
    releases 1.14.0 - 1.17.1 refuse any other form. Anything else is left for a validator to
    name by its field path."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip()
        return int(digits) if len(digits) <= 6 else value
    return value


def _normalize_service(service: Any, loc: Loc, errors: list[FieldError]) -> Any:
    if not isinstance(service, Mapping):
        errors.append(FieldError(loc, "must be a mapping with at least an `image`"))
        return service
    out = _without_nulls(service, _NULL_MEANS_ABSENT)
    image = out.get("image")
    if image is None and "build" in out:
        errors.append(
            FieldError(
                (*loc, "image"),
                "is required: Tycho builds no images (`build` is ignored); build and push the "
                "image, then name it here",
            )
        )
    elif image is None:
        errors.append(FieldError((*loc, "image"), "is required: every service needs an image"))
    elif not isinstance(image, str) or not image.strip():
        errors.append(FieldError((*loc, "image"), "must be a non-empty string"))
    if "ports" in out:
        out["ports"] = _normalize_items(out["ports"], (*loc, "ports"), errors, normalize_port)
    if "expose" in out:
        out["expose"] = _normalize_items(out["expose"], (*loc, "expose"), errors, _normalize_expose)
    for key in ("environment", "env"):
        if key in out:
            out[key] = _normalize_environment(out[key], (*loc, key), errors)
    for key in ("entrypoint", "command"):
        if key in out:
            out[key] = _normalize_command(out[key], (*loc, key), errors)
    _command_line(out, loc, errors)
    if "deploy" in out:
        out["deploy"] = _normalize_deploy(out["deploy"], (*loc, "deploy"), errors)
    if isinstance(out.get("depends_on"), Mapping):
        out["depends_on"] = list(out["depends_on"])
    _both_rewrite_forms(out)
    if "volumes" in out:
        if isinstance(out["volumes"], list):
            # Servers split the text as is: " pvc://..." would not start with "pvc".
            out["volumes"] = [v.strip() if isinstance(v, str) else v for v in out["volumes"]]
        else:
            errors.append(FieldError((*loc, "volumes"), "must be a list"))
    return out


def _both_rewrite_forms(service: dict[str, Any]) -> None:
    """A proxy rewrite asked for in one form is sent in both: 1.12.0 - 1.16.1 read only
    ``proxy_rewrite_rule``, 1.17.1 - 1.17.2 only ``proxy_rewrite``, later releases either."""
    rewrite = service.get("proxy_rewrite")
    if service.get("proxy_rewrite_rule") is True and "proxy_rewrite" not in service:
        service["proxy_rewrite"] = {"enabled": True}
    elif isinstance(rewrite, Mapping) and rewrite.get("enabled") is True:
        service.setdefault("proxy_rewrite_rule", True)


# An int this many bits long has more than MAX_NUMBER_DIGITS digits (checked without printing it).
_MAX_NUMBER_BITS = int(MAX_NUMBER_DIGITS * 3.33)


def nesting_problem(value: Any, loc: Loc) -> FieldError | None:
    """Where ``value`` nests mappings and lists more than :data:`MAX_NESTING` levels deep, or
    None. Iterative: every recursive walk over compose data (interpolation, copies, the models)
    runs only after this check, so no input exhausts the stack."""
    pending: list[tuple[Any, Loc]] = [(value, loc)]
    while pending:
        item, where = pending.pop()
        if not isinstance(item, (Mapping, list, tuple)):
            continue
        if item and len(where) - len(loc) >= MAX_NESTING:
            # Named by its key in the service (a path 64 keys long helps nobody).
            return FieldError(where[: len(loc) + 3], f"nests more than {MAX_NESTING} levels deep")
        children = item.items() if isinstance(item, Mapping) else enumerate(item)
        pending.extend((child, (*where, key)) for key, child in children)
    return None


def _scalar_problems(value: Any, loc: Loc, errors: list[FieldError]) -> None:
    """What no server can take, anywhere in the document: NUL characters, non-finite numbers,
    integers too long to print. Iterative, so deep nesting cannot exhaust the stack."""
    deep = nesting_problem(value, loc)
    if deep is not None:
        errors.append(deep)
        return
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


def normalize_compose(
    system: Mapping[str, Any], *, profiles: Collection[str] = ()
) -> dict[str, Any]:
    """Rewrite a compose document into the forms real Tycho servers read; a new dict.

    First what docker compose resolves itself: ``extends`` (from a service of the same
    document) is merged as docker compose merges it; a service with ``profiles`` is left out
    unless one of them is in ``profiles`` (``profiles`` is then removed). Then per service:
    ``ports`` entries become strings ``"container"`` or ``"host:container"`` (an IP is dropped,
    ``/tcp`` stripped; UDP and ranges are errors; the long syntax is accepted); ``expose``
    entries become strings; ``environment``/``env`` mappings become ``"KEY=value"`` lists
    (``KEY`` alone for a null value); ``entrypoint`` becomes the list of its shell words, as
    docker compose splits it, where servers' split on blanks would differ (quotes), and
    ``command`` is appended to it (docker runs them so; servers ignore ``command``); numbers
    in ``deploy.resources.limits``/``reservations`` become strings, but ``gpus`` a JSON integer
    (:func:`gpu_count`); a ``depends_on`` mapping becomes the list of its keys; a proxy rewrite
    given in one form (``proxy_rewrite_rule: true`` or ``proxy_rewrite: {enabled: true}``) is
    given in the other too; ``null`` for ``ports``, ``expose``, ``environment``, ``env``,
    ``depends_on``, ``volumes`` or ``deploy`` removes the key; ``volumes`` strings are stripped
    of surrounding blanks. Other keys are left alone; one that is no compose key gets a
    :class:`~tycho_client.errors.TychoComposeWarning`.
    Idempotent. Raises :class:`~tycho_client.errors.TychoComposeError` listing every problem.
    """
    normalized, errors = normalize_collecting(system, profiles=profiles)
    if errors or normalized is None:
        raise invalid(errors)
    return normalized


def normalize_collecting(
    system: Mapping[str, Any], *, profiles: Collection[str] = ()
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """:func:`normalize_compose`, returning its problems with what it could normalize (the
    entries it could not are left as written), so that later checks can add theirs; None
    instead of the document when nothing could be (no services, a value no server can take)."""
    services = system.get("services")
    if not isinstance(services, Mapping) or not services:
        problem = "must be a non-empty mapping of services"
        return None, [FieldError(("system", "services"), problem)]
    if len(services) > MAX_SERVICES:
        problem = f"too many services ({len(services)}; a Tycho system has at most {MAX_SERVICES})"
        return None, [FieldError(("system", "services"), problem)]
    errors: list[FieldError] = []
    _scalar_problems(system, ("system",), errors)
    if errors:
        return None, errors
    result: dict[str, Any] = {key: unshare(value) for key, value in system.items()}
    named = {name: item for name, item in result["services"].items() if isinstance(name, str)}
    if len(named) < len(result["services"]):
        errors.append(FieldError(("system", "services"), "service names must be strings"))
    services = apply_profiles(resolve_extends(named, errors), profiles, errors)
    result["services"] = {
        name: _normalize_service(service, ("system", "services", name), errors)
        for name, service in services.items()
    }
    _warn_unknown_keys(result)
    return result, errors


def _warn_unknown_keys(system: Mapping[str, Any]) -> None:
    for loc, note in unknown_keys(system):
        path = format_loc(loc)
        message = f"{path}: not a compose key, so real Tycho servers ignore it"
        # stacklevel: the caller of the public function (up, start, normalize_compose ...).
        message += f" ({note})" if note else ""
        warnings.warn(TychoComposeWarning(message, path=path), stacklevel=4)
