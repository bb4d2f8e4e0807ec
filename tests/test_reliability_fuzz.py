"""Whatever text or data they are given, the input functions raise only their documented errors.

``format_name``, ``parse_env``, ``load_compose``, ``normalize_compose`` and ``up_request`` take
what users write; a bare ``ValueError``, ``RecursionError`` or ``UnicodeError`` from any of them
would reach the CLI as a traceback. 10,000 examples of user-like text and data, and 2,000 of the
hostile shapes (``${...}`` nested past the bound, mappings and YAML nested thousands deep, inputs
of megabytes); 300 files of both through ``tycho validate`` and ``tycho up --dry-run`` (exit 0 or
2, never a traceback). Marked ``slow``; CI runs every test, slow ones too.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tycho_client.build import up_request
from tycho_client.cli import main
from tycho_client.compose import load_compose, normalize_compose, validate_for_tycho
from tycho_client.envfile import parse_env
from tycho_client.errors import (
    TychoComposeError,
    TychoEnvError,
    TychoNameError,
    TychoValidationError,
)
from tycho_client.naming import format_name

pytestmark = pytest.mark.slow

EXAMPLES = settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Text that looks like what users write, plus the characters that break parsers.
awkward = st.characters(codec="utf-8") | st.sampled_from(
    ["\0", "\r", "\n", "\t", "\x0b", "\x0c", "\x1b", "\ufeff", "\u2028", "'", '"', "\\", "#", "="]
)
user_text = st.text(awkward, max_size=40)


def _env_line(parts: tuple[str, str, str]) -> str:
    key, quote, value = parts
    return f"{key}={quote}{value}{quote}"


env_texts = st.lists(
    st.one_of(
        user_text,
        st.tuples(
            st.from_regex(r"(export )?[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True),
            st.sampled_from(["", "'", '"']),
            user_text,
        ).map(_env_line),
    ),
    max_size=6,
).map("\n".join)

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**90, max_value=10**200),
    st.floats(),
    user_text,
)
data = st.recursive(
    scalar,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(user_text, st.integers()), children, max_size=4)
    ),
    max_leaves=8,
)
services = st.dictionaries(
    st.text(st.characters(codec="ascii"), max_size=10),
    st.one_of(
        data,
        st.fixed_dictionaries(
            {"image": st.one_of(user_text, scalar)},
            optional={
                key: data
                for key in ("ports", "expose", "environment", "env", "deploy", "volumes", "command")
            },
        ),
    ),
    max_size=2,
)
yaml_texts = st.one_of(
    user_text,
    st.lists(
        st.sampled_from(
            [
                "services:",
                "  web:",
                "    image: nginx",
                "    ports: [80, '8080:80', 99999999999999999999999999999999999]",
                "    environment: {A: 1, B: .inf, C: .nan}",
                "    deploy: {resources: {limits: {cpus: 1e999}}}",
                "  &a x: *a",
                "---",
                "- 1",
                "!!python/object:os.system x",
                "? [a]\n: b",
                "<<: *nowhere",
                '    image: "\\0"',
            ]
        )
        | user_text,
        max_size=8,
    ).map("\n".join),
)


@EXAMPLES
@given(user_text, env_texts, yaml_texts, services, data)
def test_input_functions_raise_only_their_documented_errors(
    name: str, env_text: str, yaml_text: str, compose_services: dict[str, Any], extra: Any
) -> None:
    # One test, five inputs per example: 10,000 examples of each in about a minute.
    try:
        formatted = format_name(name)
    except TychoNameError:
        pass
    else:
        assert format_name(formatted) == formatted

    try:
        parsed = parse_env(env_text)
    except TychoEnvError as exc:
        line = exc.line
        assert 1 <= line <= env_text.count("\n") + env_text.count("\r") + 1
    else:
        assert all("\0" not in value for value in parsed.values())

    with contextlib.suppress(TychoComposeError):
        validate_for_tycho(load_compose(yaml_text))

    with contextlib.suppress(TychoComposeError):
        validate_for_tycho(normalize_compose({"services": compose_services, "x-extra": extra}))


# ------------------------------------------------------------------------- hostile shapes

# 1,000 examples: each sends megabytes and thousands of levels through every entry point
# (~75 ms an example); CI's whole run must stay under 30 minutes.
HOSTILE = settings(EXAMPLES, max_examples=1_000)
OPERATORS = [":-", "-", ":+", "+", ":?", "?", "", "}x${"]


def _nested_variables(parts: tuple[int, list[str], str, str]) -> str:
    """``${V:-${V:-...core...}}``, ``depth`` levels of the operators given, in turn."""
    depth, operators, name, core = parts
    text = core
    for level in range(depth):
        text = f"${{{name}{operators[level % len(operators)]}{text}}}"
    return text


nested_variables = st.tuples(
    st.integers(0, 80),
    st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=4),
    st.sampled_from(["A", "UNSET", "EMPTY", "1", ""]),
    user_text,
).map(_nested_variables)


def _deep(parts: tuple[int, str, Any]) -> Any:
    depth, kind, leaf = parts
    value = leaf
    for _ in range(depth):
        value = {"k": value} if kind == "map" else [value]
    return value


def _in_compose(variables: str) -> str:
    service = "services:\n  web:\n    image: nginx\n    ports: ['80']\n"
    return f"{service}    environment: [{variables!r}]\n"


deep_data = st.tuples(st.integers(0, 3_000), st.sampled_from(["map", "list"]), scalar).map(_deep)


def _deep_yaml(parts: tuple[int, str]) -> str:
    depth, style = parts
    head = "services:\n  web:\n    image: nginx\n    ports: ['80']\n    x: "
    if style == "flow list":
        return head + "[" * depth + "]" * depth
    if style == "flow map":
        return head + "{a: " * depth + "1" + "}" * depth
    if style == "block":
        return head + "\n" + "".join("  " * (level + 3) + "a:\n" for level in range(depth))
    return head + "&x [" + "*x, " * min(depth, 50) + "1]"


deep_yaml = st.tuples(
    st.integers(0, 3_000), st.sampled_from(["flow list", "flow map", "block", "alias"])
).map(_deep_yaml)
# Megabytes made cheaply: a short piece repeated.
long_text = st.tuples(user_text.filter(bool), st.integers(1, 200_000)).map(
    lambda parts: (parts[0] * parts[1])[:2_000_000]
)
ENV_TEXT = "A=alpha\nEMPTY=\n"


def _only_validation_errors(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(TychoValidationError):
        call(*args, **kwargs)


@HOSTILE
@given(nested_variables, deep_data, deep_yaml, long_text)
def test_hostile_shapes_raise_only_validation_errors(
    variables: str, deep: Any, yaml_text: str, long: str
) -> None:
    def system(**service: Any) -> dict[str, Any]:
        return {"services": {"web": {"image": "nginx", "ports": ["80"], **service}}}

    _only_validation_errors(up_request, "app", system(environment=[f"A={variables}"]), ENV_TEXT)
    _only_validation_errors(up_request, "app", system(labels=deep), ENV_TEXT)
    _only_validation_errors(up_request, "app", {**system(), "x-deep": deep})
    _only_validation_errors(up_request, "app", yaml_text, ENV_TEXT)
    _only_validation_errors(load_compose, yaml_text)
    _only_validation_errors(up_request, long, system(image=long, command=[long]), f"A={long}")
    _only_validation_errors(load_compose, f"services: {{web: {{image: '{long}'}}}}")
    _only_validation_errors(parse_env, long)
    _only_validation_errors(parse_env, f"A='{long}")
    _only_validation_errors(format_name, long)


@settings(EXAMPLES, max_examples=300)
@given(st.one_of(yaml_texts, deep_yaml, nested_variables.map(_in_compose)), env_texts)
def test_validate_and_up_dry_run_answer_hostile_files_with_exit_2_in_words(
    compose_text: str, env_text: str
) -> None:
    # In-process (the command is the same code; a subprocess each would cost ~0.5 s).
    with tempfile.TemporaryDirectory() as folder:
        compose = Path(folder) / "compose.yaml"
        compose.write_text(compose_text, encoding="utf-8", errors="surrogatepass")
        (Path(folder) / ".env").write_text(env_text, encoding="utf-8", errors="surrogatepass")
        for command in (["validate"], ["up", "--dry-run", "-o", "json"]):
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                code = main([*command, "-f", str(compose)])
            assert code in (0, 2), stderr.getvalue()
            assert "Traceback" not in stderr.getvalue()
            assert "Error:" not in stderr.getvalue()  # no Python error's name
