"""Issue 20, "Names everywhere": ``status``, ``down`` and ``modify`` take a system name as
``status`` shows it (SYSTEM), beside a GUID or full name; a name several systems share is exit 2
listing them (``down NAME --all`` takes them all); a name of no system is "not found", exit 1;
``tycho down`` alone in a compose folder takes down what ``tycho up`` started there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_support import base_env, one_error_line, start, tycho

from tycho_client.testing.fake import FakeTycho

COMPOSE = "services:\n  web:\n    image: nginx:1.25\n    ports: ['80']\n"


def deletes(fake: FakeTycho) -> list[str]:
    return [r.body["name"] for r in fake.requests if r.operation == "delete"]


def sent(fake: FakeTycho) -> list[str | None]:
    return [r.operation for r in fake.requests]


def full_names(fake: FakeTycho, *guids: str) -> list[str]:
    return sorted(fake.systems[guid].name for guid in guids)


# ----------------------------------------------------------------------------------- status


def test_status_by_name_lists_every_system_of_that_name(fake: FakeTycho, url: str) -> None:
    first, second, other = start(fake, "webstack"), start(fake, "webstack"), start(fake, "db")
    done = tycho("status", "webstack", "--url", url)
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["SYSTEM", "GUID", "READY", "AGE"]
    assert sorted(row.split()[:2] for row in rows) == sorted(
        [["webstack", first], ["webstack", second]]
    )
    terse = tycho("status", "webstack", "--terse", "--url", url).stdout.split()
    assert sorted(terse) == sorted([first, second])
    answer = json.loads(tycho("status", "webstack", "-o", "json", "--url", url).stdout)
    assert answer["status"] == "success"  # the shape of the answer to a GUID
    assert sorted(system["sid"] for system in answer["result"]) == sorted([first, second])
    assert other not in done.stdout


def test_status_by_guid_and_full_name_still_ask_the_server_for_that_system(
    fake: FakeTycho, url: str
) -> None:
    guid = start(fake, "webstack")
    start(fake, "webstack")
    for given in (guid, fake.systems[guid].name):
        assert tycho("status", given, "--terse", "--url", url).stdout.split() == [guid]
        assert fake.requests[-1].body == {"name": guid}


def test_status_by_the_name_up_was_given_finds_the_formatted_one(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "data-lab")
    assert tycho("status", "Data Lab", "--terse", "--url", url).stdout.split() == [guid]


def test_status_of_a_name_of_no_system_is_not_found_exit_1(fake: FakeTycho, url: str) -> None:
    start(fake, "webstack")
    done = tycho("status", "webstak", "--url", url, check=1)
    assert done.stdout == ""
    assert one_error_line(done.stderr) == "tycho: error: no running system is named 'webstak'"
    watched = tycho("status", "webstak", "--watch", "--url", url, check=1)
    assert "no running system is named 'webstak'" in one_error_line(watched.stderr)


def test_status_watch_by_name_shows_that_name_only(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "webstack")
    start(fake, "db")
    done = tycho("status", "webstack", "-w", "--interval", "0.2", "--watch-timeout", "0.5",
                 "--url", url)  # fmt: skip
    header, *rows = done.stdout.splitlines()
    assert header.split()[0] == "SYSTEM"
    assert [row.split()[:3] for row in rows] == [["webstack", guid, "1/1"]]


# ------------------------------------------------------------------------------------- down


def test_down_by_name_deletes_exactly_that_system(fake: FakeTycho, url: str) -> None:
    guid, other = start(fake, "webstack"), start(fake, "db")
    done = tycho("down", "webstack", "--url", url)
    assert (done.stdout, done.stderr) == (f"{guid}\n", "")
    assert set(fake.systems) == {other}
    assert sent(fake)[-2:] == ["status", "delete"]  # one status request, then the delete


def test_down_of_a_name_several_share_lists_them_and_deletes_nothing(
    fake: FakeTycho, url: str
) -> None:
    guids = [start(fake, "webstack"), start(fake, "webstack")]
    done = tycho("down", "webstack", "--url", url, check=2)
    listed = ", ".join(full_names(fake, *guids))
    assert one_error_line(done.stderr) == (
        f"tycho: error: 'webstack' names 2 running systems ({listed}): give one's GUID, or "
        "--all to delete them all"
    )
    assert done.stdout == ""
    assert deletes(fake) == []
    assert set(fake.systems) == set(guids)


def test_down_name_all_takes_every_system_of_that_name(fake: FakeTycho, url: str) -> None:
    guids = [start(fake, "webstack"), start(fake, "webstack")]
    other = start(fake, "db")
    done = tycho("down", "webstack", "--all", "--url", url)
    assert sorted(done.stdout.split()) == sorted(guids)
    assert set(fake.systems) == {other}  # --all with a name: that name's systems only


def test_down_of_a_name_of_no_system_deletes_nothing_exit_1(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "webstack")
    done = tycho("down", guid, "gone", "--url", url, check=1)
    assert one_error_line(done.stderr) == "tycho: error: no running system is named 'gone'"
    assert deletes(fake) == []  # checked before any delete, the GUID's included
    assert set(fake.systems) == {guid}


def test_down_by_the_name_up_was_given(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "data-lab")
    assert tycho("down", "Data Lab", "--url", url).stdout.split() == [guid]
    assert fake.systems == {}


def test_down_mixes_names_guids_and_full_names_each_system_once(fake: FakeTycho, url: str) -> None:
    web, db = start(fake, "webstack"), start(fake, "db")
    done = tycho("down", "webstack", db, fake.systems[db].name, web, "--url", url)
    assert done.stdout.split() == [web, db]
    assert deletes(fake) == [web, db]


def test_a_long_list_of_systems_sharing_a_name_stays_one_readable_line(
    fake: FakeTycho, url: str
) -> None:
    for _ in range(7):
        start(fake, "webstack")
    line = one_error_line(tycho("down", "webstack", "--url", url, check=2).stderr)
    assert "names 7 running systems" in line
    assert "and 2 more): give one's GUID, or --all" in line


# ------------------------------------------------------------------ down in a compose folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A compose folder named "Web Stack": tycho up names its systems web-stack."""
    folder = tmp_path / "Web Stack"
    folder.mkdir()
    (folder / "docker-compose.yaml").write_text(COMPOSE)
    return folder


def test_down_in_a_compose_folder_takes_down_what_up_started_there(
    fake: FakeTycho, url: str, project: Path
) -> None:
    other = start(fake, "db")
    started = tycho("up", "-q", "--url", url, cwd=project).stdout.split()
    assert fake.systems[started[0]].app_id == "web-stack"
    done = tycho("down", "--url", url, cwd=project)
    assert (done.stdout.split(), done.stderr) == (started, "")
    assert set(fake.systems) == {other}


def test_down_in_a_compose_folder_takes_all_systems_of_its_name(
    fake: FakeTycho, url: str, project: Path
) -> None:
    guids = [tycho("up", "-q", "--url", url, cwd=project).stdout.strip() for _ in range(2)]
    other = start(fake, "db")
    done = tycho("down", "--url", url, cwd=project)
    assert sorted(done.stdout.split()) == sorted(guids)
    assert done.stderr == "Deleted all 2 systems named web-stack.\n"
    assert set(fake.systems) == {other}


def test_down_in_a_compose_folder_with_nothing_of_its_name_running_says_so(
    fake: FakeTycho, url: str, project: Path
) -> None:
    other = start(fake, "db")
    done = tycho("down", "--url", url, cwd=project)
    assert done.stdout == ""
    assert done.stderr == (
        "No system named web-stack (started from docker-compose.yaml here) is running. "
        "Nothing to delete.\n"
    )
    assert set(fake.systems) == {other}


def test_down_all_in_a_compose_folder_is_still_every_system(
    fake: FakeTycho, url: str, project: Path
) -> None:
    guids = {start(fake, "db"), start(fake, "web-stack")}
    done = tycho("down", "--all", "--url", url, cwd=project)  # not a terminal: not asked
    assert set(done.stdout.split()) == guids
    assert fake.systems == {}


def test_down_in_a_compose_folder_does_not_read_the_file(
    fake: FakeTycho, url: str, project: Path
) -> None:
    guid = start(fake, "web-stack")
    (project / "docker-compose.yaml").write_text("services: [not, a, compose, file\n")
    assert tycho("down", "--url", url, cwd=project).stdout.split() == [guid]


def test_down_alone_elsewhere_suggests_names_and_all(
    fake: FakeTycho, url: str, tmp_path: Path
) -> None:
    start(fake, "db")
    done = tycho("down", "--url", url, cwd=tmp_path, check=2)
    line = one_error_line(done.stderr)
    assert "system names or GUIDs" in line
    assert "--all to delete all 1 running system" in line
    assert "compose file" in line
    assert deletes(fake) == []


# ----------------------------------------------------------------------------------- modify


def test_modify_by_the_name_of_one_system(fake: FakeTycho, url: str) -> None:
    fake.modify_supported = True
    guid, other = start(fake, "webstack"), start(fake, "db")
    done = tycho("modify", "webstack", "--label", "team=data", "--url", url)
    assert done.stdout == f"{guid} modified (1 deployment patched)\n"
    assert fake.systems[guid].labels == {"team": "data"}
    assert fake.systems[other].labels == {}


def test_modify_of_a_name_several_share_lists_them_and_changes_nothing(
    fake: FakeTycho, url: str
) -> None:
    fake.modify_supported = True
    guids = [start(fake, "webstack"), start(fake, "webstack")]
    done = tycho("modify", "webstack", "--cpu", "1", "--url", url, check=2)
    listed = ", ".join(full_names(fake, *guids))
    assert one_error_line(done.stderr) == (
        f"tycho: error: 'webstack' names 2 running systems ({listed}): give the GUID of the "
        "one to modify"
    )
    assert "modify" not in sent(fake)


def test_modify_of_a_name_of_no_system_is_not_found(fake: FakeTycho, url: str) -> None:
    fake.modify_supported = True
    done = tycho("modify", "webstack", "--cpu", "1", "--url", url, check=1)
    assert one_error_line(done.stderr) == "tycho: error: no running system is named 'webstack'"
    assert sent(fake) == ["status"]


# ------------------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("status", "tycho status webstack"),
        ("down", "tycho down webstack --all"),
        ("down", "tycho down                               what tycho up started"),
        ("modify", "tycho modify webstack --label team=data"),
    ],
)
def test_each_commands_help_shows_names(command: str, example: str) -> None:
    done = tycho(command, "--help", env={**base_env(), "COLUMNS": "100"})
    assert example in done.stdout
    assert "SYSTEM" in done.stdout
