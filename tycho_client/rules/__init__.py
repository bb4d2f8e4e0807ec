"""Every rule real Tycho servers need that the generated models cannot check, in one registry.

Each :class:`Rule` is one named check over the JSON form of a start request, with the
requirement in plain words and witnesses: requests that break it and no other rule. Its users:

- the models: :class:`~tycho_client.models.ComposeSystem` checks the ``compose`` rules on the
  normalized compose document, :class:`~tycho_client.models.StartRequest` all of them on the
  request (so ``tycho validate`` and every client call do too);
- the fake Tycho: a request the document accepts that breaks one of :data:`SERVER_RULES` gets an
  error envelope naming the rule, as real servers fail on it;
- the real-server suite (``tests/realserver/test_tightenings.py``): each witness is refused by
  the client naming its field, is rejected by the document exactly when the rule is
  ``documented``, and gets an error from tycho-api exactly when ``servers_refuse``.

The modules: :mod:`.compose` (what servers cannot run in a compose document), :mod:`.keys`
(what servers do with each compose key: the keys they ignore that would change what runs),
:mod:`.document`
(what the document says with keywords the generated models leave out), :mod:`.server` (what
servers, mostly through Kubernetes, refuse that JSON Schema cannot say).

How to add a rule (one file, two if the document can say it too): in the module of its kind,
write its check, a generator of :class:`Broken` that takes any JSON data (the fake and
ComposeSystem run it unvalidated), and put ``@rule(name, requirement, witnesses,
documented=...)`` above it, with one witness made by :func:`breaking` (:data:`GOOD` with one
change) for each way to break it. Mark it ``servers_refuse=False`` if real servers accept the
witnesses and run something else, ``compose=True`` if a compose document alone can break it.
If JSON Schema can say it, say it in ``openapi/tycho.yaml`` too and mark it ``documented``.
Nothing else changes: the models, the fake and the real-server suite read this registry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._data import mapping
from ..errors import FieldError, Loc
from . import compose, document, keys, server
from ._rule import GOOD, Broken, Check, Rule, breaking
from .compose import container_port_problem, env_item_problem
from .document import is_label_value, reads_as_non_string

__all__ = [
    "COMPOSE_RULES",
    "GOOD",
    "RULES",
    "SERVER_RULES",
    "Broken",
    "Check",
    "Rule",
    "breaking",
    "container_port_problem",
    "env_item_problem",
    "is_label_value",
    "problems",
    "reads_as_non_string",
]

RULES: tuple[Rule, ...] = (*compose.RULES, *keys.RULES, *document.RULES, *server.RULES)
"""The registry: every rule, in the order their problems are listed within a service."""
COMPOSE_RULES = tuple(rule for rule in RULES if rule.compose)
"""The rules a compose document alone can break."""
SERVER_RULES = tuple(rule for rule in RULES if rule.servers_refuse and not rule.documented)
"""The rules real servers enforce that the document cannot say: a request the document
accepts and one of these refuses fails on real servers."""


def _position(services: Sequence[Any], loc: Loc) -> tuple[int, int]:
    """Problems of the request itself first, then each service's in document order, then the
    compose document's."""
    if loc[:2] != ("system", "services"):
        return (0, 0) if loc[:1] != ("system",) else (2, 0)
    return (1, services.index(loc[2])) if loc[2:] and loc[2] in services else (2, 0)


def problems(
    request: Mapping[str, Any], rules: Sequence[Rule] = RULES, *, system_checked: bool = False
) -> list[FieldError]:
    """Where the start request (its JSON form) breaks ``rules``, each problem's ``type`` the
    rule's name and its message what the rule's check says, or else its requirement.

    ``system_checked``: the compose rules passed on the request's ``system`` already (as
    :class:`~tycho_client.models.ComposeSystem` checks them): they read only the rest.
    """
    rest = {**request, "system": {}} if system_checked else request
    found = [
        FieldError(broken.loc, broken.message or rule.requirement, rule.name)
        for rule in rules
        for broken in rule.check(rest if rule.compose else request)
    ]
    services = list(mapping(mapping(request.get("system")).get("services")))
    return sorted(found, key=lambda problem: _position(services, problem.loc))
