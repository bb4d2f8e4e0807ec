"""The document is never looser than real servers: every request it accepts, tycho-api accepts.

Requests are drawn from the document's own schemas (hypothesis-jsonschema) and sent to the real
tycho-api release under test, as tycho-client sends them to it (with integer GPUs where the release
asserts them); each must be valid against the document (with ``principal``'s ``contentSchema``)
and must get ``"status": "success"``, unless it asks for a feature the release lacks
(``ephemeralStorage`` on 1.12.0 - 1.13.0), which must then be refused for exactly that. Draws that
break one of the rules the document cannot express (``tycho_client.rules.SERVER_RULES``, checked by
the model validators) are left out, and how many is bounded, so the property is not vacuous; at
least a fifth of the draws carry ``deploy.resources``.

``realserver.examples()`` start examples (200 in the full suite, 40 in the subset the CI matrix
runs for other releases); ``-m slow`` runs 2,000 (left out unless asked for by that marker).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from draws import delete_requests, has_resources, start_requests, status_requests, uses
from hypothesis import HealthCheck, Phase, assume, given, settings
from realserver import RealTycho, examples, suite

from tycho_client import rules
from tycho_client.testing.checks import document_problems
from tycho_client.traits import EPHEMERAL_REFUSED

EXAMPLES = examples()
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
    derandomize=suite() == "subset",  # few examples: the same draws on every run
    phases=tuple(Phase) if os.environ.get("REALSERVER_SHRINK", "1") == "1" else (Phase.generate,),
)


def _accepted_by_document(operation: str, body: dict[str, Any]) -> bool:
    """Whether the draw is valid: hypothesis-jsonschema cannot generate from every keyword (such
    as ``not`` on objects) and filters instead, which lets a few invalid draws through."""
    return not document_problems(operation, body)


def _answer(real_tycho: RealTycho, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = real_tycho.post(operation, body)
    assert answer.status_code == 200, answer.text[:2000]
    envelope: dict[str, Any] = answer.json()
    return envelope


def _assert_success(real_tycho: RealTycho, operation: str, body: dict[str, Any]) -> None:
    envelope = _answer(real_tycho, operation, body)
    assert envelope["status"] == "success", (
        f"the document accepts this {operation} request, tycho-api {real_tycho.release} does not:"
        f"\n{json.dumps(body, indent=1)[:4000]}\n--> {envelope['message'][-2000:]}"
    )


def _every_start_is_started(real_tycho: RealTycho, count: int) -> None:
    sent, lacking, left_out, resourced = [], [], [], []
    release = real_tycho.behaviour

    @settings(PROPERTY, max_examples=count)
    @given(body=start_requests())
    def check(body: dict[str, Any]) -> None:
        assume(_accepted_by_document("start", body))
        broken = rules.problems(body, rules.SERVER_RULES)
        if broken:
            left_out.append(broken)
        assume(not broken)
        real_tycho.cluster.reset()
        resourced.append(has_resources(body))
        adapted = real_tycho.adapted(body)
        if not release.ephemeral_storage and uses(body, "ephemeralStorage"):
            envelope = _answer(real_tycho, "start", adapted)
            assert envelope["status"] == "error"
            assert envelope["message"] == EPHEMERAL_REFUSED
            lacking.append(body)
            return
        _assert_success(real_tycho, "start", adapted)
        sent.append(body)

    check()
    assert len(sent) + len(lacking) >= count * 0.9, (len(sent), left_out[:5])
    assert len(sent) >= count / 3, (len(sent), len(lacking))  # 1.12.0 - 1.13.0: about half lack
    assert sum(resourced) >= len(resourced) / 5, "the draws carry deploy.resources too rarely"


@pytest.mark.realserver
def test_every_start_the_document_accepts_is_started(real_tycho: RealTycho) -> None:
    _every_start_is_started(real_tycho, EXAMPLES)


@pytest.mark.realserver
@pytest.mark.slow
def test_every_start_the_document_accepts_is_started_long(real_tycho: RealTycho) -> None:
    """The same property, 2,000 examples (about 15 minutes): ``-m slow`` runs it."""
    _every_start_is_started(real_tycho, 2000)


@pytest.mark.realserver
def test_every_status_and_delete_the_document_accepts_succeeds(real_tycho: RealTycho) -> None:
    @PROPERTY
    @given(status=status_requests(), delete=delete_requests())
    def check(status: dict[str, Any], delete: dict[str, Any]) -> None:
        assume(_accepted_by_document("status", status))
        assume(_accepted_by_document("delete", delete))
        _assert_success(real_tycho, "status", status)
        _assert_success(real_tycho, "delete", delete)

    check()
