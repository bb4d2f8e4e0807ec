"""Check a live Tycho server against the document: :class:`VerificationReport`.

:meth:`~tycho_client.TychoClient.verify` (and ``tycho verify``) asks the questions of
:mod:`tycho_client.traits` and a ``delete {}``, and checks each promise of ``openapi/tycho.yaml``
the answers bear on: the routes, the envelopes, how failures look, the shape of status entries,
readiness, modify, how starts a server cannot run are refused, and which releases it behaves like.
None of that changes anything on the server.

With ``write=True`` it also starts a tiny probe system (one ``busybox`` container, no Kubernetes
Service, user ``tycho-verify``, a unique name ``tycho-verify-<8 hex>``), finds it by GUID in
status, deletes it and checks it is gone. Whatever happens meanwhile (a failure, the deadline,
Ctrl-C, a cancelled task), a ``finally`` deletes it, within its own bound of
:data:`CLEANUP_SECONDS`, looking it up by name when the start's answer never came; the
``cleanup`` check says whether that worked, and how to delete it by hand when it did not.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from . import _publish
from ._conversation import Budget, Conversation, Exchange, Reply, pause
from ._generated.operations import DELETE, MODIFY, START, STATUS, Operation
from ._knowledge import ServerKnowledge
from ._response import outcome_adapter
from .build import with_integer_gpus
from .errors import TychoTransportError, format_loc, quote_body
from .models import ErrorResponse, StartResponse, StatusResponse
from .releases import ABORT_ERROR, COMPARISON_ERROR
from .traits import ServerTraits, ambassador, infer, probes

__all__ = ["CLEANUP_SECONDS", "PROBE_USER", "Check", "Outcome", "VerificationReport"]

Outcome = Literal["pass", "fail", "unknown", "skipped"]
"""``fail`` makes a server not conformant; ``unknown``: the answers could not tell;
``skipped``: it needs ``write=True``."""

CLEANUP_SECONDS = 30.0
"""How long the clean-up of the probe system may take, whatever time the verification had left."""
PROBE_USER = "tycho-verify"
"""The user the probe system is started for (its status is looked up by it)."""
_GONE_SECONDS = 10.0
"""How long a deleted system may still be listed before that is a failure."""


class Check(BaseModel):
    """One promise of the document, and what the server's answers showed."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    name: str
    """A short name: ``routes``, ``envelopes``, ``errors``, ``status``, ``readiness``, ``modify``,
    ``refusals``, ``release``, and with ``write``: ``start``, ``listed``, ``delete``,
    ``cleanup``."""
    promise: str
    """What the document promises, in a sentence."""
    outcome: Outcome
    detail: str
    """What was asked and answered."""


class VerificationReport(BaseModel):
    """What :meth:`~tycho_client.TychoClient.verify` found."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    url: str
    conformant: bool
    """No check failed."""
    behaves_like: str
    """The known releases it answers like (see :class:`~tycho_client.traits.ServerTraits`)."""
    traits: ServerTraits
    checks: tuple[Check, ...]
    wrote: bool
    """A probe system was asked for (``write=True``)."""
    probe_system: str | None
    """The probe system's full name, once started."""
    seconds: float

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if check.outcome == "fail")


PROMISES: dict[str, str] = {
    "routes": "start, status and delete answer POST /system/<operation> with HTTP 200 and JSON",
    "envelopes": "every HTTP 200 answer is the operation's {status, message, result} envelope",
    "errors": "a failure is HTTP 200, status error, result.error equal to message; a body the "
    "server's own schema rejects and a missing key get the texts the document names",
    "status": "status answers a list of entries with the document's keys and types",
    "readiness": "status entries carry is_ready, or none does (readiness not reported)",
    "modify": "/system/modify answers the HTML 404 of a server that does not route it, or a "
    "modify answer",
    "refusals": "a start the server cannot run is refused with an error envelope while it is read",
    "release": "it behaves like a known tycho-api release (no release reports its version)",
    "start": "a start answers a StartResponse: the name {name}-{sid}, the sid a GUID",
    "listed": "status by GUID lists the started system with the document's keys",
    "delete": "delete answers success, and the system is no longer listed",
    "cleanup": "the probe system is gone when verify ends",
}
WRITES = ("start", "listed", "delete", "cleanup")


class _Checks:
    def __init__(self, on_check: Callable[[Check], object] | None) -> None:
        self.found: list[Check] = []
        self.on_check = on_check

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        check = Check(name=name, promise=PROMISES[name], outcome=outcome, detail=detail)
        self.found.append(check)
        if self.on_check is not None:
            self.on_check(check)


def _outcome(operation: Operation[Any, Any], reply: Reply) -> tuple[Any, str | None]:
    """The reply parsed as the operation's outcome (success model or ErrorResponse), or why not."""
    if reply.status_code != 200 or reply.json() is None:
        return None, f"{reply.describe()}, not a JSON envelope"
    try:
        return outcome_adapter(operation).validate_json(reply.content), None
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = tuple(first["loc"])
        if loc[:1] in (("success",), ("error",)):
            loc = loc[1:]  # the discriminator's branch, not a field of the body
        return None, quote_body(f"{format_loc(loc)}: {first['msg']}", 160)


_OPERATIONS: dict[str, Operation[Any, Any]] = {
    "start": START,
    "status": STATUS,
    "delete": DELETE,
    "modify": MODIFY,
}


def _answer_checks(
    checks: _Checks, answers: Sequence[tuple[str, Exchange, Reply]], traits: ServerTraits
) -> None:
    """What the read-only answers show of routes, envelopes, errors, status, modify, refusals."""
    by_question = {question: (exchange, reply) for question, exchange, reply in answers}
    routed = [(e, r) for q, e, r in answers if q != "modify"]
    bad = [f"{e.label}: {r.describe()}" for e, r in routed if r.status_code != 200 or not r.json()]
    shown = ", ".join(dict.fromkeys(e.label.split(" ")[1] for e, _ in routed))
    checks.add("routes", "fail" if bad else "pass", "; ".join(bad) or f"{shown} answered")
    problems, errors = [], []
    for _, exchange, reply in answers:
        if exchange.operation == "modify" and reply.status_code == 404:
            continue
        parsed, problem = _outcome(_OPERATIONS[exchange.operation], reply)
        if problem:
            problems.append(f"{exchange.label}: {problem}")
        elif isinstance(parsed, ErrorResponse):
            errors.append((exchange, parsed))
    checks.add(
        "envelopes",
        "fail" if problems else "pass",
        "; ".join(problems) or f"{len(answers)} answers match the document",
    )
    checks.add("errors", *_errors(errors))
    status_exchange, status_reply = by_question["status"]
    parsed, problem = _outcome(STATUS, status_reply)
    if isinstance(parsed, StatusResponse):
        count = len(parsed.result)
        listed = f"{count} entr{'y' if count == 1 else 'ies'}"
        checks.add("status", "pass", f"{status_exchange.label}: {listed}")
    else:
        checks.add("status", "fail", f"{status_exchange.label}: {problem or 'an error envelope'}")
    modify_exchange, modify_reply = by_question["modify"]
    if modify_reply.status_code == 404 or _outcome(MODIFY, modify_reply)[1] is None:
        checks.add("modify", "pass", traits.modify_routed.evidence or modify_reply.describe())
    else:
        checks.add("modify", "fail", f"{modify_exchange.label} answered {modify_reply.describe()}")
    start_exchange, start_reply = by_question["start"]
    refused = start_reply.error_text() is not None
    checks.add(
        "refusals",
        "pass" if refused else "fail",
        f"{start_exchange.label} (a host-path volume) answered {start_reply.describe()}"
        + ("" if refused else ": started what servers refuse (deleted again)"),
    )


def _trait_checks(checks: _Checks, traits: ServerTraits) -> None:
    """What the answers (a running probe system's too) show of readiness and the release."""
    readiness = traits.reports_readiness
    if readiness.value is None:
        mixed = "some with is_ready" in readiness.evidence
        checks.add("readiness", "fail" if mixed else "unknown", readiness.evidence)
    else:
        said = "reported" if readiness.value else "not reported (tycho status shows READY ?)"
        checks.add("readiness", "pass", f"{said}: {readiness.evidence}")
    known = bool(traits.releases)
    checks.add(
        "release",
        "pass" if known else "unknown",
        f"behaves like tycho-api {traits.behaves_like}"
        if known
        else "its answers are those of no known tycho-api release",
    )


def _errors(errors: Sequence[tuple[Exchange, ErrorResponse]]) -> tuple[Outcome, str]:
    wrong = [exchange.label for exchange, error in errors if error.message != error.result.error]
    if wrong:
        return "fail", f"message differs from result.error: {', '.join(wrong)}"
    notes = []
    for exchange, error in errors:
        text = error.result.error.strip()
        if exchange.operation == "delete" and text != "name":
            notes.append(f"{exchange.label}: not the bare key name")
        if exchange.body == {"name": None} and text not in (ABORT_ERROR, COMPARISON_ERROR):
            notes.append(f"{exchange.label}: a text the document does not name")
    if notes:
        return "fail", "; ".join(notes)
    return "pass", f"{len(errors)} error envelopes, each with its documented text"


def probe_system(name: str, integer_gpus: bool) -> dict[str, Any]:
    """The tiny system ``verify --write`` starts: no Service, so no load balancer and no wait."""
    body: dict[str, Any] = {
        "name": name,
        "system": {
            "version": "3",
            "services": {
                "probe": {
                    "image": "busybox:1.36",
                    "entrypoint": "sleep 3600",
                    "ports": ["8080"],
                    "deploy": {"resources": {"limits": {"cpus": "0.01", "memory": "16M"}}},
                }
            },
        },
        "env": {},
        "principal": json.dumps({"username": PROBE_USER}),
        "serviceaccount": "default",
        "services": {},
    }
    return with_integer_gpus(body) if integer_gpus else body


def _ask(exchange: Exchange) -> Conversation[Reply | TychoTransportError]:
    """An exchange whose lack of an answer is a finding, not the end of the conversation."""
    try:
        return (yield exchange)
    except TychoTransportError as exc:
        return exc


def _listed(reply: Reply | TychoTransportError, sid: str) -> list[Any] | None:
    """The entries of a status answer that belong to ``sid`` (``None``: no status answer)."""
    if isinstance(reply, TychoTransportError):
        return None
    parsed, _ = _outcome(STATUS, reply)
    if not isinstance(parsed, StatusResponse):
        return None
    return [entry for entry in parsed.result if entry.sid == sid]


def verification(
    url: str,
    knowledge: ServerKnowledge,
    *,
    write: bool,
    seconds: float,
    per_call: float | None,
    on_check: Callable[[Check], object] | None = None,
) -> Conversation[VerificationReport]:
    """The conversation of :meth:`~tycho_client.TychoClient.verify`."""
    started = time.monotonic()
    budget = Budget(seconds, per_call)
    checks = _Checks(on_check)
    answers = yield from probes(budget)  # no answer at all: the server is unreachable
    exchange = budget.exchange("delete", {})
    reply = yield exchange
    answers.append(("delete", exchange, reply))
    traits = infer(url, answers, ambassador(knowledge))
    knowledge.remember(traits.gpu_assertion.value)
    _answer_checks(checks, answers, traits)
    probe: _Probe | None = None
    if write:
        probe = _Probe(f"tycho-verify-{secrets.token_hex(4)}", budget, checks)
        extra = yield from probe.run(bool(traits.gpu_assertion.value))
        if extra is not None:
            answers.append(("status", *extra))
            traits = infer(url, answers, ambassador(knowledge))
    else:
        for name in WRITES:
            checks.add(name, "skipped", "needs write (tycho verify --write): starts and deletes a "
                       "tiny system")  # fmt: skip
    _trait_checks(checks, traits)
    order = list(PROMISES)
    return VerificationReport(
        url=url,
        conformant=not any(check.outcome == "fail" for check in checks.found),
        behaves_like=traits.behaves_like,
        traits=traits,
        checks=tuple(sorted(checks.found, key=lambda check: order.index(check.name))),
        wrote=write,
        probe_system=probe.full_name if probe else None,
        seconds=round(time.monotonic() - started, 3),
    )


class _Probe:
    """The probe system of ``write=True``: started, listed, deleted, and cleaned up whatever
    happens."""

    def __init__(self, name: str, budget: Budget, checks: _Checks) -> None:
        self.name = name
        self.budget = budget
        self.checks = checks
        self.sid: str | None = None
        self.gone = False

    @property
    def full_name(self) -> str | None:
        return f"{self.name}-{self.sid}" if self.sid else None

    def run(self, integer_gpus: bool) -> Conversation[tuple[Exchange, Reply] | None]:
        """Start, list and delete it; the status exchange that listed it (readiness shows
        there), if any. The clean-up runs on every way out but a closed conversation."""
        closed = False
        try:
            return (yield from self._lifecycle(integer_gpus))
        except GeneratorExit:
            closed = True  # nothing can be sent any more
            raise
        finally:
            if not closed:
                yield from self._cleanup()

    def _lifecycle(self, integer_gpus: bool) -> Conversation[tuple[Exchange, Reply] | None]:
        start = self.budget.exchange("start", probe_system(self.name, integer_gpus))
        reply = yield from _ask(start)
        if isinstance(reply, TychoTransportError):
            self.checks.add("start", "fail", f"{start.label}: {reply}")
            return None
        parsed, problem = _outcome(START, reply)
        if not isinstance(parsed, StartResponse):
            self.checks.add("start", "fail", f"{start.label}: {problem or reply.describe()}")
            return None
        self.sid = parsed.result.sid
        named = parsed.result.name == f"{self.name}-{self.sid}"
        self.checks.add(
            "start",
            "pass" if named else "fail",
            f"started {parsed.result.name}"
            + ("" if named else f", not named {self.name}-{self.sid}"),
        )
        lookup = self.budget.exchange("status", {"name": self.sid})
        listing = yield from _ask(lookup)
        entries = _listed(listing, self.sid)
        if entries is None or isinstance(listing, TychoTransportError):
            said = listing if isinstance(listing, TychoTransportError) else listing.describe()
            self.checks.add("listed", "fail", f"{lookup.label}: {said}")
        elif len(entries) != 1:
            self.checks.add("listed", "fail", f"{lookup.label} listed {len(entries)} entries")
        else:
            self.checks.add("listed", "pass", f"{lookup.label} listed it")
        yield from self._delete()
        if isinstance(listing, TychoTransportError) or not entries:
            return None
        return lookup, listing

    def _delete(self) -> Conversation[None]:
        assert self.sid is not None
        exchange = self.budget.exchange("delete", {"name": self.sid})
        reply = yield from _ask(exchange)
        if isinstance(reply, TychoTransportError):
            self.checks.add("delete", "fail", f"{exchange.label}: {reply}")
            return
        parsed, problem = _outcome(DELETE, reply)
        if problem is not None or isinstance(parsed, ErrorResponse):
            self.checks.add("delete", "fail", f"{exchange.label}: {problem or reply.describe()}")
            return
        self.gone = yield from self._until_gone(self.budget, min(_GONE_SECONDS, self.budget.left()))
        self.checks.add(
            "delete",
            "pass" if self.gone else "fail",
            "deleted, and no longer listed"
            if self.gone
            else f"deleted, but still listed after {_GONE_SECONDS:g} s",
        )

    def _until_gone(self, budget: Budget, seconds: float) -> Conversation[bool]:
        assert self.sid is not None
        ends_at = time.monotonic() + seconds
        while True:
            listing = yield from _ask(budget.exchange("status", {"name": self.sid}))
            if _listed(listing, self.sid) == []:
                return True
            if time.monotonic() >= ends_at:
                return False
            yield from pause(min(0.5, ends_at - time.monotonic()))

    def _cleanup(self) -> Conversation[None]:
        """Make sure the probe system is gone, within CLEANUP_SECONDS of its own."""
        if self.gone:
            self.checks.add("cleanup", "pass", "nothing left: the probe system was deleted")
            return
        budget = Budget(CLEANUP_SECONDS, self.budget.per_call)
        sids = [self.sid] if self.sid else []
        if not sids:  # the start's answer never came: it may have started anyway
            lookup = budget.exchange("status", {"username": PROBE_USER})
            listing = yield from _ask(lookup)
            parsed = None if isinstance(listing, TychoTransportError) else _outcome(STATUS, listing)
            if parsed is None or not isinstance(parsed[0], StatusResponse):
                said = listing if isinstance(listing, TychoTransportError) else listing.describe()
                self.checks.add(
                    "cleanup",
                    "fail",
                    f"could not tell whether {self.name} was started ({lookup.label}: {said}): "
                    f"look for systems named {self.name}-<GUID> with tycho status",
                )
                return
            prefix = f"{self.name}-"
            sids = [e.sid for e in parsed[0].result if e.name.startswith(prefix) and e.sid]
        left = []
        for sid in dict.fromkeys(sids):
            self.sid = sid
            reply = yield from _ask(budget.exchange("delete", {"name": sid}))
            gone = not isinstance(reply, TychoTransportError) and (
                yield from self._until_gone(budget, min(_GONE_SECONDS, budget.left()))
            )
            if not gone:
                left.append(sid)
        if left:
            self.checks.add(
                "cleanup",
                "fail",
                f"could not delete the probe system {self.name} (GUID {', '.join(left)}) within "
                f"{CLEANUP_SECONDS:g} s: delete it with tycho down {' '.join(left)}",
            )
        else:
            self.gone = True
            found = f" ({', '.join(sids)})" if sids else ""
            done = "deleted the probe system" if sids else "the probe system was never started"
            self.checks.add("cleanup", "pass", f"{done} {self.name}{found}")


_publish(__name__, globals())
