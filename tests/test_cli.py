"""The installed ``tycho`` console script, run in a subprocess against loopback servers.

A FakeTycho is served on 127.0.0.1 by this test process; tests read and set its state directly.
Subprocesses get an environment without TYCHO_URL/TYCHO_TOKEN and with KUBECONFIG pointing at a
missing file, so no test reaches a real cluster or server.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackServer, Reply

import tycho_client
from tycho_client.cli import main
from tycho_client.client import TychoClient
from tycho_client.testing.fake import FakeTycho
from tycho_client.testing.spec import spec_text

TYCHO = Path(sys.executable).parent / "tycho"
SAMPLES = Path(__file__).parent / "fixtures" / "samples"
TIMEOUT = 60
CANARY = "canary-9f3e1d-not-for-output"

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


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeTycho, str]]:
    fake = FakeTycho()
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeTycho, str]) -> FakeTycho:
    served[0].reset()
    served[0].ready_after = 0
    served[0].modify_supported = True
    return served[0]


@pytest.fixture
def url(served: tuple[FakeTycho, str]) -> str:
    return served[1]


@pytest.fixture(scope="module")
def closed_url() -> str:
    """A loopback URL nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A compose file in a directory named "My App", with a .env beside it."""
    directory = tmp_path / "My App"
    directory.mkdir()
    (directory / ".env").write_text(ENV)
    compose = directory / "docker-compose.yaml"
    compose.write_text(COMPOSE)
    return compose


# Settings of the developer's shell that must not reach the CLI under test. Without
# PYTHONDONTWRITEBYTECODE, runs use bytecode caches as an installed package does (~0.2 s less).
DROPPED_ENV = ("TYCHO_URL", "TYCHO_TOKEN", "KUBERNETES_SERVICE_HOST", "PYTHONDONTWRITEBYTECODE")


def base_env(tmp: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env["KUBECONFIG"] = str((tmp or Path("/nonexistent")) / "no-kubeconfig")
    env["TYCHO_USERNAME"] = "cli-tester"
    return env


def tycho(
    *args: str, env: Mapping[str, str] | None = None, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script; assert its exit code unless ``check`` is None."""
    done = subprocess.run(
        [str(TYCHO), *args],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else base_env(),
        timeout=TIMEOUT,
    )
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


def one_error_line(stderr: str) -> str:
    """stderr holds exactly one line, ``tycho: error: ...``, and no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tycho: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def start(fake: FakeTycho, name: str, port: str = "80") -> str:
    """Start a system on the fake directly (no subprocess); its GUID."""
    system = {"services": {name: {"image": "nginx", "ports": [port]}}}
    with TychoClient("http://fake.test", transport=fake) as client:
        return client.up(name, system).result.sid


def test_console_script_is_installed() -> None:
    assert TYCHO.is_file(), f"{TYCHO} missing: pip install -e . --no-deps"


# -------------------------------------------------------------------------------- help


def test_help_documents_commands_exit_codes_and_environment() -> None:
    done = tycho("--help")
    for command in ("up", "status", "down", "modify", "validate", "spec", "mock"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), command
    for code in ("0  success", "1  the server answered", "2  usage", "3  no server"):
        assert code in done.stdout
    assert "TYCHO_URL" in done.stdout
    assert "TYCHO_TOKEN" in done.stdout
    assert done.stderr == ""


def test_version_through_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tycho_client", "--version"],
        capture_output=True,
        text=True,
        env=base_env(),
        timeout=TIMEOUT,
        check=True,
    )
    assert done.stdout.strip() == f"tycho {tycho_client.__version__}"


def test_usage_errors_exit_2(url: str) -> None:
    done = tycho("status", "--output", "xml", "--url", url, check=2)
    line = one_error_line(done.stderr)
    assert "invalid choice" in line
    assert "tycho status --help" in line
    assert done.stdout == ""


# ---------------------------------------------------------------------------- start-up

HEAVY = ("kubernetes", "yaml", "jsonschema", "referencing", "httpx", "pydantic")
PROBE = """
import sys
from tycho_client.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = {heavy!r}
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
spec = sorted(m for m in sys.modules if m.startswith("tycho_client.testing"))
print(code, ",".join(loaded) or "-", ",".join(spec) or "-", file=sys.stderr)
"""


def imported(*args: str) -> tuple[int, set[str], str]:
    """Run main(args) in a fresh interpreter; its exit code, heavy top-level modules loaded,
    and the tycho_client.testing modules loaded (the OpenAPI document lives there)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        env=base_env(),
        timeout=TIMEOUT,
        check=True,
    )
    code, loaded, spec = done.stderr.splitlines()[-1].split(" ")
    return int(code), set(loaded.split(",")) - {"-"}, spec


def test_help_imports_no_http_models_yaml_or_kubernetes() -> None:
    code, loaded, spec = imported("--help")
    assert code == 0
    assert loaded == set()
    assert spec == "-"


@pytest.mark.parametrize("command", ["status", "down"])
def test_status_and_down_import_neither_kubernetes_yaml_nor_the_document(
    fake: FakeTycho, url: str, command: str
) -> None:
    args = ["status"] if command == "status" else ["down", start(fake, "probe")]
    code, loaded, spec = imported(*args, "--url", url)
    assert code == 0
    assert {"httpx", "pydantic"} <= loaded  # the probe did reach the server
    assert not loaded & {"kubernetes", "yaml", "jsonschema", "referencing"}
    assert spec == "-"


# ---------------------------------------------------------------------------------- up


def test_up_prints_the_reference_table(fake: FakeTycho, url: str, app: Path) -> None:
    done = tycho("up", "-f", str(app), "--url", url)
    (guid,) = fake.systems
    system = fake.systems[guid]
    assert system.app_id == "my-app"  # the directory name as a DNS label
    assert system.env == {"WEB_PORT": "8080", "API_TOKEN": CANARY}  # .env beside the file
    header, row = done.stdout.splitlines()
    assert header.split() == ["SERVICE", "GUID", "IP_ADDRESS", "PORT"]
    assert row.split() == ["web", guid, "<none>", str(system.containers["web"]["port-1"])]
    assert CANARY not in done.stdout + done.stderr


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
    assert fake.systems == {}


def test_up_missing_env_file_is_a_usage_error(fake: FakeTycho, url: str, app: Path) -> None:
    done = tycho("up", "-f", str(app), "--env-file", str(app.parent / "absent.env"),
                 "--url", url, check=2)  # fmt: skip
    assert "absent.env" in one_error_line(done.stderr)
    assert fake.requests == []


def test_up_missing_compose_file_is_a_usage_error(url: str, tmp_path: Path) -> None:
    done = tycho("up", "-f", str(tmp_path / "nope.yaml"), "--url", url, check=2)
    assert "nope.yaml not found" in one_error_line(done.stderr)


def test_up_wait_returns_when_ready_and_is_quiet_when_piped(
    fake: FakeTycho, url: str, app: Path
) -> None:
    done = tycho("up", "-f", str(app), "--wait", "-o", "json", "--url", url)
    sid = json.loads(done.stdout)["result"]["sid"]
    assert [r.operation for r in fake.requests] == ["start", "status"]
    assert fake.requests[1].body == {"name": sid}
    assert done.stderr == ""  # no progress line when stderr is not a terminal


def test_up_wait_shows_progress_on_a_terminal_and_timeout_names_the_guid(
    fake: FakeTycho, url: str, app: Path
) -> None:
    fake.ready_after = 1000
    controller, terminal = pty.openpty()  # stderr is a terminal; stdout stays a pipe
    try:
        done = subprocess.run(
            [str(TYCHO), "up", "-f", str(app), "--wait", "--wait-timeout", "1", "--url", url],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=base_env(),
            timeout=TIMEOUT,
        )
        os.close(terminal)
        shown = _read_all(controller)
    finally:
        os.close(controller)
    assert done.returncode == 1
    (sid,) = fake.systems
    assert sid in done.stdout  # the table came first: the system exists
    assert "\r" not in done.stdout
    progress, _, last = shown.rpartition("\x1b[K")  # the progress line is erased at the end
    assert f"waiting for {sid} to be ready ... " in progress
    assert last.startswith("tycho: error: ")
    assert sid in last
    assert "not ready" in last
    assert "Traceback" not in shown


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


# ------------------------------------------------------------------------------ status


def test_status_table(fake: FakeTycho, url: str) -> None:
    guids = [start(fake, "alpha"), start(fake, "beta")]
    done = tycho("status", "--url", url)
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["SYSTEM", "GUID", "IP_ADDRESS", "PORT", "CREATION_TIME"]
    by_guid = {row.split()[1]: row.split() for row in rows}
    assert set(by_guid) == set(guids)
    for guid in guids:
        system = fake.systems[guid]
        assert by_guid[guid][0] == system.app_id
        assert " ".join(by_guid[guid][4:]) == system.creation_time


def test_status_empty_says_none_running(fake: FakeTycho, url: str) -> None:
    assert tycho("status", "--url", url).stdout == "None running\n"


def test_status_of_one_guid_as_json(fake: FakeTycho, url: str) -> None:
    wanted = start(fake, "alpha")
    start(fake, "beta")
    answer = json.loads(tycho("status", wanted, "-o", "json", "--url", url).stdout)
    assert [system["sid"] for system in answer["result"]] == [wanted]
    assert answer["result"][0]["app_id"] == "alpha"


def test_status_yaml_from_tycho_url(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    env = {**base_env(), "TYCHO_URL": url}
    answer = yaml.safe_load(tycho("status", "-o", "yaml", env=env).stdout)
    assert [system["sid"] for system in answer["result"]] == [guid]


def test_token_from_environment_is_sent_and_recorded_table_renders(
    loopback: LoopbackServer,
) -> None:
    loopback.add(Reply.recorded("03-status-all"))
    env = {**base_env(), "TYCHO_URL": loopback.url, "TYCHO_TOKEN": CANARY}
    done = tycho("status", env=env)
    assert loopback.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    rows = [line.split()[:2] for line in done.stdout.splitlines()[1:]]
    assert rows == [
        ["jupyter-ds", "e483439d77be44d791466e05d9cc5ecc"],
        ["webstack", "b9ffda00e47c4d83b88f97f6fcf7e38e"],
    ]


# -------------------------------------------------------------------------------- down


def test_down_of_status_terse_through_a_pipe(fake: FakeTycho, url: str) -> None:
    guids = [start(fake, "alpha"), start(fake, "beta")]
    script = f'"$TYCHO" down $("$TYCHO" status -terse --url {url}) --url {url}'
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={**base_env(), "TYCHO": str(TYCHO)},
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(guids)
    assert fake.systems == {}


def test_down_continues_after_a_failure_and_exits_1(fake: FakeTycho, url: str) -> None:
    first, second = start(fake, "alpha"), start(fake, "beta")
    fake.fail_next(1, status=200, body="the cluster said no")
    done = tycho("down", first, second, "--url", url, check=1)
    assert done.stdout.split() == [second]
    line = one_error_line(done.stderr)
    assert first in line
    assert "the cluster said no" in line
    assert set(fake.systems) == {first}


def test_down_without_a_server_exits_3(closed_url: str) -> None:
    done = tycho("down", "0" * 32, "--url", closed_url, check=3)
    assert done.stdout == ""
    assert closed_url in one_error_line(done.stderr)


# ------------------------------------------------------------------------------ modify


def test_modify_labels_and_resources(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    done = tycho("modify", guid, "--label", "team=data", "--cpu", "500m", "--memory", "1G",
                 "--url", url, "-o", "json")  # fmt: skip
    assert json.loads(done.stdout)["status"] == "success"
    assert fake.systems[guid].labels == {"team": "data"}
    assert fake.systems[guid].resources == {"cpu": "500m", "memory": "1G"}


def test_modify_on_a_server_without_modify_exits_1(fake: FakeTycho, url: str) -> None:
    fake.modify_supported = False
    done = tycho("modify", start(fake, "alpha"), "--cpu", "1", "--url", url, check=1)
    assert "does not support" in one_error_line(done.stderr)


def test_modify_with_nothing_to_change_is_a_usage_error(fake: FakeTycho, url: str) -> None:
    done = tycho("modify", "0" * 32, "--url", url, check=2)
    assert "--label" in one_error_line(done.stderr)
    assert fake.requests == []


# ----------------------------------------------------------------------- server errors


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, "kaboom on the server", "kaboom on the server"),  # TychoAPIError
        (500, {"message": "Internal Server Error"}, "HTTP 500"),  # TychoServerError
        (200, {"status": "success", "result": 7, "message": ""}, "result"),  # TychoResponseError
    ],
)
def test_server_errors_exit_1_with_one_line(
    fake: FakeTycho, url: str, status: int, body: object, expected: str
) -> None:
    fake.fail_next(1, status=status, body=body)
    done = tycho("status", "--url", url, check=1)
    assert done.stdout == ""
    assert expected in one_error_line(done.stderr)


def test_debug_shows_the_traceback(fake: FakeTycho, url: str) -> None:
    fake.fail_next(1, status=200, body="kaboom on the server")
    done = tycho("--debug", "status", "--url", url, check=1)
    assert "Traceback (most recent call last)" in done.stderr
    assert "TychoAPIError" in done.stderr
    assert "DEBUG tycho_client" in done.stderr  # the client's request log
    assert done.stderr.rstrip().splitlines()[-1].startswith("tycho: error: ")


# ------------------------------------------------------------------------- no server


def test_refused_connection_exits_3_naming_url_and_source(closed_url: str) -> None:
    done = tycho("status", "--url", closed_url, "--token", CANARY, check=3)
    line = one_error_line(done.stderr)
    assert closed_url in line
    assert "--url" in line
    assert CANARY not in line


def test_default_url_says_how_it_was_chosen(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5000)) == 0:
            pytest.skip("something listens on localhost:5000")
    done = tycho("status", env=base_env(tmp_path), check=3)
    line = one_error_line(done.stderr)
    assert "http://localhost:5000" in line
    assert "no --url or $TYCHO_URL" in line
    assert "no Kubernetes configuration" in line


def test_broken_kubeconfig_is_a_discovery_error_exit_3(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\n")
    env = {**base_env(), "KUBECONFIG": str(kubeconfig)}
    done = tycho("status", env=env, check=3)
    assert str(kubeconfig) in one_error_line(done.stderr)


# ---------------------------------------------------------------------------- validate


def test_validate_ok(app: Path) -> None:
    assert tycho("validate", "-f", str(app)).stdout == f"ok: {app}\n"


def test_validate_bad_env_line_names_the_line(app: Path) -> None:
    (app.parent / ".env").write_text(f"WEB_PORT=8080\nAPI_TOKEN {CANARY}\n")
    done = tycho("validate", "-f", str(app), check=2)
    line = one_error_line(done.stderr)
    assert f"{app.parent / '.env'}:2" in line
    assert CANARY not in line
    assert done.stdout == ""


def test_validate_undefined_port_variable_names_the_field(app: Path) -> None:
    app.write_text(COMPOSE.replace("${WEB_PORT}:80", "8080:${APP_PORT}"))
    done = tycho("validate", "-f", str(app), check=2)
    line = one_error_line(done.stderr)
    assert str(app) in line
    assert "services.web.ports[0]" in line
    assert "APP_PORT" in line


# The sample apps through validate, in this process (the command is the same code; a subprocess
# each would cost ~0.5 s). Two mount host paths, which Tycho cannot: their error names the field.
HOST_PATH_VOLUMES = {"nextflow", "xena"}


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_validate_samples(sample: str, capsys: pytest.CaptureFixture[str]) -> None:
    compose = SAMPLES / sample / "docker-compose.yaml"
    code = main(["validate", "-f", str(compose)])
    out, err = capsys.readouterr()
    if sample in HOST_PATH_VOLUMES:
        assert code == 2
        line = one_error_line(err)
        assert str(compose) in line
        assert re.search(r"services\.\w+\.volumes\[0\]", line)
    else:
        assert (code, out, err) == (0, f"ok: {compose}\n", "")


# -------------------------------------------------------------------------- spec, mock


def test_spec_prints_the_document() -> None:
    assert tycho("spec").stdout == spec_text()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_mock_serves_until_signalled(stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [str(TYCHO), "mock", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    try:
        assert process.stdout is not None
        mock_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", mock_url), mock_url
        with TychoClient(mock_url, timeout=10) as client:
            sid = client.up("smoke", {"services": {"web": {"image": "x", "ports": ["80"]}}})
            assert client.list(terse=True) == [sid.result.sid]
        process.send_signal(stop)
        assert process.wait(timeout=TIMEOUT) == 0
        assert process.stderr is not None
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
