"""The client never sends what real servers reject, and still sends every real application.

The start requests drawn from the document (as in test_document_property, but without leaving
out the draws that break ``SERVER_RULES``) go through ``TychoClient.start`` to the tycho-api
release under test: each is either refused before sending with a ``TychoValidationError`` naming a
field, or sent and answered ``success`` (on 1.14.0 - 1.17.1 after the client learned the GPU
assertion), or, asking for a feature the release lacks (``ephemeralStorage`` on 1.12.0 - 1.13.0),
refused by the server with a ``TychoAPIError`` naming the feature and the releases that have it.
The samples and the examples, built by ``up``, all start, and are listed, waited for and deleted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from draws import start_requests, uses
from hypothesis import HealthCheck, Phase, assume, given, settings
from realserver import RealTycho, examples, suite

from tycho_client import TychoClient
from tycho_client.compose import load_compose
from tycho_client.envfile import parse_env
from tycho_client.errors import TychoAPIError, TychoReadinessUnknownError, TychoValidationError
from tycho_client.releases import FEATURES
from tycho_client.testing.checks import document_problems

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = examples() // 2
APPS = sorted(
    [p for p in (ROOT / "tests" / "fixtures" / "samples").iterdir() if p.is_dir()]
    + [p for p in (ROOT / "examples").iterdir() if p.is_dir()]
)
HOST_PATH_VOLUMES = {"nextflow", "xena"}  # the client refuses them: Tycho mounts only PVCs
# examples/mistakes is a first try with the common mistakes (docs/compose.md): never sent.
MISTAKES = [
    "system.services.web.volumes[0]",
    "system.services.web.command",
    "system.services.db.user",
    "system.services.web.deploy.resources.limits.cpus",
]


@pytest.mark.realserver
def test_the_client_sends_only_what_the_real_server_accepts(real_tycho: RealTycho) -> None:
    outcomes = {"sent": 0, "refused": 0, "lacking": 0}
    reasons: list[str] = []
    release = real_tycho.behaviour

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=suite() == "subset",  # few examples: the same draws on every run
        suppress_health_check=list(HealthCheck),
        phases=tuple(Phase)
        if os.environ.get("REALSERVER_SHRINK", "1") == "1"
        else (Phase.generate,),
    )
    @given(body=start_requests())
    def check(body: dict[str, Any]) -> None:
        assume(not document_problems("start", body))
        real_tycho.cluster.reset()
        refused: TychoValidationError | None = None
        lacked: TychoAPIError | None = None  # what the client sends that a release may lack
        with TychoClient(real_tycho.url, max_retries=0) as client:
            try:
                answer = client.start(body)
            except TychoValidationError as exc:
                refused = exc
            except TychoAPIError as exc:
                lacked = exc
        if lacked is not None:
            assert not release.ephemeral_storage, lacked
            assert uses(body, "ephemeralStorage"), lacked
            said = str(lacked)
            assert "`ephemeralStorage`" in said, said
            assert FEATURES["ephemeralStorage"].releases in said, said
            assert "Traceback" not in said
            assert "Limits.__init__" not in said
            outcomes["lacking"] += 1
            return
        if refused is not None:
            assert refused.paths, refused  # names the field
            assert "(root)" not in refused.paths, refused
            outcomes["refused"] += 1
            reasons.append(refused.paths[0])
            return
        assert answer.status == "success"
        outcomes["sent"] += 1

    check()
    # A good share of documented requests are sent: the client refuses only what breaks one of
    # its rules (SERVER_RULES, names Kubernetes refuses, NUL characters, services the compose
    # document does not define), each refusal naming its field (checked above).
    total = sum(outcomes.values())
    sent = outcomes["sent"] + outcomes["lacking"]  # sent, and refused only by a release lacking it
    assert sent * 4 >= total, (outcomes, sorted(set(reasons)))


@pytest.mark.realserver
@pytest.mark.parametrize("app", APPS, ids=[p.name for p in APPS])
def test_every_sample_and_example_starts_on_the_real_server(
    real_tycho: RealTycho, app: Path
) -> None:
    env_file = app / ".env"
    settings_text = env_file.read_text() if env_file.exists() else ""
    compose = load_compose((app / "docker-compose.yaml").read_text())
    with TychoClient(real_tycho.url, max_retries=0, username="renci") as client:
        if app.name == "mistakes":
            with pytest.raises(TychoValidationError) as refused:
                client.up(app.name, compose, settings=parse_env(settings_text))
            assert refused.value.paths == MISTAKES
            return
        if app.name in HOST_PATH_VOLUMES:
            with pytest.raises(TychoValidationError, match="volumes"):
                client.up(app.name, compose, settings=parse_env(settings_text))
            return
        started = client.up(app.name, compose, settings=parse_env(settings_text))
        assert started.status == "success"
        (system,) = client.list(started.result.sid)
        assert system.app_id == started.result.name.rsplit("-", 1)[0]
        if real_tycho.behaviour.reports_readiness:
            assert client.wait_ready(started.result.sid, deadline=30)[0].is_ready is True
        else:  # never a false "ready": wait_ready says it cannot tell, at once
            assert system.is_ready is None
            with pytest.raises(TychoReadinessUnknownError, match="without readiness"):
                client.wait_ready(started.result.sid, deadline=30)
        assert client.down([started.result.sid]) == [started.result.sid]
