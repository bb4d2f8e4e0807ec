"""``$VAR`` and ``${VAR...}`` in a compose document, from the ``.env`` mapping only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from .._limits import MAX_INTERPOLATION_DEPTH
from ..errors import FieldError, Loc
from ._errors import Problem, invalid
from .normalize import nesting_problem

__all__ = ["Interpolated", "interpolate", "interpolate_collecting"]

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)


class Interpolated(NamedTuple):
    """What :func:`interpolate_collecting` found."""

    system: dict[str, Any]
    """The document, each variable substituted (a string with a problem is left as written)."""
    errors: list[FieldError]
    """``${VAR:?message}`` of a variable not set, nesting too deep."""
    unset: dict[str, list[Loc]]
    """Each variable used without a default that ``env`` does not set, with where: it is left
    as written (``${VAR}``), and docker compose would warn."""


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
    interpolated = interpolate_collecting(system, env)
    if interpolated.errors:
        raise invalid(interpolated.errors)
    return interpolated.system


def interpolate_collecting(system: Mapping[str, Any], env: Mapping[str, str]) -> Interpolated:
    """:func:`interpolate`, returning every problem and every unset variable with the result."""
    deep = nesting_problem(system, ("system",))
    if deep is not None:
        return Interpolated(dict(system), [deep], {})
    substitution = _Substitution(env)
    result = substitution.value(system, ("system",))
    assert isinstance(result, dict)
    return Interpolated(result, substitution.errors, substitution.unset)


class _Substitution:
    """One document's substitution: the settings, and what it found on the way."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.errors: list[FieldError] = []
        self.unset: dict[str, list[Loc]] = {}
        self._unset_here: list[str] = []

    def value(self, value: Any, loc: Loc) -> Any:
        if isinstance(value, Mapping):
            return {key: self.value(item, (*loc, key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item, (*loc, i)) for i, item in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        self._unset_here = []
        try:
            substituted = self.text(value, 0)
        except Problem as problem:
            self.errors.append(FieldError(loc, problem.message))
            return value
        for name in dict.fromkeys(self._unset_here):
            self.unset.setdefault(name, []).append(loc)
        return substituted

    def text(self, text: str, depth: int) -> str:
        """``text`` substituted; ``depth``: how many ``${...:-`` it is inside."""
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
                out.append(self.expand(body, depth) if body else written)
                index = close + 1
            else:
                name = _VARIABLE_NAME.match(text, dollar + 1)
                if name:
                    out.append(self.variable(name.group(), text[dollar : name.end()]))
                    index = name.end()
                else:
                    out.append("$")
                    index = dollar + 1
        return "".join(out)

    def variable(self, name: str, written: str) -> str:
        value = self.env.get(name)
        if value is None:
            self._unset_here.append(name)
            return written
        return value

    def expand(self, body: re.Match[str], depth: int) -> str:
        name, operator, argument = body.group(1), body.group(2), body.group(3)
        value = self.env.get(name)
        if operator is None:
            return self.variable(name, body.string[body.start() - 2 : body.end() + 1])
        # With ':' an empty value counts as missing; without, only an unset one does.
        present = bool(value) if operator.startswith(":") else value is not None
        kind = operator[-1]
        if kind == "-":
            return value if present and value is not None else self.text(argument, depth + 1)
        if kind == "+":
            return self.text(argument, depth + 1) if present else ""
        if present and value is not None:
            return value
        detail = f": {argument}" if argument else ""
        raise Problem(f"required variable {name} is not set (define it in .env){detail}")


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
