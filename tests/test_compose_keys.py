"""Compose keys never silently change what runs: each key is honoured by servers, resolved by the
client as docker compose resolves it (``extends``, ``profiles``, ``command``), ignored where that
changes nothing, or refused in words; a key that is no compose key is a warning."""

from __future__ import annotations

import pathlib
import re
import warnings
from typing import Any

import pytest

from tycho_client.build import up_request
from tycho_client.compose import normalize_compose, validate_for_tycho
from tycho_client.errors import TychoComposeError, TychoComposeWarning, TychoValidationError
from tycho_client.rules.keys import KEY_USES, SERVICE_KEYS, TOP_LEVEL_KEYS

ROOT = pathlib.Path(__file__).parent.parent
# The table is in both: the README's section "Compose files" and the docs page.
TABLES = {
    ROOT / "README.md": "## Compose files",
    ROOT / "docs" / "compose.md": "## The compose keys",
}
WEB = {"image": "nginx:1.25", "ports": ["80"]}


def services(**named: Any) -> dict[str, Any]:
    return {"services": named}


def normalized(system: dict[str, Any], **options: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TychoComposeWarning)
        result = normalize_compose(system, **options)
    assert normalize_compose(result, **options) == result  # idempotent
    return result["services"]  # type: ignore[no-any-return]


def refused(system: dict[str, Any]) -> TychoValidationError:
    with pytest.raises(TychoValidationError) as info:
        validate_for_tycho(system)
    return info.value


# ------------------------------------------------------------------------------------ extends


def test_extends_merges_the_base_as_docker_compose_does() -> None:
    base = {
        "image": "python:3.12",
        "entrypoint": ["python", "base.py"],
        "environment": {"A": "1", "B": "2"},
        "ports": ["80", "81"],
        "volumes": ["pvc://claim/a:/data", "pvc://claim/logs:/logs"],
        "deploy": {"resources": {"limits": {"cpus": "1", "memory": "1G"}}},
        "labels": {"team": "a"},
    }
    web = {
        "extends": {"service": "base"},
        "entrypoint": "python web.py",
        "environment": ["B=3", "C=4"],
        "ports": ["81", "82"],
        "volumes": ["pvc://claim/b:/data"],
        "deploy": {"resources": {"limits": {"memory": "2G"}}},
    }
    merged = normalized(services(base=base, web=web))["web"]
    assert merged["image"] == "python:3.12"
    assert merged["entrypoint"] == "python web.py"  # replaced, not appended
    assert merged["environment"] == ["A=1", "B=3", "C=4"]  # by name, the extending one wins
    assert merged["ports"] == ["80", "81", "82"]  # appended, without repeats
    assert merged["volumes"] == ["pvc://claim/b:/data", "pvc://claim/logs:/logs"]  # by path
    assert merged["deploy"]["resources"]["limits"] == {"cpus": "1", "memory": "2G"}
    assert merged["labels"] == {"team": "a"}
    assert "extends" not in merged


def test_extends_follows_chains_and_takes_the_short_form() -> None:
    result = normalized(
        services(
            c={"extends": "b", "environment": ["C=3"]},
            b={"extends": "a", "environment": ["B=2"]},
            a={**WEB, "environment": ["A=1"]},
        )
    )
    assert result["c"]["environment"] == ["A=1", "B=2", "C=3"]
    assert result["c"]["image"] == WEB["image"]


@pytest.mark.parametrize(
    ("extends", "fragment"),
    [
        ({"service": "base", "file": "common.yaml"}, "another file"),
        ("ghost", "`ghost`, which this file does not define"),
        ({"file": "x"}, "another file"),
        (5, "must name a service of this file"),
        ("web", "cycle: web -> web"),
    ],
)
def test_extends_that_cannot_be_resolved_is_an_error(extends: Any, fragment: str) -> None:
    error = refused(services(base=WEB, web={**WEB, "extends": extends}))
    assert "system.services.web.extends" in error.paths
    assert fragment in str(error)


def test_a_cycle_of_extends_is_named() -> None:
    error = refused(services(a={**WEB, "extends": "b"}, b={**WEB, "extends": "a"}))
    assert "cycle: a -> b -> a" in str(error)


# ------------------------------------------------------------------------------------ profiles


def test_a_service_with_profiles_is_left_out_as_docker_compose_up_does() -> None:
    system = services(web=WEB, debug={"image": "busybox", "profiles": ["debug"]})
    assert list(normalized(system)) == ["web"]
    kept = normalized(system, profiles=["debug"])
    assert list(kept) == ["web", "debug"]
    assert "profiles" not in kept["debug"]  # so that normalizing again keeps it


def test_compose_profiles_in_env_activates_profiles() -> None:
    system = services(web=WEB, debug={"image": "busybox", "profiles": ["debug", "all"]})
    assert list(up_request("app", system).system.services) == ["web"]
    started = up_request("app", system, "COMPOSE_PROFILES=tools, all\n").system.services
    assert list(started) == ["web", "debug"]


def test_extends_inherits_profiles() -> None:
    system = services(base={**WEB, "profiles": ["base"]}, web={"extends": "base"}, db=WEB)
    assert list(normalized(system)) == ["db"]


@pytest.mark.parametrize(
    ("system", "path", "fragment"),
    [
        (
            services(web={**WEB, "profiles": ["a"]}),
            "system.services",
            "every service has `profiles`",
        ),
        (
            services(web={**WEB, "depends_on": ["db"]}, db={"image": "pg", "profiles": ["db"]}),
            "system.services.web.depends_on",
            "depends on `db`, which is left out: it has profiles (db)",
        ),
        (
            services(web={**WEB, "profiles": "debug"}),
            "system.services.web.profiles",
            "a list of profile names",
        ),
    ],
)
def test_profiles_that_would_change_what_runs_are_errors(
    system: dict[str, Any], path: str, fragment: str
) -> None:
    error = refused(system)
    assert path in error.paths
    assert fragment in str(error)


def test_an_optional_dependency_may_be_left_out() -> None:
    depends_on = {"db": {"condition": "service_started", "required": False}}
    system = services(web={**WEB, "depends_on": depends_on}, db={"image": "pg", "profiles": ["x"]})
    assert list(normalized(system)) == ["web"]


# ------------------------------------------------------------------------ command, entrypoint


@pytest.mark.parametrize(
    ("entrypoint", "command", "expected"),
    [
        ("sh -c \"echo 'hi there'\"", None, ["sh", "-c", "echo 'hi there'"]),
        (["/init"], "--port 80", ["/init", "--port", "80"]),
        ("nginx", ["-g", "daemon off;"], ["nginx", "-g", "daemon off;"]),
        ([], ["python", "app.py"], ["python", "app.py"]),  # docker: no entrypoint, the command
        ("run", [], "run"),  # as written: servers split it the same
    ],
)
def test_the_command_line_is_what_docker_runs(entrypoint: Any, command: Any, expected: Any) -> None:
    service: dict[str, Any] = {**WEB, "entrypoint": entrypoint}
    if command is not None:
        service["command"] = command
    result = normalized(services(web=service))["web"]
    assert result["entrypoint"] == expected
    assert "command" not in result


def test_a_command_without_an_entrypoint_is_refused_in_words() -> None:
    error = refused(services(web={**WEB, "command": "nginx -g 'daemon off;'"}))
    assert error.paths == ["system.services.web.command"]
    assert "real Tycho servers ignore `command`" in str(error)
    assert "`entrypoint`" in str(error)


def test_an_unclosed_quote_in_a_string_entrypoint_is_named() -> None:
    error = refused(services(web={**WEB, "entrypoint": "sh -c 'echo"}))
    assert error.paths == ["system.services.web.entrypoint"]
    assert "quote is not closed" in str(error)


def test_build_without_an_image_says_tycho_builds_nothing() -> None:
    error = refused(services(web={"build": ".", "ports": ["80"]}))
    assert error.paths == ["system.services.web.image"]
    assert "builds no images" in str(error)
    normalized(services(web={**WEB, "build": "."}))  # with an image: that image runs


# ----------------------------------------------------------------------- every key's decision

# A value of each refused key that asks the container to run differently.
ASKING = {
    "restart": "no",
    "scale": 3,
    "network_mode": "host",
    "user": "1000:1000",
    "deploy.replicas": 2,
    "deploy.restart_policy": {"condition": "on-failure"},
}
# ...and one that asks for nothing (ignored).
NOT_ASKING = {"restart": "always", "scale": 1, "network_mode": "service:web", "privileged": False}


def _service_with(key: str, value: Any) -> dict[str, Any]:
    if key.startswith("deploy."):
        return {**WEB, "deploy": {key.split(".", 1)[1]: value}}
    return {**WEB, key: value}


REFUSED_SERVICE_KEYS = [
    key
    for use in KEY_USES
    if use.use == "refused" and use not in TOP_LEVEL_KEYS
    for key in use.keys
]


@pytest.mark.parametrize("key", REFUSED_SERVICE_KEYS)
def test_each_refused_service_key_is_an_error_saying_what_to_do(key: str) -> None:
    error = refused(services(web=_service_with(key, ASKING.get(key, ["x"]))))
    loc = "system.services.web." + key
    assert error.paths == [loc]
    message = next(e.msg for e in error.errors if e.path == loc)
    assert message.startswith(f"real Tycho servers ignore `{key}`: ")
    assert any(word in message for word in ("instead", "remove", "write", "list", "use", "pass"))


@pytest.mark.parametrize(("key", "value"), sorted(NOT_ASKING.items()))
def test_a_refused_key_that_asks_for_nothing_is_ignored(key: str, value: Any) -> None:
    validate_for_tycho(services(web=_service_with(key, value), other=WEB))


IGNORED_SERVICE_KEYS = [key for use in SERVICE_KEYS if use.use == "ignored" for key in use.keys]


@pytest.mark.parametrize("key", IGNORED_SERVICE_KEYS)
def test_each_ignored_service_key_passes_without_a_word(key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_for_tycho(services(web={**WEB, key: "x"}))


def test_include_is_refused() -> None:
    error = refused({"include": ["common.yaml"], **services(web=WEB)})
    assert error.paths == ["system.include"]
    assert "copy the services" in str(error)


@pytest.mark.parametrize(
    ("system", "path", "hint"),
    [
        (
            services(web={**WEB, "enviroment": ["A=1"]}),
            "system.services.web.enviroment",
            "environment",
        ),
        (
            services(web={**WEB, "securityContext": {"privileged": True}}),
            "system.services.web.securityContext",
            None,
        ),
        ({"servcies": {}, **services(web=WEB)}, "system.servcies", "services"),
    ],
)
def test_a_key_that_is_no_compose_key_is_a_warning(
    system: dict[str, Any], path: str, hint: str | None
) -> None:
    with pytest.warns(TychoComposeWarning) as caught:
        normalize_compose(system)
    [warning] = [w.message for w in caught]
    assert isinstance(warning, TychoComposeWarning)
    assert warning.path == path
    assert str(warning).startswith(f"{path}: not a compose key, so real Tycho servers ignore it")
    assert (f"did you mean `{hint}`?" in str(warning)) is (hint is not None)


def test_extensions_and_tycho_keys_are_no_warning() -> None:
    service = {**WEB, "x-note": 1, "env": ["A=1"], "ext": {"kube": {}}, "conn_string": "a"}
    normalized({"x-anchors": {}, "security_context": {"runAsUser": 1000}, **services(web=service)})


# ------------------------------------------------------------------- the README and the docs


def _table(file: pathlib.Path) -> list[str]:
    section = file.read_text().split(TABLES[file], 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


@pytest.mark.parametrize("file", sorted(TABLES), ids=lambda file: file.name)
@pytest.mark.parametrize(
    "use", [*KEY_USES], ids=[f"{use.use}: {', '.join(use.keys)[:40]}" for use in KEY_USES]
)
def test_the_table_says_what_the_code_does(use: Any, file: pathlib.Path) -> None:
    rows = [row for row in _table(file) if all(f"`{key}`" in row for key in use.keys)]
    assert rows, f"no row of {file.name} lists {use.keys}"
    level = "top" if use in TOP_LEVEL_KEYS else "service"
    assert any(f"**{use.use}**" in row for row in rows), (level, use.keys)


@pytest.mark.parametrize("file", sorted(TABLES), ids=lambda file: file.name)
def test_every_row_is_in_the_code(file: pathlib.Path) -> None:
    keys = {key for use in KEY_USES for key in use.keys}
    for row in _table(file):
        named = re.findall(r"`([a-z_.]+)`", row.split("|")[1])
        assert named, row
        assert set(named) <= keys, row


def test_refusals_are_typed_compose_errors_through_up() -> None:
    with pytest.raises(TychoComposeError) as info:
        up_request("app", services(web={**WEB, "user": "root"}))
    assert info.value.paths == ["system.services.web.user"]
