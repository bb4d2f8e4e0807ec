"""Every problem at once, in words: one run of ``up`` or ``tycho validate`` reports every problem
of the name, the ``.env`` and the compose file, each where it is, with no regular expression;
an unset ``${VAR}`` is said, never sent in silence; YAML errors read as an editor shows them."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from test_cli_support import CANARY, base_env, tycho

from tycho_client import TychoClient
from tycho_client.build import up_request, validate_request
from tycho_client.cli import main
from tycho_client.compose import load_compose
from tycho_client.errors import (
    TychoComposeError,
    TychoComposeWarning,
    TychoEnvError,
    TychoNameError,
    TychoValidationError,
)
from tycho_client.models import DeleteRequest, StatusRequest

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "tests" / "fixtures" / "samples"
MISTAKES = ROOT / "examples" / "mistakes" / "docker-compose.yaml"
WEB = {"image": "nginx:1.25", "ports": ["80"]}
# What a regular expression looks like in a message (a pvc://<claim>[/<subpath>] form does not).
REGEX = re.compile(
    r"should match pattern|\[\^|\[[A-Za-z0-9]-[A-Za-z0-9]|\(\?[:=!]|\\[dsw]"
    r"|\{\d+,\d*\}|\][*+?]|\^\(|\)\$"
)


def error_of(*args: Any, **kwargs: Any) -> TychoValidationError:
    with pytest.raises(TychoValidationError) as info:
        up_request(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------ every problem at once


MANY = """\
services:
  web:
    image: nginx 1.25
    ports: ["53/udp", "8080:80"]
    volumes: ["/host:/data"]
    deploy: {resources: {limits: {cpus: lots, memory: 1G}}}
    user: root
  Bad_Name:
    image: x
    ports: ["80"]
"""


def test_one_run_finds_the_problems_of_the_name_the_env_and_the_document() -> None:
    error = error_of("!!!", MANY, 'A=1\nJUSTAWORD\n1BAD=x\nQ=a"b\n', source="c.yaml")
    assert isinstance(error, TychoEnvError)  # the first step with a problem decides the type
    assert error.paths == [
        "env.line 2",
        "env.line 3",
        "name",
        "system.services.web.ports[0]",
        "system.services.web.volumes[0]",
        "system.services.web.user",
        "system.services.Bad_Name",
        "env.Q",
        "system.services.web.image",
        "system.services.web.deploy.resources.limits.cpus",
    ]
    assert str(error).endswith("(and 6 more)")  # 2 lines of the .env, then 2 more shown


def test_a_problem_is_named_once_though_later_steps_meet_it_again() -> None:
    # The UDP port is left as written by normalizing; the rules and the model would fail it too.
    error = error_of("app", {"services": {"web": {**WEB, "ports": ["53/udp"]}}})
    assert error.paths == ["system.services.web.ports[0]"]
    # A service name the rules refuse is also a key pydantic refuses in `services`.
    error = error_of("app", {"services": {"Bad_Name": WEB}})
    assert error.paths == ["system.services.Bad_Name"]


@pytest.mark.parametrize(
    ("name", "settings", "system", "kind"),
    [
        ("!!!", "", {"services": {"web": WEB}}, TychoNameError),
        ("app", "BAD LINE\n", {"services": {"web": WEB}}, TychoEnvError),
        ("!!!", "BAD LINE\n", "services: [\n", TychoComposeError),
        ("app", "", {"services": {"web": {**WEB, "user": "root"}}}, TychoComposeError),
        ("app", {"Q": 'a"b'}, {"services": {"web": WEB}}, TychoValidationError),
    ],
)
def test_the_error_type_is_that_of_the_first_problem(
    name: str, settings: Any, system: Any, kind: type[TychoValidationError]
) -> None:
    assert type(error_of(name, system, settings)) is kind


# ------------------------------------------------------------------- messages in words


def _broken(**service: Any) -> dict[str, Any]:
    return {"services": {"web": {**WEB, **service}}}


# Inputs that reach each pattern of the document's schemas (the model's own checks).
BROKEN: dict[str, tuple[Any, Any]] = {
    "cpus": (_broken(deploy={"resources": {"limits": {"cpus": "lots", "memory": "1G"}}}), ""),
    "memory": (_broken(deploy={"resources": {"limits": {"cpus": "1", "memory": "1 G"}}}), ""),
    "gpus": (_broken(deploy={"resources": {"limits": {"gpus": "one"}}}), ""),
    "storage": (_broken(deploy={"resources": {"limits": {"ephemeralStorage": "x"}}}), ""),
    "image": (_broken(image="nginx 1.25"), ""),
    "image quote": (_broken(image="nginx'1"), ""),
    "port": (_broken(ports=["80:8o"]), ""),
    "expose": (_broken(expose=["8o"]), ""),
    "volume": (_broken(volumes=["pvc://Claim:/data"]), ""),
    "env item": (_broken(environment=["A=b\nc"]), ""),
    "env key": (_broken(environment=["1A=b"]), ""),
    "setting value": (_broken(), {"A": "x\ny"}),
    "setting key": (_broken(), {"1A": "x"}),
    "service name": ({"services": {"Web": WEB}}, ""),
    "entrypoint": (_broken(entrypoint=["run", "{{ x }}"]), ""),
    "depends_on": (_broken(depends_on=["{% x"]), ""),
    "probe path": (
        _broken(ext={"kube": {"livenessProbe": {"httpGet": {"port": 80, "path": "a b"}}}}),
        "",
    ),
    "probe header": (
        _broken(
            ext={"kube": {"livenessProbe": {"httpGet": {"port": 80, "httpHeaders": {"a b": "x"}}}}}
        ),
        "",
    ),
    "conn_string": (_broken(conn_string="a b"), ""),
    "run as": ({"services": {"web": WEB}, "security_context": {"runAsUser": "root"}}, ""),
    "version": ({"services": {"web": WEB}, "version": "{{ 3 }}"}, ""),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_no_message_shows_a_regular_expression(case: str) -> None:
    system, settings = BROKEN[case]
    error = error_of("app", system, settings)
    shown = [str(error), *(problem.msg for problem in error.errors)]
    assert not [text for text in shown if REGEX.search(text)], shown


def test_pattern_messages_say_what_a_valid_value_is() -> None:
    cpus = error_of("app", BROKEN["cpus"][0]).errors[0].msg
    assert cpus == "must be a number of CPUs, such as 0.5 or 500m"
    image = error_of("app", BROKEN["image"][0]).errors[0].msg
    assert image.startswith("must be an image name such as nginx:1.25")


@pytest.mark.parametrize(("operation", "name"), [("down", "!!!"), ("status", "a b")])
def test_names_for_down_and_status_are_said_in_words(operation: str, name: str) -> None:
    with TychoClient("http://127.0.0.1:1") as client, pytest.raises(TychoValidationError) as info:
        getattr(client, operation)(name)
    assert not REGEX.search(str(info.value))
    assert "such as 'my-app'" in str(info.value) or "such as 'web-0123" in str(info.value)


@pytest.mark.parametrize("model", [DeleteRequest, StatusRequest])
def test_a_request_models_name_is_said_in_words(model: type[BaseModel]) -> None:
    with pytest.raises(TychoValidationError) as info:
        validate_request(model, {"name": "a b"})
    assert info.value.errors[0].msg == (
        "must be a system GUID such as 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7, or a full system name"
    )


@pytest.mark.parametrize(
    "compose",
    [*sorted(SAMPLES.glob("*/docker-compose.yaml")), MISTAKES],
    ids=lambda p: p.parent.name,
)
def test_validate_says_no_regular_expression_for_any_sample(
    compose: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", str(compose)])
    out, err = capsys.readouterr()
    assert not REGEX.search(out + err), err


# ---------------------------------------------------------------------- unset variables


def test_an_unset_variable_is_a_warning_naming_it_and_where() -> None:
    system = {"services": {"web": {**WEB, "environment": ["PW=${PW}", "B=${B:-b}", "C=$$C"]}}}
    with pytest.warns(TychoComposeWarning) as caught:
        request = up_request("app", system, "")
    [warning] = [w.message for w in caught]
    assert isinstance(warning, TychoComposeWarning)
    assert (warning.variable, warning.path) == ("PW", "system.services.web.environment[0]")
    assert "PW is not set in .env, so ${PW} is sent as written" in str(warning)
    assert request.system.services["web"].environment == ["PW=${PW}", "B=b", "C=$C"]


def test_a_required_variable_is_an_error_and_a_set_one_no_warning() -> None:
    system = {"services": {"web": {**WEB, "environment": ["PW=${PW:?set PW to the password}"]}}}
    error = error_of("app", system, "")
    assert error.paths == ["system.services.web.environment[0]"]
    assert "set PW to the password" in str(error)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        up_request("app", system, "PW=secret\n")


def test_validate_names_unset_variables_and_the_way_to_pass_them(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: nginx\n    ports: ['80']\n"
        "    environment:\n      - A=${FROM_SHELL}\n      - B=${NOWHERE}\n"
    )
    env = {**base_env(), "FROM_SHELL": CANARY}
    env.pop("NOWHERE", None)
    done = tycho("validate", str(compose), env=env)
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"tycho: warning: {compose}: FROM_SHELL is set in your shell")
    assert "--env-file" in lines[0]
    assert lines[1].startswith(f"tycho: warning: {compose}: NOWHERE is not set in ")
    assert CANARY not in done.stderr + done.stdout
    assert done.stdout == f"ok: {compose}\n"

    strict = tycho("validate", "--strict", str(compose), env=env, check=2)
    assert [line.split(": ")[0] for line in strict.stderr.splitlines()] == ["tycho"] * 3
    assert all(line.startswith("tycho: error: ") for line in strict.stderr.splitlines())
    assert "--strict" in strict.stderr.splitlines()[-1]
    (tmp_path / ".env").write_text(f"FROM_SHELL={CANARY}\nNOWHERE=x\n")
    assert tycho("validate", "--strict", str(compose), env=env).stderr == ""


def test_up_strict_sends_nothing_with_an_unset_variable(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: nginx\n    ports: ['${PORT}:80']\n")
    done = tycho("up", "--strict", "-f", str(compose), "--url", "http://127.0.0.1:9", check=2)
    assert "PORT is not set" in done.stderr
    assert done.stdout == ""


def test_a_required_variable_is_an_error_of_the_cli_naming_the_field(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: nginx\n    ports: ['80']\n"
        "    environment: ['PW=${PW:?set PW to the password}']\n"
    )
    env = {**base_env(), "PW": CANARY}  # the shell's value is not the .env's
    done = tycho("validate", str(compose), env=env, check=2)
    assert done.stderr.splitlines() == [
        f"tycho: error: {compose}: services.web.environment[0]: required variable PW is not "
        "set (define it in .env): set PW to the password"
    ]
    assert CANARY not in done.stderr + done.stdout


def test_up_prints_every_problem_on_its_line_and_sends_nothing(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: nginx 1.25\n    ports: ['80']\n"
        "    deploy: {resources: {limits: {cpus: lots, memory: 1G}}}\n"
    )
    (tmp_path / ".env").write_text("A=1\nNO EQUALS\n")
    done = tycho("up", "-f", str(compose), "--url", "http://127.0.0.1:9", check=2)
    assert done.stderr.splitlines() == [
        f"tycho: error: {tmp_path / '.env'}:2: expected KEY=value, found no '='",
        f"tycho: error: {compose}: services.web.image: must be an image name such as "
        "nginx:1.25 (letters, digits and ._/+-:=@%, no blanks)",
        f"tycho: error: {compose}: services.web.deploy.resources.limits.cpus: must be a number "
        "of CPUs, such as 0.5 or 500m",
    ]
    assert done.stdout == ""


def test_quick_launch_says_to_pass_an_unset_variable_with_e() -> None:
    env = {k: v for k, v in base_env().items() if k != "ZZ_UNSET"}
    args = ("up", "--image", "nginx", "-p", "80", "--command", "echo ${ZZ_UNSET}", "--dry-run")
    done = tycho(*args, "--url", "http://127.0.0.1:9", env=env)
    assert done.stderr.splitlines() == [
        "tycho: warning: the --image flags: ZZ_UNSET is not set: pass it with -e "
        "ZZ_UNSET=VALUE; ${ZZ_UNSET} is sent as written (services.nginx.entrypoint[1])"
    ]
    assert tycho(*args, "-e", "ZZ_UNSET=1", "--url", "http://127.0.0.1:9", env=env).stderr == ""


# ---------------------------------------------------------------------------- YAML errors


@pytest.mark.parametrize(
    ("text", "where", "words", "excerpt"),
    [
        ("services:\n  web:\n\timage: x\n", "3:1", "a tab character", "\\timage: x\n^"),
        (
            'services:\n  web:\n    image: "nginx\n    ports: [1]\n',
            "3:12",
            'the quote (") opened here is never closed',
            '    image: "nginx\n           ^',
        ),
        ("services:\n  web: {image: 'x}\n", "2:16", "the quote (') opened here", None),
        (
            "services:\n  web:\n    ports: [80, 81\n    image: x\n",
            "3:12",
            "the '[' opened here is not closed with ']'",
            None,
        ),
        ("services: {web: {image: x}\n", "1:11", "the '{' opened here is not closed", None),
        (
            "services:\n  web:\n    image: x\n    image: y\n",
            "4:5",
            "`image` is given twice in this mapping (first on line 3)",
            "    image: y\n    ^",
        ),
        ("services:\n  web:\n    image: x\n   ports: [80]\n", "4:4", "check the indentation", None),
        ("services:\n  web:\n    ports:\n  - 80\n", "4:3", "a list item ('-') where a key", None),
        ("services:\n  web:\n    image: a: b\n", "3:13", "must be in quotes", None),
        ("services:\n  web:\n    image: @x\n", "3:12", "cannot start with '@'", None),
    ],
)
def test_yaml_errors_say_where_and_what_in_words(
    text: str, where: str, words: str, excerpt: str | None
) -> None:
    with pytest.raises(TychoComposeError) as info:
        load_compose(text, source="compose.yaml")
    error = info.value
    assert str(error).startswith(f"compose.yaml:{where}: ")
    assert words in str(error)
    assert f"{error.line}:{error.column}" == where
    if excerpt is not None:
        assert error.excerpt == excerpt
    assert "while scanning" not in str(error)
    assert "while parsing" not in str(error)


def test_a_control_character_is_named_and_escaped_in_the_excerpt() -> None:
    with pytest.raises(TychoComposeError) as info:
        load_compose('services:\n  web:\n    image: "a\x07b"\n', source="c.yaml")
    error = info.value
    assert str(error) == "c.yaml:3:14: a control character (U+0007) YAML does not allow: remove it"
    assert error.excerpt == '    image: "a\\x07b"\n             ^'


def test_the_cli_shows_the_line_escaped_with_a_caret(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(f"services:\n  web:\n    image: x\n    password: {CANARY}\n\tports: [80]\n")
    (tmp_path / ".env").write_text("A=1\nNO EQUALS\n")
    done = tycho("validate", str(compose), check=2)
    assert done.stderr.splitlines() == [
        f"tycho: error: {compose}:5:1: a tab character: YAML indents with spaces only; replace "
        "it with spaces",
        "    \\tports: [80]",
        "    ^",
        f"tycho: error: {tmp_path / '.env'}:2: expected KEY=value, found no '='",
    ]
    assert CANARY not in done.stderr


def test_env_errors_name_the_file_and_each_line(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web: {image: nginx, ports: ['80']}\n")
    (tmp_path / ".env").write_text(f"A=1\n{CANARY}\nexport 2B=x\nC='open\n")
    done = tycho("validate", str(compose), check=2)
    env = tmp_path / ".env"
    assert [line.split(": ")[2] for line in done.stderr.splitlines()] == [
        f"{env}:2",
        f"{env}:3",
        f"{env}:4",
    ]
    assert CANARY not in done.stderr


# ------------------------------------------------------------ the example of the docs


def _docs_session() -> tuple[str, list[str]]:
    """docs/compose.md's `tycho validate` of examples/mistakes: its command and its output."""
    page = (ROOT / "docs" / "compose.md").read_text()
    block = page.split("$ tycho validate examples/mistakes/docker-compose.yaml", 1)[1]
    lines = block.split("```", 1)[0].strip("\n").splitlines()
    return "examples/mistakes/docker-compose.yaml", lines


def test_the_docs_show_validate_as_a_new_user_meets_it() -> None:
    path, shown = _docs_session()
    env = {k: v for k, v in base_env().items() if k != "POSTGRES_PASSWORD"}
    done = tycho("validate", path, cwd=ROOT, env=env, check=2)
    assert done.stderr.splitlines() == shown
    assert not os.path.exists(ROOT / "examples" / "mistakes" / ".env")


def test_a_compose_path_and_its_env_are_checked_together(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yaml"
    compose.write_text("services:\n  web:\n    image: nginx 1.25\n    ports: ['80']\n")
    (tmp_path / ".env").write_text("A=1\nNO EQUALS\n")
    error = error_of("app", compose)
    assert isinstance(error, TychoEnvError)
    assert error.paths == ["env.line 2", "system.services.web.image"]
    assert str(tmp_path / ".env") in str(error)
