"""The release table and what reads it, without a real server: the README's compatibility table,
the matrix's coverage, the fake playing each release, what the client learns and adds for a
release (GPUs), readiness it cannot know, features a release lacks, and server_traits().

The real releases themselves: tests/realserver (test_end_to_end.py and the rest, per release).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from test_cli_support import tycho

from tycho_client import TychoClient
from tycho_client.cli._arguments import DEFAULT_RELEASE as CLI_DEFAULT_RELEASE, RELEASE_VERSIONS
from tycho_client.errors import TychoAPIError, TychoReadinessUnknownError
from tycho_client.releases import (
    COMPATIBILITY_COLUMNS,
    DEFAULT_RELEASE,
    FEATURES,
    RELEASES,
    compatibility_table,
    describe,
    release,
    versions,
)
from tycho_client.testing import FakeTycho

ROOT = Path(__file__).resolve().parents[1]
WEB = {"services": {"web": {"image": "nginx:1.25", "ports": ["8080:80"]}}}


def _client(fake: FakeTycho, **options: Any) -> TychoClient:
    return TychoClient("http://tycho.test", transport=fake, max_retries=0, **options)


# ----------------------------------------------------------------------------- the table


def test_the_readme_table_is_the_release_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- releases: made by scripts/generate.py")[1].split("\n", 1)[1]
    assert shown.split("<!-- releases: end -->")[0] == compatibility_table()
    assert len(compatibility_table().splitlines()) == len(RELEASES) + 2


def test_every_behaviour_of_a_release_ci_skips_is_run_by_one_it_runs() -> None:
    ran = [item for item in RELEASES if item.ci]
    for item in RELEASES:
        for title, cell in COMPATIBILITY_COLUMNS[2:]:
            assert any(cell(other) == cell(item) for other in ran), (item.version, title)
    assert [run.suite for item in RELEASES for run in item.ci].count("full") == 1


def test_ranges_are_said_as_people_read_them() -> None:
    assert describe(["1.14.0", "1.14.1", "1.15.0", "1.16.1", "1.17.1"]) == "1.14.0 - 1.17.1"
    assert describe(versions()[7:]) == "1.17.2 and later"
    assert describe(["1.12.0", "1.17.3"]) == "1.12.0, 1.17.3"
    assert describe([]) == "no known release"
    assert FEATURES["ephemeralStorage"].releases == "1.14.0 and later"
    assert FEATURES["gitea_integration"].releases == "1.13.0 and later"


def test_an_unknown_release_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'1\.9\.0' is not a supported release.*1\.12\.0"):
        release("1.9.0")
    with pytest.raises(ValueError, match="not a supported release"):
        FakeTycho(release="2.0")


def test_tycho_mock_offers_every_release_of_the_table_and_refuses_others() -> None:
    # The CLI spells the releases out (tycho --help must not import the table): kept equal here.
    assert (list(RELEASE_VERSIONS), CLI_DEFAULT_RELEASE) == (versions(), DEFAULT_RELEASE)
    done = tycho("mock", "--release", "1.16.0", check=2)
    assert "argument --release: invalid choice: '1.16.0'" in done.stderr
    assert "'1.16.1'" in done.stderr


# ------------------------------------------------------------------ the fake plays each one


@pytest.mark.parametrize("version", versions())
def test_the_fake_plays_each_release_and_verify_finds_it(version: str) -> None:
    played = release(version)
    fake = FakeTycho(release=version)
    with _client(fake) as client:
        report = client.verify(write=True)
    same = describe(item for item in RELEASES if item.answers == played.answers)
    assert report.conformant, [c for c in report.checks if c.outcome != "pass"]
    assert report.behaves_like == same
    assert report.traits.gpu_assertion.value is played.gpu_assertion
    assert report.traits.reports_readiness.value is played.reports_readiness
    assert fake.systems == {}, "verify --write left its probe system"


def test_the_client_adds_integer_gpus_only_for_a_server_that_asserts_them() -> None:
    asserting = FakeTycho(release="1.16.1")
    with _client(asserting) as client:
        first = client.up("web", WEB)
        client.up("again", WEB)
        copy = client.with_options(timeout=10)  # the same server: it knows too
        copy.up("copied", WEB)
        other = client.with_options(url="http://other.test")
        assert other._knowledge is not client._knowledge
    sent = [(r.status_code, r.body["system"]["services"]["web"].get("deploy")) for r in
            asserting.requests if r.operation == "start"]  # fmt: skip
    gpus = {"resources": {"limits": {"gpus": 0}, "reservations": {"gpus": 0}}}
    # refused once while read (nothing created), then every start with integer GPUs
    assert sent == [(200, None), (200, gpus), (200, gpus), (200, gpus)]
    assert asserting.requests[0].status_code == 200
    assert next(s.sid for s in asserting.systems.values()) == first.result.sid
    assert len(asserting.systems) == 3
    plain = FakeTycho(release="1.17.3")
    with _client(plain) as client:
        client.up("web", WEB)
        client.up("gpu", {"services": {"g": {**WEB["services"]["web"], "deploy": {
            "resources": {"limits": {"gpus": "1"}}}}}})  # fmt: skip
    bodies = [r.body["system"]["services"] for r in plain.requests]
    assert "deploy" not in bodies[0]["web"]  # no GPU toleration where none is needed
    assert bodies[1]["g"]["deploy"] == {"resources": {"limits": {"gpus": 1}}}  # as an integer


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ({"proxy_rewrite_rule": True},
         {"proxy_rewrite_rule": True, "proxy_rewrite": {"enabled": True}}),
        ({"proxy_rewrite": {"enabled": True, "target": "/x"}},
         {"proxy_rewrite": {"enabled": True, "target": "/x"}, "proxy_rewrite_rule": True}),
        ({"proxy_rewrite": {"enabled": False}}, {"proxy_rewrite": {"enabled": False}}),
    ],
)  # fmt: skip
def test_a_proxy_rewrite_is_sent_in_the_form_of_every_release(
    given: dict[str, Any], sent: dict[str, Any]
) -> None:
    fake = FakeTycho()
    with _client(fake) as client:
        client.up("web", {"services": {"web": {**WEB["services"]["web"], **given}}})
    service = fake.requests[0].body["system"]["services"]["web"]
    assert {key: service[key] for key in service if key.startswith("proxy")} == sent


def test_the_raw_view_of_a_start_refused_for_gpus_is_the_second_answer() -> None:
    fake = FakeTycho(release="1.14.0")
    with _client(fake) as client:
        raw = client.with_raw_response.up("web", WEB)
    assert raw.parse().status == "success"
    assert [r.operation for r in fake.requests] == ["start", "start"]


def test_wait_ready_says_at_once_when_the_server_does_not_report_readiness() -> None:
    fake = FakeTycho(release="1.12.0")
    with _client(fake) as client:
        started = client.up("web", WEB)
        (system,) = client.list()
        assert system.is_ready is None
        began = time.monotonic()
        with pytest.raises(TychoReadinessUnknownError) as unknown:
            client.wait_ready(started.result.sid, deadline=60, interval=5)
    assert time.monotonic() - began < 5, "it waited for what no poll can show"
    assert unknown.value.guid == started.result.sid
    assert unknown.value.systems == [system]
    assert "without readiness, as tycho-api 1.12.0 - 1.15.0 do" in str(unknown.value)


def test_a_feature_the_release_lacks_is_named_with_the_releases_that_have_it() -> None:
    amounts = {"cpus": "1", "memory": "1G", "ephemeralStorage": "1G"}
    body = {"services": {"web": {**WEB["services"]["web"], "deploy": {
        "resources": {"limits": amounts}}}}}  # fmt: skip
    with _client(FakeTycho(release="1.13.0")) as client, pytest.raises(TychoAPIError) as refused:
        client.up("web", body)
    message = str(refused.value)
    assert message == (
        "start failed: this server does not support `ephemeralStorage` "
        "(deploy.resources.limits/reservations.ephemeralStorage): tycho-api 1.14.0 and later "
        "do; leave it out for this one"
    )
    assert "Limits.__init__" in refused.value.error  # the server's text, kept, not shown
    with _client(FakeTycho(release="1.14.0")) as client:
        assert client.up("web", body).status == "success"


def test_server_traits_change_nothing_and_say_how_they_know() -> None:
    fake = FakeTycho(release="1.15.0")
    with _client(fake) as client:
        traits = client.server_traits()
        assert fake.systems == {}
        assert traits.behaves_like == "1.14.0 - 1.17.1"
        assert traits.reports_readiness.value is None  # nothing runs: no entry shows it
        assert "listed no system" in traits.reports_readiness.evidence
        assert traits.gpu_assertion.value is True
        assert traits.gpu_assertion.releases == "1.14.0 - 1.17.1"
        assert "Fractional GPUs not supported" in traits.gpu_assertion.evidence
        assert traits.supports("ephemeralStorage") is True
        assert traits.supports("proxy_rewrite") is None  # 1.14.0 - 1.16.1 no, 1.17.1 yes
        assert traits.ambassador_mode.value is None
        client.up("web", WEB)  # sent once: server_traits() taught the client the GPUs
        traits = client.server_traits()
    assert [r.status_code for r in fake.requests if r.operation == "start"][-1:] == [200]
    assert sum(r.operation == "start" and r.body["name"] == "web" for r in fake.requests) == 1
    assert traits.behaves_like == "1.14.0 - 1.15.0"
    assert traits.reports_readiness.value is False
    assert traits.ambassador_mode.value is False  # the fake answers node ports
    assert traits.ambassador_mode.evidence == "a start answered port-1 30000"


# ------------------------------------------------------------------------ the CLI, per release


@pytest.mark.parametrize("version", ["1.12.0", "1.16.1"])
def test_tycho_up_wait_and_status_on_a_mocked_release(version: str, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx\n    ports: ['80']\n"
    )
    fake = FakeTycho(release=version)
    with fake.serve() as url:
        waited = tycho("up", "-q", "--wait", "--url", url, cwd=tmp_path, check=None)
        listed = tycho("status", "--no-headers", "--url", url)
        guid = waited.stdout.strip()
        if release(version).reports_readiness:
            assert waited.returncode == 0, waited
            assert listed.stdout.split()[2] == "1/1"
        else:
            assert waited.returncode == 1
            assert "does not report readiness" in waited.stderr, waited.stderr
            assert listed.stdout.split()[1:3] == [guid, "?/1"]
        assert len(fake.systems) == 1


def test_tycho_mock_plays_the_release_asked_for() -> None:
    done = tycho("mock", "--release", "9.9.9", check=2)
    assert "invalid choice: '9.9.9'" in done.stderr
    assert re.search(r"--release VERSION", tycho("mock", "--help").stdout)
