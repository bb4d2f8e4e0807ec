"""Small rewrites of plain JSON-like data, shared by compose code, the models and the pipeline."""

from __future__ import annotations

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
