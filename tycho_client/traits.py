"""What a Tycho server does, learned from its answers: :class:`ServerTraits`.

No tycho-api release reports its version, so :meth:`~tycho_client.TychoClient.server_traits`
asks four questions whose answers tell the releases of :mod:`tycho_client.releases` apart, none of
which changes anything on the server:

1. ``POST /system/status {"name": null}``: every release refuses it in its own schema check,
   1.12.0 - 1.13.0 with :data:`~tycho_client.releases.COMPARISON_ERROR`, later ones with
   :data:`~tycho_client.releases.ABORT_ERROR` (the *error format*).
2. ``POST /system/status {}``: a status entry with ``is_ready`` (1.16.1 and later) or without
   (*readiness* not reported). A server running nothing says nothing here.
3. ``POST /system/modify {}``: the HTML 404 of a server that does not route *modify* (every
   release), or an answer.
4. ``POST /system/start`` with a body every release refuses while reading it, before anything
   reaches Kubernetes: one service whose limits have ``ephemeralStorage`` and no ``gpus``, and a
   host-path volume. 1.12.0 - 1.13.0 refuse the ``ephemeralStorage``, 1.14.0 - 1.17.1 the missing
   integer ``gpus`` (the *GPU assertion*), 1.17.2 and later the volume. (A server that started it
   anyway would be no known release; the probe deletes what it started at once.)

Each answer keeps the releases that answer so; a behaviour no answer showed is still known when
all of those releases agree on it (its evidence says so). *Ambassador mode* belongs to a
deployment, not a release: a start answer shows it (``port-1`` null behind the ambassador, a node
port without it), and the client remembers it from its own starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from . import _publish
from ._conversation import Budget, Conversation, Exchange, Reply
from ._knowledge import ServerKnowledge
from .releases import (
    ABORT_ERROR,
    COMPARISON_ERROR,
    FEATURES,
    GPU_ASSERTION_ERROR,
    RELEASES,
    Release,
    describe,
)

__all__ = ["PROBE_START", "ErrorFormat", "ServerTraits", "Trait", "ambassador", "infer", "probes"]

ValueT = TypeVar("ValueT")
ErrorFormat = Literal["abort", "comparison"]
"""How a server words a body its own schema rejects: ``abort`` (``name 'abort' is not
defined``, 1.14.0 and later) or ``comparison`` (``'>=' not supported ...``, 1.12.0 - 1.13.0)."""

EPHEMERAL_REFUSED = "Limits.__init__() got an unexpected keyword argument 'ephemeralStorage'"
_VOLUME_REFUSED = "Wrong Volume definition"
PROBE_START: dict[str, Any] = {
    "name": "tycho-probe",
    "system": {
        "version": "3",
        "services": {
            "probe": {
                "image": "busybox:1.36",
                "ports": ["8080"],
                "volumes": ["/tycho-probe:/probe"],
                "deploy": {
                    "resources": {
                        "limits": {"cpus": "0.01", "memory": "16M", "ephemeralStorage": "64M"}
                    }
                },
            }
        },
    },
    "env": {},
    "principal": '{"username": "tycho-probe"}',
    "serviceaccount": "default",
    "services": {},
}
"""The start every known release refuses while reading it (question 4)."""


class Trait(BaseModel, Generic[ValueT]):
    """One behaviour of a server: what it does, which releases do so, and how it is known."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    value: ValueT | None = None
    """What the server does; ``None``: not known (``evidence`` says why)."""
    releases: str = ""
    """The known releases that behave so, e.g. ``1.14.0 - 1.17.1``."""
    evidence: str = ""
    """What was asked and answered, or from what it is inferred, or why it is not known."""


class ServerTraits(BaseModel):
    """What a Tycho server does, as far as its answers show, and the releases it behaves like."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    url: str
    """The server asked (its password masked)."""
    error_format: Trait[ErrorFormat]
    """The text of a body its own schema rejects (see :data:`ErrorFormat`)."""
    gpu_assertion: Trait[bool]
    """Starts need an integer ``gpus`` in every compose service (1.14.0 - 1.17.1); the client
    then adds it (``0`` where none is asked for)."""
    ephemeral_storage: Trait[bool]
    """``ephemeralStorage`` is a resource it knows (1.14.0 and later)."""
    reports_readiness: Trait[bool]
    """Status entries carry ``is_ready`` (1.16.1 and later); without it ``wait_ready`` raises
    :class:`~tycho_client.errors.TychoReadinessUnknownError` and ``tycho status`` shows ``?``."""
    modify_routed: Trait[bool]
    """``/system/modify`` is routed (no release does)."""
    ambassador_mode: Trait[bool]
    """Systems are fronted by the ambassador proxy (a property of the deployment, shown by start
    answers: ``port-1`` null)."""
    releases: tuple[str, ...]
    """The known releases that answer every question as this server did (none: it behaves like
    no known release)."""
    behaves_like: str
    """Those releases as ranges: ``1.14.0 - 1.15.0``, ``1.17.2 and later``."""

    def supports(self, feature: str) -> bool | None:
        """Whether every release it behaves like has ``feature`` (a name of
        :data:`~tycho_client.releases.FEATURES`): ``True``, ``False``, or ``None`` when they
        differ or none is known."""
        has = FEATURES[feature].has
        found = {has(item) for item in RELEASES if item.version in self.releases}
        return found.pop() if len(found) == 1 else None


# ----------------------------------------------------------------------------- inference

Observed = dict[str, tuple[Any, str]]
"""Trait name -> (value or None, evidence), for what the answers showed directly."""

_BEHAVIOURS: dict[str, Callable[[Release], Any]] = {
    "error_format": lambda item: "comparison" if item.schema_error == COMPARISON_ERROR else "abort",
    "gpu_assertion": lambda item: item.gpu_assertion,
    "ephemeral_storage": lambda item: item.ephemeral_storage,
    "reports_readiness": lambda item: item.reports_readiness,
    "modify_routed": lambda item: False,
}


def _said(exchange: Exchange, reply: Reply) -> str:
    return f"{exchange.label} answered {reply.describe()}"


class _Inference:
    """The releases consistent with the answers so far, and what the answers showed."""

    def __init__(self) -> None:
        self.candidates: list[Release] = list(RELEASES)
        self.observed: Observed = {}
        self.unknown_why: dict[str, str] = {}

    def keep(self, predicate: Callable[[Release], bool]) -> None:
        self.candidates = [item for item in self.candidates if predicate(item)]

    def saw(self, trait: str, value: Any, evidence: str) -> None:
        self.observed[trait] = (value, evidence)
        if value is None:
            self.candidates = []  # an answer no known release gives
        else:
            behaviour = _BEHAVIOURS[trait]
            self.keep(lambda item: behaviour(item) == value)

    def schema(self, exchange: Exchange, reply: Reply) -> None:
        text = (reply.error_text() or "").strip()
        value = {COMPARISON_ERROR: "comparison", ABORT_ERROR: "abort"}.get(text)
        said = _said(exchange, reply)
        self.saw("error_format", value, said if value else f"{said}: no known release says so")

    def status(self, exchange: Exchange, reply: Reply) -> None:
        data = reply.json()
        entries = data.get("result") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.unknown_why["reports_readiness"] = f"{_said(exchange, reply)}: no status entries"
            return
        if not entries:
            why = f"{exchange.label} listed no system, and only an entry shows it"
            self.unknown_why.setdefault("reports_readiness", why)
            return
        has = {"is_ready" in entry for entry in entries}
        said = f"{exchange.label} listed {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        if has == {True}:
            self.saw("reports_readiness", True, f"{said}, each with is_ready")
        elif has == {False}:
            self.saw("reports_readiness", False, f"{said}, none with is_ready")
        else:
            self.saw("reports_readiness", None, f"{said}, some with is_ready: no release does so")

    def modify(self, exchange: Exchange, reply: Reply) -> None:
        said = _said(exchange, reply)
        if reply.status_code == 404:
            self.saw("modify_routed", False, said)
        elif reply.status_code == 200 and reply.json() is not None:
            self.saw(
                "modify_routed", None, f"{said}: it routes modify, which no known release does"
            )
        else:
            self.unknown_why["modify_routed"] = said

    def start(self, exchange: Exchange, reply: Reply) -> None:
        text = (reply.error_text() or "").strip()
        said = _said(exchange, reply)
        if text == GPU_ASSERTION_ERROR:
            self.saw("gpu_assertion", True, said)
            self.saw("ephemeral_storage", True, f"{said} (after reading ephemeralStorage)")
        elif text == EPHEMERAL_REFUSED:
            self.saw("ephemeral_storage", False, said)
        elif text.startswith(_VOLUME_REFUSED):
            self.saw("gpu_assertion", False, f"{said} (after reading the limits without gpus)")
            self.saw("ephemeral_storage", True, f"{said} (after reading ephemeralStorage)")
        else:
            self.saw("gpu_assertion", None, f"{said}: no known release answers so")

    def trait(self, name: str) -> Trait[Any]:
        behaviour = _BEHAVIOURS[name]
        if name in self.observed:
            value, evidence = self.observed[name]
        else:
            agreed = {behaviour(item) for item in self.candidates}
            if len(agreed) == 1:
                value = agreed.pop()
                evidence = f"inferred: every release it behaves like ({describe(self.candidates)})"
            else:
                value = None
                evidence = self.unknown_why.get(
                    name,
                    "no answer showed it"
                    if self.candidates
                    else "it behaves like no known release, and no answer showed it",
                )
        same = describe(item for item in RELEASES if behaviour(item) == value)
        return Trait(value=value, releases=same if value is not None else "", evidence=evidence)


def infer(
    url: str,
    answers: Sequence[tuple[str, Exchange, Reply]],
    ambassador: Trait[bool] | None = None,
) -> ServerTraits:
    """The traits shown by ``answers`` (each ``(question, exchange, reply)``, the question one of
    ``schema``, ``status``, ``modify``, ``start``; others are left out)."""
    inference = _Inference()
    readers = {
        "schema": inference.schema,
        "status": inference.status,
        "modify": inference.modify,
        "start": inference.start,
    }
    for question, exchange, reply in answers:
        if question in readers:  # a delete shows nothing of these
            readers[question](exchange, reply)
    return ServerTraits(
        url=url,
        error_format=inference.trait("error_format"),
        gpu_assertion=inference.trait("gpu_assertion"),
        ephemeral_storage=inference.trait("ephemeral_storage"),
        reports_readiness=inference.trait("reports_readiness"),
        modify_routed=inference.trait("modify_routed"),
        ambassador_mode=ambassador
        or Trait(
            evidence="shown by a start that exposes a service (port-1 null behind the "
            "ambassador); this client has seen none"
        ),
        releases=tuple(item.version for item in inference.candidates),
        behaves_like=describe(inference.candidates),
    )


def ambassador(knowledge: ServerKnowledge) -> Trait[bool] | None:
    """Ambassador mode, as the client's own start answers showed it (if any did)."""
    if knowledge.ambassador_mode is None:
        return None
    return Trait(
        value=knowledge.ambassador_mode,
        releases=describe(RELEASES),
        evidence=knowledge.ambassador_evidence,
    )


def probes(budget: Budget) -> Conversation[list[tuple[str, Exchange, Reply]]]:
    """Ask the four questions; the answers, each with its question and exchange."""
    answers: list[tuple[str, Exchange, Reply]] = []
    for question, operation, body in (
        ("schema", "status", {"name": None}),
        ("status", "status", {}),
        ("modify", "modify", {}),
        ("start", "start", PROBE_START),
    ):
        exchange = budget.exchange(operation, body)
        reply = yield exchange
        answers.append((question, exchange, reply))
        if question == "start":
            yield from _undo_start(budget, reply)
    return answers


def _undo_start(budget: Budget, reply: Reply) -> Conversation[None]:
    """Delete what a start probe started (only a server unlike any known release starts it)."""
    data = reply.json()
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("status") == "success" and isinstance(result, dict):
        sid = result.get("sid")
        if isinstance(sid, str):
            yield budget.exchange("delete", {"name": sid})


def probe_traits(
    url: str, knowledge: ServerKnowledge, seconds: float | None, per_call: float | None
) -> Conversation[ServerTraits]:
    """The conversation of :meth:`~tycho_client.TychoClient.server_traits`."""
    answers = yield from probes(Budget(seconds, per_call))
    traits = infer(url, answers, ambassador(knowledge))
    knowledge.remember(traits.gpu_assertion.value)
    return traits


_publish(__name__, globals())
