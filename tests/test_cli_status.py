"""``tycho status``: READY and AGE columns, -o wide/name/json/yaml, --no-headers, --terse,
not found, an empty server, and --watch on a pipe and on a terminal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from test_cli_support import (
    TIMEOUT,
    TYCHO,
    Lines,
    base_env,
    in_terminal,
    one_error_line,
    start,
    tycho,
)

from tycho_client.testing.fake import FakeTycho


def test_status_table_has_ready_and_age(fake: FakeTycho, url: str) -> None:
    alpha = start(fake, "alpha")
    fake.ready_after = 5
    beta = start(fake, "beta")
    fake.systems[alpha].created -= timedelta(minutes=25, seconds=7)
    done = tycho("status", "--url", url)
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["SYSTEM", "GUID", "READY", "AGE"]
    by_guid = {row.split()[1]: row.split() for row in rows}
    assert by_guid[alpha] == ["alpha", alpha, "1/1", "25m"]
    assert by_guid[beta][:3] == ["beta", beta, "0/1"]
    assert by_guid[beta][3].endswith("s")
    assert done.stderr == ""


def test_status_wide_adds_user_app_workspace_utilization_and_iso_time(
    fake: FakeTycho, url: str
) -> None:
    guid = start(fake, "alpha")
    system = fake.systems[guid]
    system.utilization = {"alpha": {"cpu": "500m", "memory": "1G"}}
    system.username = "alice"
    header, row = tycho("status", "-o", "wide", "--url", url).stdout.splitlines()
    assert header.split() == ["SYSTEM", "GUID", "READY", "AGE", "CREATED", "USER", "APP_ID",
                              "WORKSPACE", "UTILIZATION"]  # fmt: skip
    cells = row.split()
    assert cells[4] == system.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cells[5:] == ["alice", "alpha", "alpha", "alpha:cpu=500m,memory=1G"]


def test_status_json_keeps_the_raw_creation_time(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    answer = json.loads(tycho("status", guid, "-o", "json", "--url", url).stdout)
    (entry,) = answer["result"]
    assert entry["creation_time"] == fake.systems[guid].creation_time  # M-D-YYYY H:M:S
    assert entry["sid"] == guid


def test_status_yaml_from_tycho_url(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    env = {**base_env(), "TYCHO_URL": url}
    answer = yaml.safe_load(tycho("status", "-o", "yaml", env=env).stdout)
    assert [system["sid"] for system in answer["result"]] == [guid]


def test_status_name_and_no_headers(fake: FakeTycho, url: str) -> None:
    guids = sorted([start(fake, "alpha"), start(fake, "beta")])
    names = tycho("status", "-o", "name", "--url", url).stdout.split()
    assert sorted(names) == sorted(fake.systems[g].name for g in guids)
    bare = tycho("status", "--no-headers", "--url", url).stdout.splitlines()
    assert sorted(line.split()[1] for line in bare) == guids


def test_status_by_full_name(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    start(fake, "beta")
    done = tycho("status", fake.systems[guid].name, "--terse", "--url", url)
    assert done.stdout == f"{guid}\n"


@pytest.mark.parametrize("flag", ["--terse", "-terse", "-q"])
def test_status_terse_prints_guids(fake: FakeTycho, url: str, flag: str) -> None:
    guids = {start(fake, "alpha"), start(fake, "beta")}
    assert set(tycho("status", flag, "--url", url).stdout.split()) == guids


@pytest.mark.parametrize("args", [[], ["-o", "name"], ["-o", "wide"]])
def test_status_empty_says_so_on_stderr_only(fake: FakeTycho, url: str, args: list[str]) -> None:
    done = tycho("status", *args, "--url", url)
    assert done.stdout == ""
    assert done.stderr == "No systems running.\n"


def test_status_terse_of_an_empty_server_prints_nothing(fake: FakeTycho, url: str) -> None:
    done = tycho("status", "--terse", "--url", url)
    assert (done.stdout, done.stderr) == ("", "")


def test_status_empty_json_is_still_the_answer(fake: FakeTycho, url: str) -> None:
    done = tycho("status", "-o", "json", "--url", url)
    assert json.loads(done.stdout)["result"] == []
    assert done.stderr == ""


@pytest.mark.parametrize("output", ["table", "json"])
def test_status_of_an_unknown_guid_is_not_found_exit_1(
    fake: FakeTycho, url: str, output: str
) -> None:
    start(fake, "alpha")
    done = tycho("status", "0" * 32, "-o", output, "--url", url, check=1)
    assert done.stdout == ""
    assert one_error_line(done.stderr) == f"tycho: error: system {'0' * 32} not found"


@pytest.mark.parametrize("argument", ["---", "-x", ""])
def test_status_of_what_names_no_system_is_a_usage_error(
    fake: FakeTycho, url: str, argument: str
) -> None:
    done = tycho("status", "--url", url, "--", argument, check=2)
    assert "not a GUID, full name or system name" in one_error_line(done.stderr)
    assert fake.requests == []


# -------------------------------------------------------------------------------- --watch


def test_watch_on_a_pipe_prints_the_header_once_then_changed_rows(
    fake: FakeTycho, url: str
) -> None:
    fake.ready_after = 3
    guid = start(fake, "alpha")
    started = time.monotonic()
    done = tycho("status", "--watch", "--interval", "0.2", "--watch-timeout", "3",
                 "--url", url)  # fmt: skip
    assert time.monotonic() - started < 10
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["SYSTEM", "GUID", "READY", "AGE"]
    assert [row.split()[:3] for row in rows] == [["alpha", guid, "0/1"], ["alpha", guid, "1/1"]]
    assert len([r for r in fake.requests if r.operation == "status"]) >= 4


def test_watch_on_a_pipe_shows_a_system_going_away(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    process = subprocess.Popen(
        [str(TYCHO), "status", "-w", "--interval", "0.1", "--watch-timeout", "3", "--url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    try:
        assert process.stdout is not None
        lines = Lines(process.stdout)
        assert lines.next().split()[0] == "SYSTEM"
        assert lines.next().split()[:3] == ["alpha", guid, "1/1"]
        fake.reset()
        assert lines.next().split()[:3] == ["alpha", guid, "deleted"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_watch_on_a_terminal_redraws(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = in_terminal("status", "-w", "--interval", "0.2", "--watch-timeout", "2", "--url", url,
                       on_terminal=("stdout", "stderr"))  # fmt: skip
    assert done.returncode == 0
    frames = done.terminal.split("\x1b[H\x1b[2J")[1:]
    assert len(frames) >= 3
    for frame in frames:
        assert "Every 0.2s: tycho status" in frame
        assert guid in frame


def test_watch_of_an_unknown_guid_is_not_found(fake: FakeTycho, url: str) -> None:
    done = tycho("status", "0" * 32, "--watch", "--url", url, check=1)
    assert "not found" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    "args", [["-w", "-o", "json"], ["-w", "--terse"], ["--watch-timeout", "1"]]
)
def test_watch_misuse_is_a_usage_error(fake: FakeTycho, url: str, args: list[str]) -> None:
    done = tycho("status", *args, "--url", url, check=2)
    assert "watch" in one_error_line(done.stderr)
    assert fake.requests == []


def test_age_and_time_rendering() -> None:
    from tycho_client.cli.status import age, parse_creation_time

    now = datetime(2026, 1, 12, 12, 0, 0, tzinfo=timezone.utc)
    created = parse_creation_time("1-12-2026 6:36:3")
    assert created == datetime(2026, 1, 12, 6, 36, 3, tzinfo=timezone.utc)
    assert parse_creation_time("yesterday") is None
    shown = {
        timedelta(seconds=5): "5s",
        timedelta(seconds=119): "119s",
        timedelta(minutes=3, seconds=12): "3m12s",
        timedelta(minutes=25, seconds=59): "25m",
        timedelta(hours=5, minutes=10): "5h10m",
        timedelta(hours=20, minutes=5): "20h",
        timedelta(days=3, hours=4): "3d4h",
        timedelta(days=12, hours=1): "12d",
        timedelta(seconds=-30): "0s",  # a clock ahead of ours
    }
    assert {delta: age(now - delta, now) for delta in shown} == shown


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_status_terse_honours_json_and_yaml(fake: FakeTycho, url: str, output: str) -> None:
    guids = [start(fake, "alpha"), start(fake, "beta")]
    done = tycho("status", "--terse", "-o", output, "--url", url)
    assert sorted(yaml.safe_load(done.stdout)) == sorted(guids)  # YAML reads JSON too
    if output == "json":
        assert isinstance(json.loads(done.stdout), list)
    fake.reset()
    assert yaml.safe_load(tycho("status", "--terse", "-o", output, "--url", url).stdout) == []


def test_status_terse_with_a_table_output_is_a_usage_error(fake: FakeTycho, url: str) -> None:
    done = tycho("status", "--terse", "-o", "wide", "--url", url, check=2)
    assert "--terse" in one_error_line(done.stderr)


def test_watch_is_bounded_by_the_global_timeout_too(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = tycho("status", "-w", "--interval", "0.2", "--timeout", "1", "--url", url, timeout=20)
    header, *rows = done.stdout.splitlines()
    assert header.split()[0] == "SYSTEM"
    assert [row.split()[:3] for row in rows] == [["alpha", guid, "1/1"]]  # unchanged: once
    assert len([r for r in fake.requests if r.operation == "status"]) >= 2
