"""Docker-compose documents in the form real Tycho servers read.

The pipeline, each step a pure function over plain data, each in its module::

    load_compose(text)          YAML text -> dict (safe, bounded, multi-document)     _yaml
    interpolate(system, env)    $VAR, ${VAR:-default} from the .env mapping only      interpolation
    normalize_compose(system)   compose forms -> the forms servers read (idempotent)  normalize
    validate_for_tycho(system)  what servers accept but cannot run: compose rules     ..rules
    derive_services(system)     the start request's ``services``                      services

Each problem becomes a :class:`~tycho_client.errors.TychoComposeError` whose ``errors`` name the
field (``system.services.web.ports[0]``).

As in docker compose (and unlike PyYAML's YAML 1.1 defaults), ``22:22`` stays the string
``"22:22"`` (not the base-60 integer 1342), ``2024-01-01`` a string (not a date), and ``yes``,
``no``, ``on`` and ``off`` strings (only ``true`` and ``false`` are booleans).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._limits import MAX_EXPANDED_NODES, MAX_SERVICES
from ..rules import COMPOSE_RULES, env_item_problem, problems
from ._errors import invalid
from .interpolation import Interpolated, interpolate, interpolate_collecting
from .normalize import normalize_collecting, normalize_compose
from .services import container_port, derive_normalized_services, derive_services

__all__ = [
    "MAX_EXPANDED_NODES",
    "MAX_SERVICES",
    "Interpolated",
    "container_port",
    "derive_normalized_services",
    "derive_services",
    "env_item_problem",
    "interpolate",
    "interpolate_collecting",
    "load_compose",
    "normalize_collecting",
    "normalize_compose",
    "validate_for_tycho",
    "validate_normalized",
]


def load_compose(text: str, *, source: str | None = None) -> dict[str, Any]:
    """Load compose YAML ``text`` into plain data (dict, list, str, int, float, bool, None).

    Several YAML documents (``---``) are merged in order; a top-level key may appear in only one.
    The result must have a non-empty ``services`` mapping. Aliases may not expand to more than
    :data:`MAX_EXPANDED_NODES` nodes. ``source`` (a file name) appears in error messages.
    Raises :class:`~tycho_client.errors.TychoComposeError`, with the line where known.
    """
    # PyYAML is imported only by the commands that read files, not by `tycho status`.
    from ._yaml import load_yaml_documents

    return load_yaml_documents(text, source=source)


def validate_for_tycho(system: Mapping[str, Any]) -> None:
    """Reject a compose document that real Tycho servers accept but cannot run.

    Normalizes first (see :func:`normalize_compose`), then checks the compose rules of
    :mod:`tycho_client.rules`: at least one service has ``ports`` (servers otherwise fail with
    ``argument of type 'int' is not iterable``, because their fallback port is an integer);
    every container port is a literal number (an undefined ``$VAR`` is named); every volume is
    ``pvc://<claim>[/<subpath>]:<path>``; service names fit Kubernetes; ``env`` items survive
    the server's ``split('=')``; resources use only the keys the server knows. Raises
    :class:`~tycho_client.errors.TychoComposeError` listing every problem.
    """
    validate_normalized(normalize_compose(system))


def validate_normalized(system: Mapping[str, Any]) -> None:
    """:func:`validate_for_tycho` of a document that :func:`normalize_compose` already returned."""
    errors = problems({"system": system}, COMPOSE_RULES)
    if errors:
        raise invalid(errors)
