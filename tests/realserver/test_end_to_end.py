"""Each release of the CI matrix, end to end: ``TychoClient``, ``AsyncTychoClient`` and ``tycho``
(up, status, list, wait, down) run a system through its life on it; ``server_traits()`` finds
what the release table (``tycho_client.releases``) says; ``tycho verify`` finds it conformant and
behaving like its releases, and ``--write`` leaves nothing behind.

Where the release does not report readiness (1.12.0 - 1.15.0), waiting says so at once
(``TychoReadinessUnknownError``, ``--wait`` exit 1 with that message, READY ``?``), never a false
"ready". On 1.14.0 - 1.17.1 the first start is refused for its GPUs and sent again with integer
GPUs, once per client: nothing is left of the refused one.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from realserver import RealTycho
from test_cli_support import base_env, tycho

from tycho_client import AsyncTychoClient, TychoClient
from tycho_client.errors import TychoReadinessUnknownError
from tycho_client.releases import ABORT_ERROR, RELEASES, Release, describe

pytestmark = pytest.mark.realserver

COMPOSE = {
    "version": "3",
    "services": {
        "web": {
            "image": "nginx:1.25",
            "ports": ["8080:80"],
            "deploy": {"resources": {"limits": {"cpus": "0.1", "memory": "64M"}}},
        }
    },
}
COMPOSE_YAML = json.dumps(COMPOSE)  # JSON is YAML


def _like(release: Release, *, readiness_shown: bool) -> str:
    """What the release behaves like, as far as answers show (readiness needs a running one)."""
    if readiness_shown:
        return describe(item for item in RELEASES if item.answers == release.answers)
    return describe(item for item in RELEASES if item.answers[:3] == release.answers[:3])


def test_server_traits_are_what_the_release_table_says(real_tycho: RealTycho) -> None:
    release = real_tycho.behaviour
    with TychoClient(real_tycho.url, max_retries=0) as client:
        empty = client.server_traits()
        assert empty.gpu_assertion.value is release.gpu_assertion
        assert empty.ephemeral_storage.value is release.ephemeral_storage
        assert empty.error_format.value == (
            "abort" if release.schema_error == ABORT_ERROR else "comparison"
        )
        assert empty.modify_routed.value is False
        assert empty.behaves_like == _like(release, readiness_shown=False)
        created = [key for key in real_tycho.cluster.objects if key[2] != "ambassador"]
        assert created == [], "the probes created something"
        started = client.up("traits", COMPOSE)
        running = client.server_traits()
        assert running.reports_readiness.value is release.reports_readiness
        assert running.behaves_like == _like(release, readiness_shown=True)
        assert real_tycho.release in running.releases
        assert running.ambassador_mode.value is real_tycho.ambassador
        client.down([started.result.sid])


def _check_waiting(client: TychoClient, guid: str, release: Release) -> None:
    if release.reports_readiness:
        (system,) = client.wait_ready(guid, deadline=30, interval=0.2)
        assert system.is_ready is True
    else:
        with pytest.raises(TychoReadinessUnknownError, match="without readiness") as unknown:
            client.wait_ready(guid, deadline=30, interval=0.2)
        assert [system.is_ready for system in unknown.value.systems] == [None]


def test_the_client_runs_a_system_through_its_life(real_tycho: RealTycho) -> None:
    release = real_tycho.behaviour
    with TychoClient(real_tycho.url, max_retries=0) as client:
        started = client.up("lifecycle", COMPOSE)
        guid = started.result.sid
        assert client.list(terse=True) == [guid]  # nothing left of a start refused for GPUs
        _check_waiting(client, guid, release)
        again = client.up("again", COMPOSE)  # the client remembers what the server needs
        assert client.list("again", terse=True) == [again.result.sid]  # by name, as status shows
        assert client.down([guid, "again"]) == [guid, again.result.sid]
        assert client.list() == []


def test_the_async_client_runs_a_system_through_its_life(real_tycho: RealTycho) -> None:
    release = real_tycho.behaviour

    async def main() -> None:
        async with AsyncTychoClient(real_tycho.url, max_retries=0) as client:
            started = await client.up("lifecycle", COMPOSE)
            guid = started.result.sid
            assert await client.list(terse=True) == [guid]
            if release.reports_readiness:
                (system,) = await client.wait_ready(guid, deadline=30, interval=0.2)
                assert system.is_ready is True
            else:
                with pytest.raises(TychoReadinessUnknownError):
                    await client.wait_ready(guid, deadline=30, interval=0.2)
            assert await client.down(guid) == [guid]
            assert await client.list() == []

    anyio.run(main)


def test_the_cli_runs_a_system_through_its_life(real_tycho: RealTycho, tmp_path: Path) -> None:
    release = real_tycho.behaviour
    (tmp_path / "compose.yaml").write_text(COMPOSE_YAML)
    url = ("--url", real_tycho.url)
    waited = tycho("up", "-q", "-n", "cli-life", "--wait", "--wait-timeout", "30", *url,
                   cwd=tmp_path, check=None)  # fmt: skip
    guid = waited.stdout.strip()
    assert len(guid) == 32, waited
    if release.reports_readiness:
        assert waited.returncode == 0, waited
        assert "is ready after" in waited.stderr, waited
    else:
        assert waited.returncode == 1, waited
        assert "does not report readiness" in waited.stderr
        assert "Traceback" not in waited.stderr
    listed = tycho("status", "--no-headers", *url)
    (row,) = listed.stdout.splitlines()
    assert row.split()[:3] == ["cli-life", guid, "1/1" if release.reports_readiness else "?/1"]
    assert tycho("status", "--terse", *url).stdout.split() == [guid]
    assert tycho("down", "cli-life", *url).stdout.split() == [guid]  # by the name status shows
    gone = tycho("status", *url)
    assert gone.stdout == ""
    assert "No systems running." in gone.stderr


@pytest.mark.parametrize("write", [False, True], ids=["read-only", "write"])
def test_tycho_verify_finds_the_release_conformant(real_tycho: RealTycho, write: bool) -> None:
    release = real_tycho.behaviour
    args = ["verify", "--url", real_tycho.url, "-o", "json", *(["--write"] if write else [])]
    done = tycho(*args, env=base_env(), check=None, timeout=180)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr)
    report = json.loads(done.stdout)
    assert report["conformant"] is True
    assert report["behaves_like"] == _like(release, readiness_shown=write)
    outcomes = {check["name"]: check["outcome"] for check in report["checks"]}
    # Read-only, nothing runs: 1.14.0 - 1.17.1 answer alike but for readiness, which no entry shows.
    unknown = {name for name, outcome in outcomes.items() if outcome == "unknown"}
    shown = write or len({item.reports_readiness for item in RELEASES
                          if item.answers[:3] == release.answers[:3]}) == 1  # fmt: skip
    assert unknown == (set() if shown else {"readiness"}), outcomes
    assert set(outcomes.values()) <= {"pass", "skipped", "unknown"}, outcomes
    if write:
        assert outcomes["cleanup"] == "pass"
        assert report["probe_system"].startswith("tycho-verify-")
    deployments = [key for key in real_tycho.cluster.objects if key[0] == "Deployment"]
    assert deployments == [], "verify left a system behind"
