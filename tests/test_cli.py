"""The installed ``tycho`` console script: help, start-up, usage errors, server errors, no
server, terminal safety, completion. Commands have their own files (test_cli_*.py)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from loopback import LoopbackServer, Reply, recorded_exchange
from test_cli_support import (
    CANARY,
    TIMEOUT,
    TYCHO,
    base_env,
    one_error_line,
    start,
    tycho,
)

import tycho_client
from tycho_client.cli._output import escape
from tycho_client.cli._parser import COMMANDS, build_parser, chosen_command
from tycho_client.errors import escape_controls
from tycho_client.openapi import spec_text
from tycho_client.testing.fake import FakeTycho


@pytest.fixture(scope="module")
def closed_url() -> str:
    """A loopback URL nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_console_script_is_installed() -> None:
    assert TYCHO.is_file(), f"{TYCHO} missing: pip install -e . --no-deps"


# -------------------------------------------------------------------------------- help


def test_main_help_shows_commands_global_options_environment_and_exit_codes() -> None:
    done = tycho("--help")
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), command
    for option in ("--url", "--namespace", "--service-name", "--context", "--timeout", "--token"):
        assert re.search(rf"^\s+{option} ", done.stdout, re.MULTILINE), option
    for code in ("0    success", "1    the server answered", "2    usage", "3    no server",
                 "130  interrupted"):  # fmt: skip
        assert code in done.stdout
    for variable in ("TYCHO_URL", "TYCHO_TOKEN", "TYCHO_USERNAME"):
        assert re.search(rf"^\s+{variable}\s", done.stdout, re.MULTILINE), variable
    assert "Examples:" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_help_shows_its_own_options_examples_and_points_at_global_help(
    command: str,
) -> None:
    done = tycho(command, "--help")
    text = done.stdout
    assert text.startswith(f"usage: tycho {command} ")
    examples = text.split("Examples:\n")[1]
    assert f"tycho {command}" in examples.split("\n\n")[0]
    assert "see tycho --help" in " ".join(text.split())
    # Global options are described once, in `tycho --help`, not in every command's help.
    for option in ("--namespace", "--service-name", "--context", "--token"):
        assert option not in text.split("Global options")[0], (command, option)
    assert max(len(line) for line in text.splitlines()) <= 100


def test_help_prose_is_wrapped_to_the_terminal() -> None:
    env = {**base_env(), "COLUMNS": "60"}
    text = tycho("up", "--help", env=env).stdout
    description = text.split("\n\n")[1]
    assert len(description.splitlines()) > 3
    assert max(len(line) for line in description.splitlines()) <= 58


def test_mock_help_lists_only_what_mock_uses() -> None:
    text = tycho("mock", "--help").stdout
    for option in ("--ready-after", "--latency", "--modify", "--fail-next", "--fail-status"):
        assert option in text
    assert "--url" not in text.split("Global options")[0]


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    assert tycho(flag).stdout == f"tycho {tycho_client.__version__}\n"


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


def test_usage_errors_exit_2_in_one_line(url: str) -> None:
    done = tycho("status", "--output", "xml", "--url", url, check=2)
    line = one_error_line(done.stderr)
    assert "invalid choice" in line
    assert "tycho status --help" in line
    assert done.stdout == ""


# ----------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stauts"], "unknown command 'stauts': did you mean 'status'? (see 'tycho --help')"),
        (["stat"], "unknown command 'stat': did you mean 'status'? (see 'tycho --help')"),
        (["s"], "unknown command 's': did you mean 'status' or 'spec'? (see 'tycho --help')"),
        (
            ["launch"],
            "unknown command 'launch'; the commands are up, status, down, modify, validate, "
            "spec, mock, verify, completion (see 'tycho --help')",
        ),
        (
            ["stauts", "--help"],
            "unknown command 'stauts': did you mean 'status'? (see 'tycho --help')",
        ),
        (
            ["st\x1b[2Jatus"],
            "unknown command 'st\\x1b[2Jatus': did you mean 'status'? (see 'tycho --help')",
        ),
    ],
    ids=["close", "abbreviated", "two-close", "none-close", "before-help", "escaped"],
)
def test_an_unknown_command_is_one_line_with_the_closest_spelling(
    args: list[str], expected: str
) -> None:
    done = tycho(*args, check=2)
    assert (done.stdout, done.stderr) == ("", f"tycho: error: {expected}\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["up", "--imgae", "nginx"],
            "unknown option '--imgae': did you mean '--image'? (see 'tycho up --help')",
        ),
        (
            ["up", "--imgae=nginx", "-p", "80"],
            "unknown option '--imgae': did you mean '--image'? (see 'tycho up --help')",
        ),
        (
            ["status", "--wacth"],
            "unknown option '--wacth': did you mean '--watch'? (see 'tycho status --help')",
        ),
        (
            ["down", "--yse", "--al"],
            "unknown option '--yse': did you mean '--yes'?; unknown option '--al': did you mean "
            "'--all'? (see 'tycho down --help')",
        ),
        (
            ["status", "--all"],
            "unknown option '--all': it is an option of 'tycho down' (see 'tycho status --help')",
        ),
        (
            ["--wait", "up", "--image", "nginx"],
            "'--wait' is an option of 'tycho up': give it after the command "
            "(see 'tycho up --help')",
        ),
        (["status", "--frobnicate"], "unknown option '--frobnicate' (see 'tycho status --help')"),
        (["status", "a", "b"], "unexpected argument 'b' (see 'tycho status --help')"),
    ],
    ids=[
        "close",
        "with-value",
        "status",
        "two",
        "other-command",
        "before-command",
        "none-close",
        "extra-argument",
    ],
)
def test_an_unknown_option_is_one_line_pointing_at_the_commands_help(
    fake: FakeTycho, url: str, args: list[str], expected: str
) -> None:
    done = tycho(*args, "--url", url, check=2)
    assert (done.stdout, done.stderr) == ("", f"tycho: error: {expected}\n")
    assert fake.requests == []


def test_global_options_before_and_after_the_command(fake: FakeTycho, url: str) -> None:
    guid = start(fake, "alpha")
    assert tycho("--url", url, "status", "--terse").stdout == f"{guid}\n"
    assert tycho("status", "--terse", f"--url={url}").stdout == f"{guid}\n"


# ---------------------------------------------------------------------------- start-up


# A command line each command's filled-in parser accepts, and an empty one refuses.
ACCEPTED = {name: [name, "--debug"] for name in COMMANDS} | {
    "modify": ["modify", "0" * 32, "--debug"],
    "completion": ["completion", "bash", "--debug"],
}


def _filled_in(argv: list[str]) -> set[str]:
    """The commands whose parser ``build_parser(argv)`` filled in: those that parse a command
    line only a filled-in parser accepts."""
    parser = build_parser(argv)
    filled = set()
    for name, accepted in ACCEPTED.items():
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                parser.parse_args(accepted)
            except SystemExit:
                continue
        filled.add(name)
    return filled


def test_only_the_chosen_commands_parser_is_built() -> None:
    assert _filled_in(["status", "-o", "json"]) == {"status"}
    assert _filled_in(["--url", "http://x", "--timeout", "3", "down", "--all"]) == {"down"}
    assert _filled_in(["--help"]) == set()
    assert _filled_in(["no-such-command"]) == set()
    assert set(ACCEPTED) == set(COMMANDS)
    assert {name for name in COMMANDS if _filled_in([name]) == {name}} == set(COMMANDS)
    assert chosen_command(["--token", "up", "status"]) == "status"  # "up" is the token


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
ours = sorted(m for m in sys.modules if m.startswith(("tycho_client.cli.", "tycho_client.testing",
                                                     "tycho_client.openapi"))
              and not m.startswith("tycho_client.cli._"))
print(code, ",".join(loaded) or "-", ",".join(ours) or "-", file=sys.stderr)
"""


def imported(*args: str) -> tuple[int, set[str], set[str]]:
    """Run main(args) in a fresh interpreter; its exit code, the heavy top-level modules loaded,
    and the command, tycho_client.testing and tycho_client.openapi (the document) modules loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        env=base_env(),
        timeout=TIMEOUT,
        check=True,
    )
    code, loaded, ours = done.stderr.splitlines()[-1].split(" ")
    return int(code), set(loaded.split(",")) - {"-"}, set(ours.split(",")) - {"-"}


def test_help_imports_no_command_http_models_yaml_or_kubernetes() -> None:
    code, loaded, ours = imported("--help")
    assert (code, loaded, ours) == (0, set(), set())
    code, loaded, ours = imported("status", "--help")
    assert (code, loaded, ours) == (0, set(), set())


@pytest.mark.parametrize("command", ["status", "down"])
def test_status_and_down_import_only_their_module_neither_kubernetes_yaml_nor_the_document(
    fake: FakeTycho, url: str, command: str
) -> None:
    args = ["status"] if command == "status" else ["down", start(fake, "probe")]
    code, loaded, ours = imported(*args, "--url", url)
    assert code == 0
    assert {"httpx", "pydantic"} <= loaded  # the probe did reach the server
    assert not loaded & {"kubernetes", "yaml", "jsonschema", "referencing"}
    assert ours == {f"tycho_client.cli.{command}"}


def program_imports(*args: str, url: str | None = None) -> set[str]:
    """The modules the installed program imports for ``args`` (Python's -X importtime report,
    through the environment: the console script takes no interpreter options)."""
    env = {**base_env(), "PYTHONPROFILEIMPORTTIME": "1"}
    done = tycho(*args, env=env)
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}


def test_the_program_loads_little_for_help_and_only_its_command_for_status(
    fake: FakeTycho, url: str
) -> None:
    commands = {f"tycho_client.cli.{name}" for name in COMMANDS}
    for args in (["--help"], ["status", "--help"], ["-V"]):
        loaded = program_imports(*args)
        assert "tycho_client.cli._parser" in loaded
        # No shutil (bz2, lzma), no typing, no command module (see bench/README.md, "Start-up
        # tricks"). argparse's own translation lookup does import locale.
        unwanted = {"shutil", "typing", "httpx", "pydantic", "yaml", "kubernetes"}
        assert not loaded & (unwanted | commands), (args, loaded & (unwanted | commands))
    loaded = program_imports("status", "--url", url)
    assert "tycho_client.cli._runtime" in loaded
    # (importlib.import_module, which loads the command, is not in the report: the probe above
    # shows the status module itself.)
    assert not loaded & commands
    assert not loaded & {"kubernetes", "yaml", "jsonschema", "tycho_client.openapi"}
    # A blocking command has no event loop: asyncio would be ~10 ms of its start-up.
    assert "asyncio" not in loaded


def test_the_program_ends_the_normal_way_running_atexit_handlers() -> None:
    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
        "from tycho_client.cli import main\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", program, "--version"], capture_output=True,
                          text=True, env=base_env(), timeout=TIMEOUT)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, f"tycho {tycho_client.__version__}\n",
                                                           "atexit ran\n")  # fmt: skip


# ------------------------------------------------------------------------- closed stdout


def _buffered_env() -> dict[str, str]:
    """A user's shell: stdout block-buffered on a pipe or a file (no PYTHONUNBUFFERED), so that
    what fails is the flush at the end (on stdout unbuffered, argparse itself ignores a failed
    write of --help and exits 0)."""
    env = base_env()
    env.pop("PYTHONUNBUFFERED", None)
    return env


def _with_stdout_closed(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``tycho`` with stdout a pipe whose reader has gone (as in ``tycho ... | head -0``)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([str(TYCHO), *args], stdout=writer, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True, env=env,
                              timeout=TIMEOUT)  # fmt: skip
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-V"], ["completion", "bash"], ["status", "--terse"], ["status", "-o", "json"]],
)
def test_a_closed_stdout_ends_quietly_with_141(fake: FakeTycho, url: str, args: list[str]) -> None:
    for index in range(3):
        start(fake, f"pipe{index}")
    if args[0] == "status":
        args = [*args, "--url", url]
    done = _with_stdout_closed(args, _buffered_env())
    assert (done.returncode, done.stderr) == (141, ""), args
    if args[0] != "status":
        return
    unbuffered = {**base_env(), "PYTHONUNBUFFERED": "1"}
    done = _with_stdout_closed(args, unbuffered)
    assert (done.returncode, done.stderr) == (141, ""), args


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["completion", "bash"]])
def test_a_full_disk_is_one_error_line(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(TYCHO), *args], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=_buffered_env(), timeout=TIMEOUT)  # fmt: skip
    assert done.returncode == 1
    assert "No space left on device" in one_error_line(done.stderr)


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


def test_token_from_environment_is_sent_and_recorded_table_renders(
    loopback: LoopbackServer,
) -> None:
    loopback.add(Reply.recorded("03-status-all"))
    env = {**base_env(), "TYCHO_URL": loopback.url, "TYCHO_TOKEN": CANARY}
    done = tycho("status", env=env)
    assert loopback.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    rows = [line.split()[:3] for line in done.stdout.splitlines()[1:]]
    assert rows == [
        ["jupyter-ds", "e483439d77be44d791466e05d9cc5ecc", "1/1"],
        ["webstack", "b9ffda00e47c4d83b88f97f6fcf7e38e", "1/1"],
    ]
    assert CANARY not in done.stdout + done.stderr


# ------------------------------------------------------------------------- no server


def test_refused_connection_exits_3_naming_url_and_source(closed_url: str) -> None:
    done = tycho("status", "--url", closed_url, "--token", CANARY, check=3)
    line = one_error_line(done.stderr)
    assert closed_url in line
    assert "--url" in line
    assert CANARY not in line


def _attempts(stderr: str) -> int:
    """How many connections the client tried (its DEBUG log has one line per failure)."""
    return len(re.findall(r"DEBUG tycho_client: POST .* -> ConnectError", stderr))


def test_default_url_is_tried_once_and_says_how_it_was_chosen(
    tmp_path: Path, closed_url: str
) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5000)) == 0:
            pytest.skip("something listens on localhost:5000")
    done = tycho("--debug", "status", env=base_env(tmp_path), check=3)
    line = done.stderr.rstrip().splitlines()[-1]
    assert "http://localhost:5000" in line
    assert "no --url or $TYCHO_URL" in line
    assert "no Kubernetes configuration" in line
    assert _attempts(done.stderr) == 1  # no retries: nothing named a server
    # A server that was named is retried as usual.
    named = tycho("--debug", "status", "--url", closed_url, env=base_env(tmp_path), check=3)
    assert _attempts(named.stderr) > 1


# ---------------------------------------------------------------------------- URL hints


@pytest.mark.parametrize("source", ["--url", "$TYCHO_URL"])
def test_a_url_without_scheme_suggests_http(fake: FakeTycho, url: str, source: str) -> None:
    given = url.removeprefix("http://")
    if source == "--url":
        done = tycho("status", "--url", given, check=2)
    else:
        done = tycho("status", env={**base_env(), "TYCHO_URL": given}, check=2)
    assert done.stderr == (
        f"tycho: error: the URL given by {source}, {given}, does not say http:// or https://: "
        f"did you mean {url}?\n"
    )


def test_a_url_without_scheme_never_shows_its_password(url: str) -> None:
    given = url.replace("http://", f"alice:{CANARY}@")
    done = tycho("status", "--url", given, check=2)
    shown = url.replace("http://", "alice:***@")
    assert done.stderr == (
        f"tycho: error: the URL given by --url, {shown}, does not say http:// or https://: "
        f"did you mean http://{shown}?\n"
    )


@pytest.mark.parametrize("given", ["http:/localhost:5000", "https//localhost", "ftp://host"])
def test_a_mistyped_or_other_scheme_gets_no_guess(given: str) -> None:
    done = tycho("status", "--url", given, check=2)
    assert done.stderr == (
        "tycho: error: url must be an http:// or https:// URL with a valid host name\n"
    )


@pytest.mark.parametrize("path", ["/system", "/system/", "/system/status"])
def test_a_url_ending_in_system_suggests_the_url_without_it(
    fake: FakeTycho, url: str, path: str
) -> None:
    done = tycho("status", "--url", url + path, check=1)
    tail = path.rstrip("/")
    assert done.stderr == (
        f"tycho: error: POST {url}{tail}/system/status answered HTTP 404 Not Found; the URL "
        f"given by --url ends in {tail}, which the client adds itself: try {url}\n"
    )


def test_https_to_a_plain_http_server_suggests_http(fake: FakeTycho, url: str) -> None:
    secure = url.replace("http://", "https://")
    done = tycho("status", "--url", secure, "--timeout", "5", check=3)
    assert done.stderr == (
        f"tycho: error: could not connect to {secure}: the server speaks plain http, not "
        f"https: try {url}; the URL was given by --url\n"
    )
    assert fake.requests == []  # the server never read a request


def test_broken_kubeconfig_is_a_discovery_error_exit_3(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\n")
    env = {**base_env(), "KUBECONFIG": str(kubeconfig)}
    done = tycho("status", env=env, check=3)
    assert str(kubeconfig) in one_error_line(done.stderr)


# --------------------------------------------------------------------- terminal safety

HOSTILE_NAME = "evil\x1b[2J\x1b]0;owned\x07-x"
HOSTILE_SID = "--url=http://other/"


def _hostile_status() -> Reply:
    body = recorded_exchange("03-status-all")["response"]["json"]
    body["result"][0]["app_id"] = HOSTILE_NAME
    body["result"][1]["sid"] = HOSTILE_SID
    body["result"][1]["name"] = f"web\u202estack-{HOSTILE_SID}"
    return Reply.json(body)


def test_server_strings_are_escaped_in_tables_and_names(loopback: LoopbackServer) -> None:
    loopback.always(_hostile_status())
    env = {**base_env(), "TYCHO_URL": loopback.url}
    for args in (["status"], ["status", "-o", "wide"], ["status", "-o", "name"]):
        done = tycho(*args, env=env)
        assert "\x1b" not in done.stdout, args
        assert "\x07" not in done.stdout, args
        assert "\u202e" not in done.stdout, args
    table = tycho("status", env=env).stdout
    assert "evil\\x1b[2J\\x1b]0;owned\\x07-x" in table


def test_terse_prints_only_guids_and_reports_other_ids(loopback: LoopbackServer) -> None:
    loopback.always(_hostile_status())
    env = {**base_env(), "TYCHO_URL": loopback.url}
    done = tycho("status", "--terse", env=env, check=1)
    assert done.stdout == "e483439d77be44d791466e05d9cc5ecc\n"
    assert HOSTILE_SID in done.stderr  # named, quoted, on stderr only
    assert "not a GUID" in done.stderr


def test_json_and_yaml_stay_exact(loopback: LoopbackServer) -> None:
    import yaml

    loopback.always(_hostile_status())
    env = {**base_env(), "TYCHO_URL": loopback.url}
    sent = json.loads(_hostile_status().body)
    assert json.loads(tycho("status", "-o", "json", env=env).stdout)["result"] == sent["result"]
    assert yaml.safe_load(tycho("status", "-o", "yaml", env=env).stdout)["result"] == sent["result"]


def test_the_cli_escapes_as_the_library_does() -> None:
    text = "a\nb\rc\td\x1b[2J\x07\x9b\u202e\ufeffe"
    shown = "a\\nb\\rc\\td\\x1b[2J\\x07\\x9b\\u202e\\ufeffe"
    assert escape_controls(text) == shown
    assert escape(text) == shown
    assert escape(7) == "7"
    assert (
        escape("plain text, ünïcode, \\ and quotes ' \"")
        == "plain text, ünïcode, \\ and quotes ' \""
    )


def test_server_error_text_is_escaped(fake: FakeTycho, url: str) -> None:
    fake.fail_next(1, status=200, body="no\x1b[31m red\x1b[0m \x9b2J here")
    line = one_error_line(tycho("status", "--url", url, check=1).stderr)
    assert "\x1b" not in line
    assert "\x9b" not in line
    assert "no\\x1b[31m red" in line


# ---------------------------------------------------------------------------- completion


def _complete(script: str, *words: str) -> list[str]:
    """The completions bash offers for ``tycho words...`` (the last word being typed)."""
    line = " ".join(["tycho", *words])
    program = (
        f"{script}\nCOMP_WORDS=(tycho {' '.join(words)})\nCOMP_CWORD={len(words)}\n"
        f'COMP_LINE="{line}"\n_tycho\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion_offers_commands_options_and_choices(tmp_path: Path) -> None:
    script = tycho("completion", "bash").stdout
    assert "complete -o default -F _tycho tycho" in script
    assert _complete(script, "st") == ["status"]
    assert {"--watch", "--no-headers", "--url"} <= set(_complete(script, "status", "--"))
    assert set(_complete(script, "status", "-o", "")) == {"table", "wide", "json", "yaml", "name"}
    assert set(_complete(script, "up", "-o", "")) == {"table", "json", "yaml"}
    assert set(_complete(script, "--url", "http://x", "completion", "")) >= {"bash", "zsh", "fish"}
    (tmp_path / "compose.yaml").write_text("")
    assert _complete(script, "up", "-f", str(tmp_path / "comp")) == [str(tmp_path / "compose.yaml")]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_completion_script_parses() -> None:
    script = tycho("completion", "zsh").stdout
    done = subprocess.run(["zsh", "-n"], input=script, text=True, capture_output=True,
                          timeout=TIMEOUT)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_fish_completion_names_every_command_and_option() -> None:
    script = tycho("completion", "fish").stdout
    for command in COMMANDS:
        assert f"-a {command} " in script, command
    assert "__fish_seen_subcommand_from status" in script
    assert re.search(r"-s o -l output -x -a 'table wide json yaml name'", script)
    if shutil.which("fish"):
        done = subprocess.run(["fish", "--no-execute"], input=script, text=True,
                              capture_output=True, timeout=TIMEOUT)  # fmt: skip
        assert done.returncode == 0, done.stderr


def _help_flags(text: str) -> set[str]:
    """The option strings a help text lists (``-o FORMAT, --output FORMAT  ...`` gives -o and
    --output)."""
    flags = set()
    options = re.split(r"^(?:Examples|Where the Tycho API is):$", text, flags=re.MULTILINE)[0]
    for line in options.splitlines():
        if re.match(r"^  -", line):
            invocation = line.strip().split("  ")[0]
            flags.update(part.split(" ")[0] for part in invocation.split(", "))
    return flags


def _fish_flags(script: str, condition: str) -> set[str]:
    prefixes = {"-s": "-", "-l": "--", "-o": "-"}
    flags = set()
    for line in script.splitlines():
        if f"-n '{condition}' " in line:
            flags.update(
                prefixes[kind] + name for kind, name in re.findall(r" (-[slo]) (\S+)", line)
            )
    return flags


def test_completion_offers_exactly_the_options_the_help_lists() -> None:
    """The parsers and the completion scripts are made from one table: they cannot disagree."""
    script = tycho("completion", "fish").stdout
    assert _fish_flags(script, "true") == _help_flags(tycho("--help").stdout)
    for command in COMMANDS:
        listed = _help_flags(tycho(command, "--help").stdout) - {"-h", "--help"}
        assert _fish_flags(script, f"__fish_seen_subcommand_from {command}") == listed, command
    assert {"--modify", "--no-modify"} <= _fish_flags(script, "__fish_seen_subcommand_from mock")


def test_spec_prints_the_document() -> None:
    assert tycho("spec").stdout == spec_text()


# ------------------------------------------------------------------------------ modify


def test_modify_labels_and_resources(fake: FakeTycho, url: str) -> None:
    fake.modify_supported = True
    guid = start(fake, "alpha")
    done = tycho("modify", guid, "--label", "team=data", "--cpu", "500m", "--memory", "1G",
                 "--url", url)  # fmt: skip
    assert done.stdout == f"{guid} modified (1 deployment patched)\n"
    assert fake.systems[guid].labels == {"team": "data"}
    assert fake.systems[guid].resources == {"cpu": "500m", "memory": "1G"}
    as_json = tycho("modify", guid, "--cpu", "1", "-o", "json", "--url", url)
    assert json.loads(as_json.stdout)["status"] == "success"


def test_modify_on_a_server_without_modify_exits_1(fake: FakeTycho, url: str) -> None:
    done = tycho("modify", start(fake, "alpha"), "--cpu", "1", "--url", url, check=1)
    assert "does not support" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("system", "args", "expected"),
    [
        ("0" * 32, [], "--label"),
        ("-nope", ["--cpu", "1"], "not a GUID"),
        ("webstack", ["--label", "bad key=x"], "labels"),  # checked before the name's lookup
    ],
)
def test_modify_usage_errors_send_nothing(
    fake: FakeTycho, url: str, system: str, args: list[str], expected: str
) -> None:
    done = tycho("modify", *args, "--url", url, "--", system, check=2)
    assert expected in one_error_line(done.stderr)
    assert fake.requests == []
