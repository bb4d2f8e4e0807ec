"""``tycho validate``, and how the CLI reads compose and .env files: every problem in full,
regular files and stdin only, bounded in size, text only."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from test_cli_support import CANARY, TYCHO, base_env, one_error_line, tycho

from tycho_client.cli import main

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
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
MANY_PROBLEMS = """\
services:
  web:
    image: nginx
    ports: ["80"]
    volumes: ["/host/a:/data", "/host/b:/other"]
  Bad_Name:
    image: x
    ports: ["80"]
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    directory = tmp_path / "My App"
    directory.mkdir()
    (directory / ".env").write_text(ENV)
    compose = directory / "docker-compose.yaml"
    compose.write_text(COMPOSE)
    return compose


def test_validate_ok(app: Path) -> None:
    assert tycho("validate", "-f", str(app)).stdout == f"ok: {app}\n"


def test_validate_takes_the_file_as_an_argument_or_finds_it(app: Path) -> None:
    assert tycho("validate", str(app)).stdout == f"ok: {app}\n"
    assert tycho("validate", cwd=app.parent).stdout == "ok: docker-compose.yaml\n"
    done = tycho("validate", str(app), "-f", str(app), check=2)
    assert "once" in one_error_line(done.stderr)


def test_validate_prints_every_problem_in_full_one_per_line(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yaml"
    compose.write_text(MANY_PROBLEMS)
    done = tycho("validate", str(compose), check=2)
    lines = done.stderr.splitlines()
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert "…" not in done.stderr
    assert all(line.startswith(f"tycho: error: {compose}: ") for line in lines)
    paths = [line.split(": ")[3] for line in lines]
    # The compose file's own paths (`system`, the request's name for the file, left out).
    assert "services.web.volumes[0]" in paths
    assert "services.web.volumes[1]" in paths
    assert "services.Bad_Name" in paths
    assert all(len(line) > 100 for line in lines[:2])  # nothing cut short


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


def test_validate_reads_stdin(app: Path) -> None:
    assert tycho("validate", "-f", "-", input=COMPOSE, cwd=app.parent).stdout == "ok: stdin\n"


# Input that once raised RecursionError inside the pipeline (exit 1, a Python error's name).
NESTED_VARIABLES = "${A:-" * 40 + "x" + "}" * 40
HOSTILE = {
    "nested variables": COMPOSE.replace("${API_TOKEN}", NESTED_VARIABLES),
    "deep flow YAML": COMPOSE + "    x: " + "[" * 900 + "]" * 900 + "\n",
    "deep block YAML": COMPOSE
    + "    x:\n"
    + "".join("  " * (level + 3) + "a:\n" for level in range(600)),
}


@pytest.mark.parametrize("command", [["validate"], ["up", "--dry-run"]])
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_hostile_input_is_a_usage_error_in_words(
    app: Path, hostile: str, command: list[str]
) -> None:
    app.write_text(HOSTILE[hostile])
    done = tycho(*command, "-f", str(app), check=2)
    assert "Traceback" not in done.stderr
    assert "RecursionError" not in done.stderr
    assert "nested" in done.stderr or "nests" in done.stderr
    assert done.stdout == ""


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
        assert re.search(
            rf"tycho: error: {re.escape(str(compose))}: services\.\w+\.volumes\[0\]: ", err
        )
        return
    assert (code, out) == (0, f"ok: {compose}\n")
    warnings = err.splitlines()
    assert all(line.startswith(f"tycho: warning: {compose}: ") for line in warnings)
    shown = [line.removeprefix(f"tycho: warning: {compose}: ") for line in warnings]
    # What servers would not see as written: said, not refused.
    assert [line.split(" ")[0] for line in shown] == SAMPLE_WARNINGS.get(sample, [])


# Each sample's warnings (what starts them): a key no compose file has, a variable .env lacks.
SAMPLE_WARNINGS = {
    "cloud-top": ["services.orthanc.securityContext:", "services.postgres.securityContext:"],
    "hail": ["HOST_PORT"],
    "tranql": ["COMPOSE_PROJECT_NAME"],
}


# ---------------------------------------------------------------------------- bounded reads


@pytest.mark.parametrize("option", ["-f", "--env-file"])
def test_a_fifo_is_refused_not_waited_on(app: Path, tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = ["-f", str(app), option, str(fifo)] if option == "--env-file" else ["-f", str(fifo)]
    done = tycho("validate", *args, check=2, timeout=20)  # a hang would time out
    assert "not a regular file" in one_error_line(done.stderr)


@pytest.mark.parametrize("option", ["-f", "--env-file"])
def test_a_device_is_refused(app: Path, option: str) -> None:
    args = ["-f", str(app), option, "/dev/zero"] if option == "--env-file" else ["-f", "/dev/zero"]
    done = tycho("validate", *args, check=2, timeout=20)
    assert "/dev/zero: not a regular file" in one_error_line(done.stderr)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    done = tycho("validate", "-f", str(tmp_path), check=2)
    assert "a directory" in one_error_line(done.stderr)


def test_a_file_over_4_mib_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (420 * 1024))  # 4.1 MiB
    done = tycho("validate", "-f", str(big), check=2)
    assert "larger than 4 MiB" in one_error_line(done.stderr)


def test_stdin_is_bounded_too() -> None:
    with open("/dev/zero", "rb") as zeros:
        done = subprocess.run(
            [str(TYCHO), "validate", "-f", "-"],
            stdin=zeros,
            capture_output=True,
            text=True,
            env=base_env(),
            timeout=20,
        )
    assert done.returncode == 2
    assert "stdin is larger than 4 MiB" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"services:\x00\x01\x02", "binary"), (b"services:\n  web: \xff\xfe\n", "not UTF-8")],
)
def test_binary_or_undecodable_files_are_clear_errors(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    compose = tmp_path / "docker-compose.yaml"
    compose.write_bytes(content)
    done = tycho("validate", "-f", str(compose), check=2)
    assert expected in one_error_line(done.stderr)


def test_file_names_are_escaped_in_errors(tmp_path: Path) -> None:
    done = tycho("validate", "-f", str(tmp_path / "evil\x1b[2Jname.yaml"), check=2)
    line = one_error_line(done.stderr)
    assert "\x1b" not in line
    assert "evil\\x1b[2Jname.yaml not found" in line
