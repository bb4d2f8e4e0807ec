"""What a rule is, the good request its witnesses differ from, and readers of unchecked data."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .._data import mapping
from ..errors import Loc

__all__ = [
    "GOOD",
    "Broken",
    "Check",
    "Registrar",
    "Rule",
    "breaking",
    "items",
    "principal_object",
    "services",
]


class Broken(NamedTuple):
    """Where a start request breaks a rule; ``message`` when it says more than the requirement."""

    loc: Loc
    message: str | None = None


Check = Callable[[Mapping[str, Any]], Iterable[Broken]]
"""A rule's check: the JSON form of a start request (or ``{"system": ...}`` alone) -> where it
breaks the rule. It must take any data: it runs before the models' own checks."""


@dataclass(frozen=True)
class Rule:
    """One rule real Tycho servers need that the generated models cannot check."""

    name: str
    """Named in the fake's error envelopes and in each problem's ``FieldError.type``."""
    requirement: str
    """What servers need, in plain words: the message of a problem the check does not word."""
    check: Check
    witnesses: Mapping[str, Mapping[str, Any]]
    """What each shows -> a start request that breaks this rule and no other (:data:`GOOD` with
    one change); the real-server suite sends each to tycho-api."""
    documented: bool
    """The document says it too: its JSON Schema rejects every witness."""
    servers_refuse: bool = True
    """Real servers answer an error to every witness; ``False``: they accept them and run
    something other than what was asked."""
    compose: bool = False
    """It can be checked on a compose document alone, and is, before the models' own checks."""


class Registrar:
    """The rules of one module, in the order they are written: ``@rule(...)`` above a check
    makes it a :class:`Rule` (the arguments are its fields)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def __call__(
        self,
        name: str,
        requirement: str,
        witnesses: Mapping[str, Mapping[str, Any]],
        *,
        documented: bool,
        servers_refuse: bool = True,
        compose: bool = False,
    ) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            made = Rule(name, requirement, check, witnesses, documented, servers_refuse, compose)
            self.rules.append(made)
            return check

        return register


GOOD: Mapping[str, Any] = {
    "name": "good",
    "system": {
        "version": "3",
        "services": {
            "web": {
                "image": "nginx:1.25",
                "ports": ["8080:80"],
                "env": ["A=1"],
                "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "256M"}}},
            }
        },
    },
    "env": {"LOCAL": "x"},
    "principal": '{"username": "renci"}',
    "serviceaccount": "default",
    "services": {"web": {"port": "80", "clients": []}},
}
"""A start request real servers start and no rule refuses; every witness differs from it."""


def breaking(
    *,
    web: Mapping[str, Any] | None = None,
    system: Mapping[str, Any] | None = None,
    added: Mapping[str, Any] | None = None,
    **request: Any,
) -> dict[str, Any]:
    """:data:`GOOD` with keys of its compose service ``web``, of its compose document
    (``system``), compose services ``added`` and keys of the request replaced."""
    body: dict[str, Any] = copy.deepcopy(dict(GOOD))
    body["system"]["services"]["web"].update(web or {})
    body["system"].update(system or {})
    body["system"]["services"].update(added or {})
    body.update(copy.deepcopy(request))
    return body


def services(request: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The compose services of a request that are mappings, by name."""
    for name, service in mapping(mapping(request.get("system")).get("services")).items():
        if isinstance(name, str) and isinstance(service, Mapping):
            yield name, service


def items(service: Mapping[str, Any], key: str) -> list[Any]:
    """The list under ``key`` (``ports``, ``env`` ...), or none."""
    value = service.get(key)
    return value if isinstance(value, list) else []


def principal_object(request: Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON object inside the request's ``principal`` string, or an empty one."""
    text = request.get("principal")
    try:
        return mapping(json.loads(text)) if isinstance(text, str) else {}
    except (ValueError, RecursionError):
        return {}
