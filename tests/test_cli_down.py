"""``tycho down``: by GUID or full name, --all (confirmed on a terminal), not found, ids that
are not ids, and the README's idiom on an empty and on a full server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from loopback import LoopbackServer, Recorded, Reply, closed_port, recorded_exchange
from test_cli_support import (
    TIMEOUT,
    TYCHO,
    base_env,
    in_terminal,
    one_error_line,
    start,
    tycho,
)

from tycho_client.testing.fake import FakeTycho


def deletes(fake: FakeTycho) -> list[str]:
    return [r.body["name"] for r in fake.requests if r.operation == "delete"]


def shell(script: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={**base_env(), "TYCHO": str(TYCHO), "TYCHO_URL": url},
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("systems", [0, 2])
def test_the_readme_idiom_works_on_an_empty_and_a_full_server(
    fake: FakeTycho, url: str, systems: int
) -> None:
    guids = [start(fake, f"app{n}") for n in range(systems)]
    done = shell('"$TYCHO" down $("$TYCHO" status --terse)', url)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(guids)
    assert fake.systems == {}
    if not systems:
        assert "No systems running" in done.stderr


@pytest.mark.parametrize("systems", [0, 2])
def test_down_all_works_on_an_empty_and_a_full_server(
    fake: FakeTycho, url: str, systems: int
) -> None:
    guids = [start(fake, f"app{n}") for n in range(systems)]
    done = tycho("down", "--all", "--url", url)  # not a terminal: nobody to ask
    assert sorted(done.stdout.split()) == sorted(guids)
    assert fake.systems == {}
    assert sorted(deletes(fake)) == sorted(guids)


def test_down_all_asks_on_a_terminal(fake: FakeTycho, url: str) -> None:
    guids = {start(fake, "alpha"), start(fake, "beta")}
    refused = in_terminal("down", "--all", "--url", url, on_terminal=("stdin", "stderr"),
                          typed="n\n")  # fmt: skip
    assert refused.returncode == 1
    assert "Delete all 2 running systems? [y/N]" in refused.terminal
    assert "nothing deleted" in refused.terminal
    assert set(fake.systems) == guids
    agreed = in_terminal("down", "--all", "--url", url, on_terminal=("stdin", "stderr"),
                         typed="y\n")  # fmt: skip
    assert agreed.returncode == 0
    assert set(agreed.stdout.split()) == guids
    assert fake.systems == {}


def test_down_all_yes_does_not_ask(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = in_terminal("down", "--all", "-y", "--url", url, on_terminal=("stdin", "stderr"))
    assert done.returncode == 0
    assert done.stdout.split() == [guid]
    assert "[y/N]" not in done.terminal


def test_down_without_guids_on_a_full_server_suggests_all(
    fake: FakeTycho, url: str, tmp_path: Path
) -> None:
    guid = start(fake, "alpha")
    done = tycho("down", "--url", url, check=2, cwd=tmp_path)  # no compose file there
    line = one_error_line(done.stderr)
    assert "--all" in line
    assert "1 running system" in line
    assert set(fake.systems) == {guid}
    assert deletes(fake) == []


def test_down_reports_each_unknown_guid_after_deleting_the_rest(fake: FakeTycho, url: str) -> None:
    first, second = start(fake, "alpha"), start(fake, "beta")
    unknown = "0" * 32
    done = tycho("down", first, unknown, fake.systems[second].name, "--url", url, check=1)
    assert done.stdout.split() == [first, second]
    assert one_error_line(done.stderr) == f"tycho: error: {unknown}: system not found"
    assert fake.systems == {}
    assert deletes(fake) == [first, second]  # nothing sent for the unknown one


def test_down_quiet_prints_nothing(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = tycho("down", "-q", guid, "--url", url)
    assert (done.stdout, done.stderr) == ("", "")
    assert fake.systems == {}


@pytest.mark.parametrize("argument", ["--url=http://other/", "-x", "", "---", "._."])
def test_down_refuses_what_names_no_system_before_sending(
    fake: FakeTycho, url: str, argument: str
) -> None:
    guid = start(fake, "alpha")
    done = tycho("down", "--url", url, "--", guid, argument, check=2)
    assert "not a GUID, full name or system name" in one_error_line(done.stderr)
    assert fake.requests[-1].operation == "start"  # nothing sent by down
    assert set(fake.systems) == {guid}


@pytest.mark.parametrize("argument", ["not-a-guid", "0" * 31, "A" * 32, "x;rm -rf-" + "0" * 32])
def test_down_takes_what_is_not_an_id_as_a_name_and_deletes_nothing_if_none_has_it(
    fake: FakeTycho, url: str, argument: str
) -> None:
    guid = start(fake, "alpha")
    done = tycho("down", "--url", url, "--", guid, argument, check=1)
    assert one_error_line(done.stderr) == f"tycho: error: no running system is named {argument!r}"
    assert done.stdout == ""
    assert deletes(fake) == []  # the name is checked before anything is deleted
    assert set(fake.systems) == {guid}


def test_down_continues_after_a_failure_and_exits_1() -> None:
    listing = recorded_exchange("03-status-all")["response"]["json"]
    first, second = (entry["sid"] for entry in listing["result"])

    def answer(request: Recorded) -> Reply:
        if request.path.endswith("/status"):
            return Reply.json(listing)
        if request.json()["name"] == first:
            return Reply.json({"status": "error", "result": {"error": "the cluster said no"},
                               "message": "the cluster said no"})  # fmt: skip
        return Reply.recorded("06-delete")

    with LoopbackServer(handler=answer) as loopback:
        done = tycho("down", first, second, "--url", loopback.url, check=1)
    assert done.stdout.split() == [second]
    line = one_error_line(done.stderr)
    assert first in line
    assert "the cluster said no" in line
    sent = [json.loads(r.body) for r in loopback.requests if r.path.endswith("/delete")]
    assert sent == [{"name": first}, {"name": second}]


def test_down_all_with_guids_deletes_those_only(fake: FakeTycho, url: str) -> None:
    first, second = start(fake, "alpha"), start(fake, "beta")
    done = tycho("down", "--all", first, "--url", url)  # --all takes what each SYSTEM names
    assert done.stdout.split() == [first]
    assert set(fake.systems) == {second}


def test_down_without_a_server_exits_3() -> None:
    closed = f"http://127.0.0.1:{closed_port()}"
    done = tycho("down", "0" * 32, "--url", closed, check=3)
    assert done.stdout == ""
    assert closed in one_error_line(done.stderr)


def test_down_all_asks_when_only_stdin_is_a_terminal(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = in_terminal("down", "--all", "--url", url, on_terminal=("stdin",), typed="\n")
    assert done.returncode == 1
    assert "[y/N]" in done.stderr
    assert set(fake.systems) == {guid}
