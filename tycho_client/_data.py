"""Small helpers over plain JSON-like data and compose text, shared by compose code, the rules,
the models and the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def number_as_string(value: Any) -> Any:
    """A number as the string the wire wants (``8080`` -> ``"8080"``); anything else unchanged.

    Compose files and callers write numbers where Tycho reads strings (ports, cpus, ``.env``
    values); ``bool`` is left alone, so that a validator can reject it by its field path.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # an int of over 4,300 digits: left for a validator to name
            return value
    return value


def unshare(value: Any) -> Any:
    """A copy in which no dict or list appears twice (YAML aliases share objects)."""
    if isinstance(value, dict):
        return {key: unshare(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unshare(item) for item in value]
    return value


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one: for reading data not yet validated."""
    return value if isinstance(value, Mapping) else {}


def split_outside_variables(text: str, separator: str) -> list[str]:
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
