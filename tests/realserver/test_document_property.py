"""The document is never looser than real servers: every request it accepts, tycho-api accepts.

Requests are drawn from the document's own schemas (hypothesis-jsonschema) and sent to the real
tycho-api 1.17.3; each must be valid against the document (with ``principal``'s
``contentSchema``) and must get ``"status": "success"``. Draws that break one of the rules the
document cannot express (``tycho_client.rules.SERVER_RULES``, checked by the model validators) are
left out, and how many is bounded, so the property is not vacuous.

CI runs ``REALSERVER_EXAMPLES`` (default 200) start examples; ``-m slow`` runs 2,000 (it is
skipped unless asked for by that marker).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from draws import delete_requests, start_requests, status_requests
from hypothesis import HealthCheck, Phase, assume, given, settings
from realserver import RealTycho

from tycho_client import rules
from tycho_client.testing.checks import document_problems

EXAMPLES = int(os.environ.get("REALSERVER_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
    phases=tuple(Phase) if os.environ.get("REALSERVER_SHRINK", "1") == "1" else (Phase.generate,),
)


def _accepted_by_document(operation: str, body: dict[str, Any]) -> bool:
    """Whether the draw is valid: hypothesis-jsonschema cannot generate from every keyword (such
    as ``not`` on objects) and filters instead, which lets a few invalid draws through."""
    return not document_problems(operation, body)


def _assert_success(real_tycho: RealTycho, operation: str, body: dict[str, Any]) -> None:
    answer = real_tycho.post(operation, body)
    assert answer.status_code == 200, answer.text[:2000]
    envelope = answer.json()
    assert envelope["status"] == "success", (
        f"the document accepts this {operation} request, tycho-api 1.17.3 does not:\n"
        f"{json.dumps(body, indent=1)[:4000]}\n--> {envelope['message'][-2000:]}"
    )


def _every_start_is_started(real_tycho: RealTycho, examples: int) -> None:
    sent, left_out = [], []

    @settings(PROPERTY, max_examples=examples)
    @given(body=start_requests())
    def check(body: dict[str, Any]) -> None:
        assume(_accepted_by_document("start", body))
        broken = rules.problems(body, rules.SERVER_RULES)
        if broken:
            left_out.append(broken)
        assume(not broken)
        real_tycho.cluster.reset()
        _assert_success(real_tycho, "start", body)
        sent.append(body)

    check()
    assert len(sent) >= examples * 0.9, (len(sent), left_out[:5])


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
