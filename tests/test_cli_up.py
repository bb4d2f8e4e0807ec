"""``tycho up``: from a compose file (given, on stdin, or found in the current folder) or from
flags (quick launch); tables that say what their ports are; --wait; -o with --dry-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_cli_support import (
    CANARY,
    base_env,
    in_terminal,
    one_error_line,
    tycho,
)

from tycho_client.cli._project import renamed
from tycho_client.cli.up import LEGEND, NOT_WAITED
from tycho_client.naming import format_name
from tycho_client.testing.fake import FakeTycho

COMPOSE = """\
services:
  web:
    image: nginx:1.25
    ports:
      - "${WEB_PORT}:80"
    environment:
      - API_TOKEN=${API_TOKEN}
"""
ENV = f"WEB_PORT=8080\nAPI_TOKEN={CANARY}\n"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A compose file in a directory named "My App", with a .env beside it."""
    directory = tmp_path / "My App"
    directory.mkdir()
    (directory / ".env").write_text(ENV)
    compose = directory / "docker-compose.yaml"
    compose.write_text(COMPOSE)
    return compose


def test_up_table_names_the_node_port(fake: FakeTycho, url: str, app: Path) -> None:
    done = tycho("up", "-f", str(app), "--url", url)
    (guid,) = fake.systems
    system = fake.systems[guid]
    assert system.app_id == "my-app"  # the directory name as a DNS label
    assert system.env == {"WEB_PORT": "8080", "API_TOKEN": CANARY}  # .env beside the file
    header, row = done.stdout.splitlines()
    assert header.split() == ["SERVICE", "GUID", "IP_ADDRESS", "NODE_PORT"]
    assert row.split() == ["web", guid, "<none>", str(system.containers["web"]["port-1"])]
    assert done.stderr == ""  # the legend is for a person at a terminal, never for a pipe
    assert CANARY not in done.stdout + done.stderr


def test_the_legend_is_shown_once_per_terminal_session(
    fake: FakeTycho, url: str, app: Path, tmp_path: Path
) -> None:
    env = {**base_env(), "XDG_STATE_HOME": str(tmp_path / "state")}
    first = in_terminal("up", "-f", str(app), "--url", url, env=env)
    assert (first.returncode, first.terminal.splitlines()) == (0, [LEGEND, NOT_WAITED])
    assert "nodePort" in LEGEND
    assert len(first.stdout.splitlines()) == 2  # the table, on its pipe
    again = in_terminal("up", "-f", str(app), "--url", url, env=env)
    assert (again.returncode, again.terminal) == (0, "")
    other_session = in_terminal("up", "-f", str(app), "--url", url, env=env, new_session=True)
    assert other_session.terminal.splitlines() == [LEGEND, NOT_WAITED]


def test_the_legend_is_shown_where_nothing_can_be_remembered(
    fake: FakeTycho, url: str, app: Path
) -> None:
    for _ in range(2):  # base_env's state folder cannot be made: shown each time, no failure
        done = in_terminal("up", "-f", str(app), "--url", url)
        assert (done.returncode, done.terminal.splitlines()) == (0, [LEGEND, NOT_WAITED])


def test_quiet_up_shows_no_legend_on_a_terminal(
    fake: FakeTycho, url: str, app: Path, tmp_path: Path
) -> None:
    env = {**base_env(), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = in_terminal("up", "-f", str(app), "-q", "--url", url, env=env)
    assert (done.returncode, done.terminal) == (0, "")
    assert done.stdout.strip() in fake.systems
    assert not (tmp_path / "state").exists()  # nothing shown, nothing remembered


def test_up_quiet_and_no_headers(fake: FakeTycho, url: str, app: Path) -> None:
    quiet = tycho("up", "-f", str(app), "-q", "--url", url)
    assert quiet.stdout.strip() in fake.systems
    assert quiet.stderr == ""
    bare = tycho("up", "-f", str(app), "--no-headers", "--url", url)
    assert bare.stdout.split()[0] == "web"
    assert bare.stderr == ""


def test_up_json_with_env_file_and_name_before_the_subcommand(
    fake: FakeTycho, url: str, app: Path, tmp_path: Path
) -> None:
    other_env = tmp_path / "other.env"
    other_env.write_text("WEB_PORT=9090\nAPI_TOKEN=other\n")
    done = tycho("--url", url, "up", "-f", str(app), "--env-file", str(other_env),
                 "-n", "Data Lab", "-o", "json")  # fmt: skip
    answer = json.loads(done.stdout)
    assert answer["status"] == "success"
    sid = answer["result"]["sid"]
    assert answer["result"]["name"] == f"data-lab-{sid}"
    assert fake.systems[sid].env == {"WEB_PORT": "9090", "API_TOKEN": "other"}
    assert fake.systems[sid].services == {"web": {"port": "80", "clients": []}}
    assert done.stderr == ""


def test_up_dry_run_sends_nothing_and_redacts_env(fake: FakeTycho, app: Path) -> None:
    done = tycho("up", "-f", str(app), "--dry-run")  # no --url: nothing may be resolved
    request = json.loads(done.stdout)
    assert request["name"] == "my-app"
    assert request["env"] == {"WEB_PORT": "***", "API_TOKEN": "***"}
    assert request["services"] == {"web": {"port": "80", "clients": []}}
    # ${API_TOKEN} put the value into the compose document too: masked there as well.
    assert request["system"]["services"]["web"]["environment"] == ["API_TOKEN=***"]
    assert json.loads(request["principal"]) == {"username": "cli-tester"}
    assert CANARY not in done.stdout + done.stderr
    assert fake.requests == []


def test_up_dry_run_honours_output(fake: FakeTycho, app: Path) -> None:
    as_json = json.loads(tycho("up", "-f", str(app), "--dry-run").stdout)
    as_yaml = yaml.safe_load(tycho("up", "-f", str(app), "--dry-run", "-o", "yaml").stdout)
    assert as_yaml == as_json
    table = tycho("up", "-f", str(app), "--dry-run", "-o", "table")
    header, row = table.stdout.splitlines()
    assert header.split() == ["SERVICE", "IMAGE", "PORTS", "SERVICE_PORT"]
    assert row.split() == ["web", "nginx:1.25", "***:80", "80"]  # the port came from .env
    assert "nothing was sent" in table.stderr
    assert CANARY not in table.stdout + table.stderr
    assert fake.requests == []


def test_up_reads_the_compose_file_from_stdin(fake: FakeTycho, url: str, tmp_path: Path) -> None:
    folder = tmp_path / "piped"
    folder.mkdir()
    (folder / ".env").write_text(ENV)  # stdin's .env is the current folder's
    done = tycho("up", "-f", "-", "-q", "--url", url, input=COMPOSE, cwd=folder)
    system = fake.systems[done.stdout.strip()]
    assert system.app_id == "piped"
    assert system.env["API_TOKEN"] == CANARY


def test_up_finds_the_compose_file_in_the_current_folder(
    fake: FakeTycho, url: str, tmp_path: Path
) -> None:
    (tmp_path / "docker-compose.yaml").write_text(COMPOSE.replace("nginx:1.25", "older"))
    (tmp_path / ".env").write_text(ENV)
    done = tycho("up", "-q", "--url", url, cwd=tmp_path)
    assert fake.systems[done.stdout.strip()].images == {"web": "older"}
    assert done.stderr == ""
    # compose.yaml wins over docker-compose.yaml, as with docker compose; the choice is named.
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    done = tycho("up", "-q", "--url", url, cwd=tmp_path)
    assert fake.systems[done.stdout.strip()].images == {"web": "nginx:1.25"}
    assert "using compose.yaml" in done.stderr


def test_up_without_a_compose_file_is_a_usage_error(fake: FakeTycho, url: str,
                                                    tmp_path: Path) -> None:  # fmt: skip
    done = tycho("up", "--url", url, cwd=tmp_path, check=2)
    line = one_error_line(done.stderr)
    assert "-f PATH" in line
    assert "docker-compose.yaml" in line
    assert fake.requests == []


def test_up_missing_files_are_usage_errors(fake: FakeTycho, url: str, app: Path) -> None:
    done = tycho("up", "-f", str(app), "--env-file", str(app.parent / "absent.env"),
                 "--url", url, check=2)  # fmt: skip
    assert "absent.env" in one_error_line(done.stderr)
    done = tycho("up", "-f", str(app.parent / "nope.yaml"), "--url", url, check=2)
    assert "nope.yaml not found" in one_error_line(done.stderr)
    assert fake.requests == []


# -------------------------------------------------------------------------------- names

NOTE = "tycho: note: using the system name {!r} for {!r}\n"


def test_up_says_which_system_name_it_used_for_a_name_with_accents(
    fake: FakeTycho, app: Path
) -> None:
    done = tycho("up", "-f", str(app), "--dry-run", "-n", "Mon Café ☕ app")
    assert json.loads(done.stdout)["name"] == "mon-cafe-app"
    assert done.stderr == NOTE.format("mon-cafe-app", "Mon Café ☕ app")
    quiet = tycho("up", "-f", str(app), "--dry-run", "-n", "Mon Café ☕ app", "-q")
    assert json.loads(quiet.stdout)["name"] == "mon-cafe-app"
    assert quiet.stderr == ""
    assert fake.requests == []


def test_up_notes_the_name_before_starting_the_system(fake: FakeTycho, url: str, app: Path) -> None:
    done = tycho("up", "-f", str(app), "-n", "Straße", "--no-headers", "--url", url)
    (guid,) = fake.systems
    assert fake.systems[guid].app_id == "strasse"
    assert done.stderr == NOTE.format("strasse", "Straße")


def test_up_notes_a_name_taken_from_the_folder(fake: FakeTycho, tmp_path: Path) -> None:
    folder = tmp_path / "Café Olé"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / ".env").write_text(ENV)
    done = tycho("up", "--dry-run", "-o", "table", cwd=folder)
    assert done.stderr.splitlines()[0] == NOTE.format("cafe-ole", "Café Olé").strip()
    assert done.stderr.splitlines()[1] == "dry run: cafe-ole would be started; nothing was sent"


def test_up_notes_a_long_name_cut_short_quoting_only_its_start(fake: FakeTycho, app: Path) -> None:
    name = "Analysis " * 20
    done = tycho("up", "-f", str(app), "--dry-run", "-n", name)
    used = json.loads(done.stdout)["name"]
    assert len(used) == 30
    assert done.stderr == NOTE.format(used, name[:60] + "...")


def test_quick_launch_notes_only_a_name_given_with_n(fake: FakeTycho) -> None:
    done = tycho("up", "-c", "nginx:1.25", "-p", "80", "-n", "Ærø", "--dry-run")
    assert json.loads(done.stdout)["name"] == "aero"
    assert done.stderr == NOTE.format("aero", "Ærø")
    # Named after the image, cut short with a hash: not a name anybody chose, so no note.
    image = "example/a-very-long-image-name-for-a-notebook:1"
    done = tycho("up", "-c", image, "-p", "80", "--dry-run")
    assert len(json.loads(done.stdout)["name"]) == 30
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("given", "noted"),
    [
        ("my-app", False),
        ("My App", False),  # my-app: case and spaces are plain to see
        ("Data Lab", False),
        ("my_app.v2/", False),
        ("n" * 30, False),
        ("n" * 31, True),  # cut short to 30 characters with a hash
        ("Mon Café ☕ app", True),  # mon-cafe-app: accents taken off, the cup dropped
        ("Straße", True),  # strasse
        ("日本語 app", True),  # app: letters dropped
        ("Data\u00a0Lab", True),  # data-lab, but a no-break space only looks like a space
    ],
)
def test_a_name_is_noted_when_more_than_case_and_punctuation_changed(
    given: str, noted: bool
) -> None:
    assert renamed(given, format_name(given)) is noted


# ------------------------------------------------------------------------- quick launch


def test_quick_launch_builds_the_compose_document(fake: FakeTycho, url: str) -> None:
    done = tycho("up", "--image", "jupyter/minimal-notebook:2024", "-p", "8888", "-p", "9000",
                 "--command", "start-notebook.sh --NotebookApp.token=''",
                 "-v", "pvc://home/alice:/home/jovyan", "-e", f"TOKEN={CANARY}",
                 "-n", "Note Book", "-o", "json", "--url", url)  # fmt: skip
    sid = json.loads(done.stdout)["result"]["sid"]
    system = fake.systems[sid]
    assert system.app_id == "note-book"
    assert system.compose["services"] == {
        "note-book": {
            "image": "jupyter/minimal-notebook:2024",
            # `entrypoint`, as the original client sent --command: servers ignore `command`.
            "entrypoint": ["start-notebook.sh", "--NotebookApp.token="],
            "ports": ["8888", "9000"],
            "volumes": ["pvc://home/alice:/home/jovyan"],
            "environment": [f"TOKEN={CANARY}"],
        }
    }
    assert system.services == {"note-book": {"port": "8888", "clients": []}}
    assert system.env == {"TOKEN": CANARY}
    assert CANARY not in done.stdout + done.stderr


def test_quick_launch_dry_run_shows_the_document_with_values_masked(fake: FakeTycho) -> None:
    done = tycho("up", "-c", "nginx:1.25", "-p", "80", "-e", f"SECRET={CANARY}", "--dry-run")
    request = json.loads(done.stdout)
    assert request["name"] == "nginx"  # named after the image
    assert request["system"]["services"]["nginx"]["environment"] == ["SECRET=***"]
    assert CANARY not in done.stdout + done.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--image", "nginx"], "--port"),
        (["-p", "80"], "--image"),
        (["--image", "nginx", "-p", "80", "-f", "x.yaml"], "not both"),
        (["--image", "nginx", "-p", "80", "-v", "/host:/data"], "volumes[0]"),
        (["--image", "nginx", "-p", "80", "-e", "1BAD=x"], "KEY=VALUE"),
        (["--image", "nginx", "-p", "80", "--command", "unclosed 'quote"], "--command"),
    ],
)
def test_quick_launch_mistakes_are_usage_errors(
    fake: FakeTycho, url: str, args: list[str], expected: str
) -> None:
    done = tycho("up", *args, "--url", url, check=2)
    assert expected in one_error_line(done.stderr)
    assert fake.requests == []


# -------------------------------------------------------------------------------- --wait


def test_up_wait_says_ready_and_shows_no_progress_when_piped(
    fake: FakeTycho, url: str, app: Path
) -> None:
    fake.ready_after = 2
    done = tycho("up", "-f", str(app), "--wait", "-o", "json", "--url", url)
    sid = json.loads(done.stdout)["result"]["sid"]
    assert [r.operation for r in fake.requests] == ["start", "status", "status", "status"]
    assert fake.requests[1].body == {"name": sid}
    assert done.stderr == f"my-app-{sid} is ready after {done.stderr.split()[-2]} s\n"


def test_up_wait_on_a_terminal_says_table_progress_ready_then_legend(
    fake: FakeTycho, url: str, app: Path
) -> None:
    fake.ready_after = 1
    done = in_terminal("up", "-f", str(app), "--wait", "--url", url,
                       on_terminal=("stdout", "stderr"))  # fmt: skip
    assert done.returncode == 0
    (sid,) = fake.systems
    # Lines as the terminal shows them: each \r\x1b[K erases what the line held before.
    lines = [line.rpartition("\x1b[K")[2] for line in done.terminal.split("\r\n")[:-1]]
    assert lines[0].split() == ["SERVICE", "GUID", "IP_ADDRESS", "NODE_PORT"]
    assert lines[1].split()[:2] == ["web", sid]
    assert "waiting for my-app-" in done.terminal  # the progress, erased before the ready line
    ready = f"my-app-{sid} is ready after {lines[2].split()[-2]} s"
    assert lines[2:] == [ready, LEGEND]  # no "tycho status shows when..." once it is ready


def test_up_wait_timeout_exits_1_naming_the_system_with_progress_on_a_terminal(
    fake: FakeTycho, url: str, app: Path
) -> None:
    fake.ready_after = 1000
    done = in_terminal("up", "-f", str(app), "--wait", "--wait-timeout", "1.2", "--url", url)
    assert done.returncode == 1
    (sid,) = fake.systems
    assert sid in done.stdout  # the table came first: the system exists
    assert "\r" not in done.stdout
    progress, _, last = done.terminal.rpartition("\x1b[K")  # the progress line is erased
    assert "waiting for my-app-" in progress
    assert "(0/1 deployments ready) ... " in progress
    assert last.startswith("tycho: error: ")
    assert f"my-app-{sid} not ready within 1.2 s: 0/1 deployments ready" in last
    assert "Traceback" not in done.terminal


def test_up_wait_timeout_shorter_than_a_poll_still_checks(
    fake: FakeTycho, url: str, app: Path
) -> None:
    fake.ready_after = 1000
    done = tycho("up", "-f", str(app), "--wait", "--wait-timeout", "0.1", "-q", "--url", url,
                 check=1)  # fmt: skip
    assert "not ready within 0.1 s" in one_error_line(done.stderr)
    assert [r.operation for r in fake.requests][:2] == ["start", "status"]


def test_up_env_values_never_reach_output_on_errors(fake: FakeTycho, url: str, app: Path) -> None:
    fake.fail_next(1, status=200, body="refused")
    done = tycho("up", "-f", str(app), "--url", url, env=base_env(), check=1)
    assert "refused" in one_error_line(done.stderr)
    assert CANARY not in done.stdout + done.stderr
