"""``$VAR`` and ``${VAR...}`` in a compose document, from the ``.env`` mapping only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._limits import MAX_INTERPOLATION_DEPTH
from ..errors import FieldError, Loc
from ._errors import Problem, invalid
from .normalize import nesting_problem

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)


def interpolate(system: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Substitute variables in every string value of ``system``, using only ``env``.

    Docker compose syntax: ``$VAR``, ``${VAR}``, ``${VAR:-default}`` (unset or empty),
    ``${VAR-default}`` (unset), ``${VAR:+alt}`` and ``${VAR+alt}``, ``${VAR:?message}`` and
    ``${VAR?message}`` (an error when missing) and ``$$`` for a literal ``$``. A variable missing
    from ``env`` is left as written, so the server sees it. The process environment is never
    read. Keys are not interpolated. Returns a new dict. ``${...}`` nested more than
    :data:`~tycho_client._limits.MAX_INTERPOLATION_DEPTH` levels deep, or data nested more than
    ``MAX_NESTING`` levels, is a :class:`~tycho_client.errors.TychoComposeError`.
    """
    deep = nesting_problem(system, ("system",))
    if deep is not None:
        raise invalid([deep])
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
            return _substitute(value, env, 0)
        except Problem as problem:
            raise invalid([FieldError(loc, problem.message)]) from None
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


def _substitute(text: str, env: Mapping[str, str], depth: int) -> str:
    """``text`` with its variables substituted; ``depth``: how many ``${...:-`` it is inside."""
    if depth > MAX_INTERPOLATION_DEPTH:
        # Each level is a Python call: bounded here, long before the interpreter's own limit.
        raise Problem(
            f"variables nested more than {MAX_INTERPOLATION_DEPTH} levels deep in ${{...}}"
        )
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
            out.append(_expand(body, env, depth) if body else written)
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


def _expand(body: re.Match[str], env: Mapping[str, str], depth: int) -> str:
    name, operator, argument = body.group(1), body.group(2), body.group(3)
    value = env.get(name)
    if operator is None:
        return value if value is not None else body.string[body.start() - 2 : body.end() + 1]
    # With ':' an empty value counts as missing; without, only an unset one does.
    present = bool(value) if operator.startswith(":") else value is not None
    kind = operator[-1]
    if kind == "-":
        return value if present and value is not None else _substitute(argument, env, depth + 1)
    if kind == "+":
        return _substitute(argument, env, depth + 1) if present else ""
    if present and value is not None:
        return value
    detail = f": {argument}" if argument else ""
    raise Problem(f"required variable {name} is not set (define it in .env){detail}")
