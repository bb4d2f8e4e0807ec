from __future__ import annotations

import copy
import functools
import json
import pathlib
import time
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tycho_client.compose import (
    MAX_EXPANDED_NODES,
    container_port,
    derive_services,
    interpolate,
    load_compose,
    normalize_compose,
    validate_for_tycho,
)
from tycho_client.envfile import parse_env
from tycho_client.errors import TychoComposeError, TychoValidationError

SAMPLES = pathlib.Path(__file__).parent / "fixtures" / "samples"
CANARY = "s3cr3t-CANARY-value"


def sample(name: str, *, use_env: bool = True) -> dict[str, Any]:
    """Load a sample app the way `tycho up` does: YAML, then its .env (if any)."""
    folder = SAMPLES / name
    compose_path = folder / "docker-compose.yaml"
    env_path = folder / ".env"
    env: dict[str, str] = {}
    if use_env and env_path.is_file():
        env = parse_env(env_path.read_text(), source=str(env_path))
    system = load_compose(compose_path.read_text(), source=str(compose_path))
    return interpolate(system, env)


def compose_error(function: Any, *args: Any) -> TychoComposeError:
    with pytest.raises(TychoComposeError) as info:
        function(*args)
    assert isinstance(info.value, TychoValidationError)
    return info.value


def system_of(**services: Any) -> dict[str, Any]:
    return {"services": services}


# ----------------------------------------------------------------------------------- samples

PASSING = ["jupyter-ds", "nginx", "hail", "imagej", "rstudio-server", "cloud-top", "tranql"]


@pytest.mark.parametrize("name", PASSING)
def test_sample_goes_through(name: str) -> None:
    normalized = normalize_compose(sample(name))
    validate_for_tycho(normalized)
    assert normalize_compose(normalized) == normalized
    json.dumps(normalized)  # plain data, ready for the wire
    for service in normalized["services"].values():
        assert all(isinstance(port, str) for port in service.get("ports", []))
        assert all(isinstance(port, str) for port in service.get("expose", []))
        assert "environment" not in service or isinstance(service["environment"], list)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jupyter-ds", {"jupyter-ds": "8888"}),
        ("nginx", {"nginx": "80"}),
        ("hail", {"hail": "8000"}),
        ("imagej", {"imagej": "8080"}),
        ("rstudio-server", {"rstudio-server": "8787"}),
        ("cloud-top", {"cloud-top": "8080"}),
        ("tranql", {"backplane": "8099", "tranql": "8001"}),
    ],
)
def test_sample_services(name: str, expected: dict[str, str]) -> None:
    services = derive_services(sample(name))
    assert services == {key: {"port": port, "clients": []} for key, port in expected.items()}


def test_cloud_top_details() -> None:
    normalized = normalize_compose(sample("cloud-top"))
    services = normalized["services"]
    assert set(services) == {"cloud-top", "viewer", "orthanc", "mongo", "postgres"}
    assert "environment" not in services["cloud-top"]  # `environment:` with no value
    assert services["cloud-top"]["ports"] == ["8080:8080", "8081:8081"]
    assert services["orthanc"]["expose"] == ["8042", "4242"]
    assert services["cloud-top"]["deploy"]["resources"]["limits"] == {
        "cpus": "0.60",
        "memory": "5000M",
    }
    assert services["orthanc"]["securityContext"] == {"privileged": True}  # unknown key kept


def test_tranql_ports_come_from_its_env() -> None:
    system = sample("tranql")
    assert system["services"]["tranql"]["ports"] == ["8001:8001"]
    assert "--bind=0.0.0.0:8099" in system["services"]["backplane"]["entrypoint"]
    # A variable .env does not define is left for the server to see.
    assert system["networks"]["default"]["external"]["name"] == "${COMPOSE_PROJECT_NAME}_default"


def test_tranql_without_env_names_the_missing_variable() -> None:
    error = compose_error(validate_for_tycho, sample("tranql", use_env=False))
    assert "system.services.tranql.ports[0]" in error.paths
    assert "system.services.backplane.ports[0]" in error.paths
    assert "APP_PORT" in str(error)
    assert "define it in .env" in str(error)


def test_hail_keeps_an_undefined_host_port() -> None:
    system = normalize_compose(sample("hail"))
    assert system["services"]["hail"]["ports"] == ["${HOST_PORT}:8000"]


def test_nginx_and_jupyter_details() -> None:
    assert normalize_compose(sample("nginx"))["services"]["nginx"]["ports"] == ["30000:80"]
    jupyter = normalize_compose(sample("jupyter-ds"))["services"]["jupyter-ds"]
    assert jupyter["volumes"] == ["pvc://cloud-top/projects:/home/jovyan/data"]
    assert jupyter["env"] == ["AMB=False"]
    # Sent as written: servers' split on blanks gives docker compose's words.
    assert jupyter["entrypoint"] == "start.sh jupyter lab --LabApp.token="


def test_nextflow_fails_on_its_nfs_volume() -> None:
    error = compose_error(validate_for_tycho, sample("nextflow"))
    assert error.paths == ["system.services.nextflow.volumes[0]"]
    assert "pvc://<claim>[/<subpath>]:<container-path>" in str(error)


def test_xena_merges_two_documents_then_fails_on_its_host_volume() -> None:
    system = sample("xena")
    assert system["version"] == "3.0"
    limits = system["services"]["xena"]["deploy"]["resources"]["limits"]
    assert limits == {"cpus": "0.2", "memory": "20M"}
    assert system["services"]["xena"]["ports"] == ["7222:7222", "7223:7223"]
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services.xena.volumes[0]"]
    assert "PersistentVolumeClaims" in str(error)
    assert "/data" not in str(error)  # the value (from .env) is not echoed


def test_samples_are_byte_identical_copies() -> None:
    shared = pathlib.Path("/work/shared/samples")
    if not shared.is_dir():
        pytest.skip("shared samples not available")
    for original in shared.rglob("*"):
        if original.is_file():
            copy_path = SAMPLES / original.relative_to(shared)
            assert copy_path.read_bytes() == original.read_bytes(), copy_path


# ----------------------------------------------------------------------------------- loading


def test_multi_document_files_merge_in_order() -> None:
    text = "version: '3'\n---\nservices:\n  w: {image: x}\n---\nx-extra: 1\n"
    assert load_compose(text) == {"version": "3", "services": {"w": {"image": "x"}}, "x-extra": 1}


def test_empty_documents_are_skipped() -> None:
    assert load_compose("---\n---\nservices: {w: {image: x}}\n---\n") == {
        "services": {"w": {"image": "x"}}
    }


def test_a_key_in_two_documents_is_an_error_naming_it() -> None:
    text = "version: '3'\nservices: {w: {image: x}}\n---\n# again\nversion: '3.6'\n"
    error = compose_error(load_compose, text)
    assert error.paths == ["system.version"]
    assert "two YAML documents" in str(error)
    assert "line 5" in str(error)


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("", "system", "empty"),
        ("- a\n- b\n", "system", "a list, not a mapping"),
        ("just text\n", "system", "a single value"),
        ("version: '3'\n", "system.services", "is missing"),
        ("version: '3'\nservices:\n", "system.services", "must be a mapping"),
        ("services: [a, b]\n", "system.services", "must be a mapping"),
        ("services: {}\n", "system.services", "must not be empty"),
    ],
)
def test_document_shape_errors(text: str, path: str, fragment: str) -> None:
    error = compose_error(load_compose, text)
    assert error.paths == [path]
    assert fragment in str(error)


def test_errors_name_the_source_and_line() -> None:
    error = compose_error(
        lambda: load_compose("version: '3'\n\nservices: 5\n", source="apps/x.yaml")
    )
    assert str(error).startswith("apps/x.yaml:3:1: system.services: must be a mapping")
    assert (error.line, error.column) == (3, 1)


def test_yaml_syntax_error_has_its_line_and_no_source_text() -> None:
    text = f"services:\n  w:\n    image: x\n    password: {CANARY}\n   bad: [\n"
    error = compose_error(lambda: load_compose(text, source="c.yaml"))
    assert str(error).startswith("c.yaml:5:4: this does not line up with the keys around it")
    assert CANARY not in str(error)
    assert error.excerpt == "   bad: [\n   ^"  # the offending line, kept out of the message


def test_duplicate_keys_in_a_mapping_are_an_error() -> None:
    error = compose_error(load_compose, "services:\n  w:\n    image: x\n    image: y\n")
    assert error.paths == ["system.services.w.image"]
    assert str(error) == (
        "line 4, column 5: system.services.w.image: `image` is given twice in this mapping "
        "(first on line 3)"
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("services: {w: {image: !!binary aGk=}}\n", "system.services.w.image"),
        ("services: {w: !!set {image: x}}\n", "system.services.w"),
        ("services: {w: !reset {image: x}}\n", "system.services.w"),
        ("services: {w: {image: !!python/name:os.system x}}\n", "system.services.w.image"),
    ],
)
def test_tags_other_than_plain_data_are_rejected(text: str, path: str) -> None:
    error = compose_error(load_compose, text)
    assert error.paths == [path]
    assert "is not plain data (strings, numbers, booleans, lists, mappings)" in str(error)


def test_mapping_keys_must_be_strings() -> None:
    error = compose_error(load_compose, "services: {w: {image: x, environment: {1: a}}}\n")
    assert error.paths == ["system.services.w.environment"]


def test_scalars_resolve_as_in_docker_compose() -> None:
    text = (
        "services:\n  w:\n    image: x\n    ports: [22:22, 1:20:30, 8080]\n"
        "    labels: {d: 2024-01-01, y: yes, o: off, t: true, n: null, f: 1.5, e: =}\n"
    )
    service = load_compose(text)["services"]["w"]
    assert service["ports"] == ["22:22", "1:20:30", 8080]
    assert service["labels"] == {
        "d": "2024-01-01",
        "y": "yes",
        "o": "off",
        "t": True,
        "n": None,
        "f": 1.5,
        "e": "=",
    }


def test_anchors_and_merge_keys_work_and_results_are_not_shared() -> None:
    text = (
        "x-base: &base {image: x, environment: [A=1]}\n"
        "services:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    image: y\n"
    )
    services = load_compose(text)["services"]
    assert services["a"] == {"image": "x", "environment": ["A=1"]}
    assert services["b"] == {"image": "y", "environment": ["A=1"]}
    services["a"]["environment"].append("B=2")
    assert services["b"]["environment"] == ["A=1"]


def billion_laughs(levels: int) -> str:
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    lines.append("services: {w: {image: x}}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected_quickly() -> None:
    started = time.monotonic()
    error = compose_error(load_compose, billion_laughs(10))
    assert time.monotonic() - started < 1
    assert "aliases" in str(error)
    assert str(MAX_EXPANDED_NODES) in str(error)


def test_modest_alias_use_is_fine() -> None:
    # 10 + 100 + 1000 expanded nodes is well under the limit.
    system = load_compose(billion_laughs(3))
    assert len(system["lol2"]) == 10
    assert system["lol2"][9][9][9] == "lol"


def test_recursive_alias_is_rejected() -> None:
    error = compose_error(load_compose, "services: &s {w: {image: x, loop: *s}}\n")
    assert error.paths == ["system.services.w.loop"]
    assert "contains it" in str(error)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "services: {w: {image: x, deep: " + "[" * 3000 + "]" * 3000 + "}}\n"
    error = compose_error(load_compose, text)
    assert error.paths == ["system"]


def test_nesting_is_bounded_with_aliases_counted_as_expanded() -> None:
    # 40 levels under an anchor are fine at the top; the same node reused 30 levels down is not.
    shallow = "x-a: &x " + "[" * 40 + "]" * 40 + "\nservices: {w: {image: x}}\n"
    assert load_compose(shallow)["x-a"]
    deep = shallow + "x-b: " + "[" * 30 + "*x" + "]" * 30 + "\n"
    error = compose_error(load_compose, deep)
    assert "nests more than 64 levels deep" in str(error)
    assert "line 3" in str(error)


def test_deep_data_given_to_the_pipeline_is_named_by_its_key() -> None:
    deep: Any = "leaf"
    for _ in range(500):
        deep = {"a": deep}
    system = {"services": {"w": {"image": "x", "ports": ["80"], "x-deep": deep}}}
    for step in (normalize_compose, functools.partial(interpolate, env={})):
        error = compose_error(step, system)
        assert error.paths == ["system.services.w.x-deep"]
        assert "nests more than 64 levels deep" in str(error)


# ------------------------------------------------------------------------------ interpolation

ENV = {"A": "alpha", "EMPTY": "", "PORT": "8080"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$A", "alpha"),
        ("${A}", "alpha"),
        ("x${A}y$A.z", "xalphayalpha.z"),
        ("$MISSING", "$MISSING"),
        ("${MISSING}", "${MISSING}"),
        ("${MISSING:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${MISSING-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${A:-dflt}", "alpha"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${MISSING+alt}", ""),
        ("${MISSING:-${PORT}}", "8080"),
        ("${MISSING:-$A/x}", "alpha/x"),
        ("$$A", "$A"),
        ("$$", "$"),
        ("cost: 5$", "cost: 5$"),
        ("$1 ${1}", "$1 ${1}"),
        ("${unterminated", "${unterminated"),
        ("${PORT}:${PORT}", "8080:8080"),
    ],
)
def test_interpolation_forms(text: str, expected: str) -> None:
    assert interpolate({"x": text}, ENV) == {"x": expected}


def test_env_values_are_not_interpolated_again() -> None:
    assert interpolate({"x": "$A"}, {"A": "$B", "B": "no"}) == {"x": "$B"}


def test_process_environment_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TYCHO_TEST_LEAK", CANARY)
    result = interpolate({"a": "$TYCHO_TEST_LEAK", "b": "${TYCHO_TEST_LEAK:-d}"}, {})
    assert result == {"a": "$TYCHO_TEST_LEAK", "b": "d"}


def test_interpolation_walks_every_string_but_not_keys() -> None:
    system = {
        "services": {"$A": {"image": "img:$A", "ports": ["$PORT:80", 8080], "x": [True, None]}}
    }
    original = copy.deepcopy(system)
    result = interpolate(system, ENV)
    assert result == {
        "services": {"$A": {"image": "img:alpha", "ports": ["8080:80", 8080], "x": [True, None]}}
    }
    assert system == original


def test_required_variable_error_names_the_field() -> None:
    system = {"services": {"w": {"image": "${IMAGE:?set IMAGE to the image to run}"}}}
    error = compose_error(interpolate, system, {})
    assert error.paths == ["system.services.w.image"]
    assert "IMAGE" in str(error)
    assert "set IMAGE to the image to run" in str(error)
    assert interpolate(system, {"IMAGE": "x"}) == {"services": {"w": {"image": "x"}}}
    assert compose_error(interpolate, {"v": "${E:?}"}, {"E": ""}).paths == ["system.v"]
    assert interpolate({"v": "${E?}"}, {"E": ""}) == {"v": ""}


def test_nested_variables_are_bounded_at_32_levels() -> None:
    def nested(levels: int) -> str:
        return "${UNSET:-" * levels + "x" + "}" * levels

    system = {"services": {"web": {"environment": ["A=" + nested(32)]}}}
    assert interpolate(system, {})["services"]["web"]["environment"] == ["A=x"]
    system["services"]["web"]["environment"] = ["A=" + nested(33)]
    error = compose_error(interpolate, system, {})
    assert str(error) == (
        "invalid compose document: system.services.web.environment[0]: "
        "variables nested more than 32 levels deep in ${...}"
    )


# ----------------------------------------------------------------------------------- normalizing


def normalized_service(**service: Any) -> Any:
    service.setdefault("image", "x")
    return normalize_compose(system_of(w=service))["services"]["w"]


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([8080], ["8080"]),
        (["8080:80"], ["8080:80"]),
        (["127.0.0.1:8080:80"], ["8080:80"]),
        (["[::1]:8080:80"], ["8080:80"]),
        (["127.0.0.1::80"], ["80"]),
        (["8080:80/tcp", "81/TCP"], ["8080:80", "81"]),
        (["$HOST:80"], ["$HOST:80"]),
        (["${HOST:-1}:80"], ["${HOST:-1}:80"]),
        ([{"target": 80, "published": 8080, "protocol": "tcp"}], ["8080:80"]),
        ([{"target": 80}], ["80"]),
        ([" 8080:80 "], ["8080:80"]),
    ],
)
def test_ports_become_strings_servers_read(ports: list[Any], expected: list[str]) -> None:
    assert normalized_service(ports=ports)["ports"] == expected


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("8080:80/udp", "UDP"),
        ({"target": 53, "protocol": "udp"}, "UDP"),
        ("8000-8010:8000-8010", "ranges"),
        ("8000-8010", "ranges"),
        ("1:2:3:4", "[ip:]host:container"),
        ("80/http", "/tcp"),
        (True, "port"),
        (1.5, "port"),
        ({"published": 80}, "target"),
    ],
)
def test_bad_ports_are_errors_naming_the_entry(entry: Any, fragment: str) -> None:
    error = compose_error(normalize_compose, system_of(w={"image": "x", "ports": ["80", entry]}))
    assert error.paths == ["system.services.w.ports[1]"]
    assert fragment in str(error)


def test_expose_entries_become_strings() -> None:
    assert normalized_service(expose=[80, "443", "8042/tcp"])["expose"] == ["80", "443", "8042"]
    error = compose_error(normalize_compose, system_of(w={"image": "x", "expose": ["80:80"]}))
    assert error.paths == ["system.services.w.expose[0]"]


def test_environment_mapping_becomes_a_list() -> None:
    environment = {"A": "x", "B": 5, "C": 1.5, "D": True, "E": None, "F": ""}
    assert normalized_service(environment=environment)["environment"] == [
        "A=x",
        "B=5",
        "C=1.5",
        "D=true",
        "E",
        "F=",
    ]
    assert normalized_service(env={"A": "1"})["env"] == ["A=1"]


def test_environment_list_is_kept_and_checked() -> None:
    assert normalized_service(environment=["A=1", "B"])["environment"] == ["A=1", "B"]
    error = compose_error(normalize_compose, system_of(w={"image": "x", "environment": ["A", 5]}))
    assert error.paths == ["system.services.w.environment[1]"]
    error = compose_error(normalize_compose, system_of(w={"image": "x", "env": {"A": [1]}}))
    assert error.paths == ["system.services.w.env.A"]


@pytest.mark.parametrize("key", ["environment", "env", "ports", "expose", "depends_on", "deploy"])
def test_null_means_absent(key: str) -> None:
    assert key not in normalized_service(**{key: None})


def test_entrypoint_and_command() -> None:
    # docker runs the command as the entrypoint's arguments; servers ignore `command`.
    service = normalized_service(entrypoint="/init --x", command=["sleep", 5, 1.5])
    assert service["entrypoint"] == ["/init", "--x", "sleep", "5", "1.5"]
    assert "command" not in service
    assert normalized_service(command=5)["command"] == "5"  # alone: the rules refuse it
    error = compose_error(normalize_compose, system_of(w={"image": "x", "command": ["a", None]}))
    assert error.paths == ["system.services.w.command[1]"]


def test_resources_become_strings() -> None:
    deploy = {
        "resources": {"limits": {"cpus": 1, "memory": "4Gi"}, "reservations": {"cpus": 0.5}},
        "replicas": 1,
    }
    service = normalized_service(deploy=deploy)
    assert service["deploy"] == {
        "resources": {"limits": {"cpus": "1", "memory": "4Gi"}, "reservations": {"cpus": "0.5"}},
        "replicas": 1,
    }
    assert normalized_service(deploy={"resources": None})["deploy"] == {}
    assert (
        "limits"
        not in normalized_service(deploy={"resources": {"limits": None}})["deploy"]["resources"]
    )


def test_depends_on_mapping_becomes_its_keys() -> None:
    depends = {"db": {"condition": "service_healthy"}, "cache": {}}
    assert normalized_service(depends_on=depends)["depends_on"] == ["db", "cache"]
    assert normalized_service(depends_on=["db"])["depends_on"] == ["db"]


def test_volumes_are_kept() -> None:
    volumes = ["pvc://c:/a", "./x:/y", {"type": "bind"}]
    assert normalized_service(volumes=volumes)["volumes"] == volumes
    assert normalized_service(volumes=[" pvc://c:/a "])["volumes"] == ["pvc://c:/a"]


def test_unknown_keys_are_left_alone() -> None:
    system = {
        "version": "3",
        "x-custom": {"a": [1, 2]},
        "services": {"w": {"image": "x", "labels": {"a": 1}, "ext": {"kube": {}}}},
    }
    assert normalize_compose(system) == system


def test_service_must_be_a_mapping_with_an_image() -> None:
    error = compose_error(normalize_compose, system_of(a="nginx", b={"ports": ["80"]}, c={}))
    assert error.paths == [
        "system.services.a",
        "system.services.b.image",
        "system.services.c.image",
    ]
    assert "services.b" in str(error)
    error = compose_error(normalize_compose, system_of(w={"image": ""}))
    assert error.paths == ["system.services.w.image"]


def test_services_must_be_a_non_empty_mapping() -> None:
    assert compose_error(normalize_compose, {"services": {}}).paths == ["system.services"]
    assert compose_error(normalize_compose, {"version": "3"}).paths == ["system.services"]


def test_normalize_does_not_change_its_input() -> None:
    system = system_of(w={"image": "x", "ports": [80], "environment": {"A": 1}})
    original = copy.deepcopy(system)
    normalize_compose(system)
    assert system == original


port_entries = st.one_of(
    st.integers(1, 65535),
    st.integers(1, 65535).map(str),
    st.tuples(st.integers(1, 65535), st.integers(1, 65535)).map(lambda p: f"{p[0]}:{p[1]}"),
    st.tuples(st.integers(1, 65535), st.integers(1, 65535)).map(
        lambda p: f"127.0.0.1:{p[0]}:{p[1]}/tcp"
    ),
    st.builds(lambda t, p: {"target": t, "published": p}, st.integers(1, 65535), st.integers(1, 9)),
    st.sampled_from(["$P:80", "${P:-8080}:80", "80"]),
)
# No NUL characters and no numbers of 100 digits: normalize_compose refuses them (tested in
# tests/test_reliability.py).
_text = functools.partial(st.text, st.characters(exclude_characters="\x00"))
_integers = st.integers(-(10**30), 10**30)
scalars = st.one_of(st.none(), st.booleans(), _integers, _text(max_size=8))
env_keys = st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True)
services_strategy = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
    st.fixed_dictionaries(
        {"image": _text(min_size=1, max_size=8).filter(str.strip)},
        optional={
            "ports": st.one_of(st.none(), st.lists(port_entries, max_size=3)),
            "expose": st.lists(st.one_of(st.integers(1, 65535), st.just("80/tcp")), max_size=2),
            "environment": st.one_of(
                st.none(),
                st.dictionaries(env_keys, scalars, max_size=3),
                st.lists(env_keys.map(lambda k: f"{k}=v"), max_size=3),
            ),
            "env": st.one_of(st.none(), st.dictionaries(env_keys, scalars, max_size=3)),
            "command": st.one_of(
                _text(max_size=8), st.lists(st.one_of(_text(max_size=5), _integers))
            ),
            "deploy": st.fixed_dictionaries(
                {
                    "resources": st.fixed_dictionaries(
                        {"limits": st.dictionaries(st.sampled_from(["cpus", "memory"]), scalars)}
                    )
                }
            ),
            "depends_on": st.one_of(
                st.lists(_text(max_size=5), max_size=2),
                st.dictionaries(_text(max_size=5), st.just({"condition": "x"}), max_size=2),
            ),
            "x-other": scalars,
        },
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=150)
@given(services_strategy)
def test_normalize_is_idempotent(services: dict[str, Any]) -> None:
    once = normalize_compose({"services": services})
    assert normalize_compose(once) == once
    json.dumps(once)
    for service in once["services"].values():
        assert all(isinstance(port, str) for port in service.get("ports", []))
        for key in ("environment", "env"):
            assert all(isinstance(item, str) for item in service.get(key, []))


# ----------------------------------------------------------------------------- container port


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("$VAR:8080", "8080"),
        (8080, "8080"),
        ("8888:8888", "8888"),
        ("80", "80"),
        ("127.0.0.1:8080:80", "80"),
        ("8080:80/tcp", "80"),
        ("${HOST_PORT}:8000", "8000"),
        ("65535", "65535"),
    ],
)
def test_container_port(entry: str | int, expected: str) -> None:
    assert container_port(entry) == expected


def test_container_port_from_an_undefined_variable() -> None:
    error = compose_error(container_port, "$APP_PORT:$APP_PORT")
    assert "APP_PORT" in str(error)
    assert "define it in .env" in str(error)
    assert "APP_PORT" in str(compose_error(container_port, "8080:${APP_PORT}"))


@pytest.mark.parametrize("entry", ["0", 0, 65536, "080", "http", "8080:", "53/udp", "1-2"])
def test_container_port_must_be_a_literal_port(entry: str | int) -> None:
    compose_error(container_port, entry)


def test_container_port_agrees_with_the_servers_split() -> None:
    # Servers take text.split(":")[1]; a ':' hidden in an undefined default would fool them.
    error = compose_error(container_port, "${HOST:-1:2}:80")
    assert "host side" in str(error)


# --------------------------------------------------------------------------- derived services


def test_derive_services_uses_the_first_port_of_services_with_ports() -> None:
    system = system_of(
        web={"image": "x", "ports": [{"target": 80, "published": 8080}, "443"]},
        db={"image": "y", "expose": ["5432"]},
        empty={"image": "z", "ports": []},
    )
    assert derive_services(system) == {"web": {"port": "80", "clients": []}}


def test_derive_services_names_a_bad_first_port() -> None:
    system = system_of(web={"image": "x", "ports": ["$P:$P"]})
    error = compose_error(derive_services, system)
    assert error.paths == ["system.services.web.ports[0]"]


# ------------------------------------------------------------------------------ tycho checks


def test_a_system_without_ports_is_explained() -> None:
    system = system_of(db={"image": "postgres", "expose": ["5432"]})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services"]
    assert "argument of type 'int' is not iterable" in str(error)
    assert "no service has `ports`" in str(error)


@pytest.mark.parametrize(
    "volume",
    [
        "pvc://claim:/data",
        "pvc://claim/sub/dir:/data",
        "pvc://cloud-top/projects:/home/jovyan/data",
        "pvc://c:/",
    ],
)
def test_pvc_volumes_are_accepted(volume: str) -> None:
    validate_for_tycho(system_of(w={"image": "x", "ports": ["80"], "volumes": [volume]}))


@pytest.mark.parametrize(
    ("volume", "fragment"),
    [
        ("./data:/data", "PersistentVolumeClaims"),
        ("data:/data", "PersistentVolumeClaims"),
        ("TYCHO_NFS/x:/workspace", "PersistentVolumeClaims"),
        ("pvc://claim", "PersistentVolumeClaims"),
        ("pvc://claim:/data:ro", ":ro"),
        ("pvc://claim:relative", "PersistentVolumeClaims"),
        ("pvc:///x:/data", "PersistentVolumeClaims"),
        ("pvc://Claim_1:/data", "DNS label"),
        ("pvc://${CLAIM}:/data", "define it in .env"),
        ({"type": "volume", "source": "x", "target": "/y"}, "PersistentVolumeClaims"),
    ],
)
def test_other_volumes_are_errors_naming_the_entry(volume: Any, fragment: str) -> None:
    system = system_of(w={"image": "x", "ports": ["80"], "volumes": ["pvc://ok:/a", volume]})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services.w.volumes[1]"]
    assert fragment in str(error)


@pytest.mark.parametrize(
    ("name", "has_ports", "ok"),
    [
        ("web", True, True),
        ("w" * 30, True, True),
        ("w" * 31, True, False),
        ("1web", True, False),
        ("1web", False, True),
        ("w" * 63, False, True),
        ("w" * 64, False, False),
        ("my_db", False, False),
        ("Web", False, False),
    ],
)
def test_service_names_must_fit_kubernetes(name: str, has_ports: bool, ok: bool) -> None:
    service: dict[str, Any] = {"image": "x", "ports": ["80"]} if has_ports else {"image": "x"}
    system = system_of(**{name: service, "main": {"image": "y", "ports": ["80"]}})
    if ok:
        validate_for_tycho(system)
    else:
        assert compose_error(validate_for_tycho, system).paths == [f"system.services.{name}"]


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (f"URL=postgres://db/x?sslmode=require&p={CANARY}", "contains '='"),
        (f'QUOTED=say "{CANARY}"', "double-quoted YAML"),
        (f"WIN=C:\\{CANARY}", "double-quoted YAML"),
        ("=novar", "variable name"),
    ],
)
def test_env_items_that_servers_would_mangle(item: str, fragment: str) -> None:
    system = system_of(w={"image": "x", "ports": ["80"], "environment": ["OK=1", item]})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services.w.environment[1]"]
    assert fragment in str(error)
    assert CANARY not in str(error)


def test_env_and_environment_together_are_an_error() -> None:
    system = system_of(w={"image": "x", "ports": ["80"], "env": ["A=1"], "environment": ["B=2"]})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services.w.environment"]
    assert "only `env`" in str(error)


def test_resource_keys_the_server_does_not_know() -> None:
    resources = {"limits": {"cpus": "1", "pids": 10}, "reservations": {"devices": []}}
    system = system_of(w={"image": "x", "ports": ["80"], "deploy": {"resources": resources}})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == [
        "system.services.w.deploy.resources.limits.pids",
        "system.services.w.deploy.resources.reservations.devices",
    ]


def test_expose_needs_a_literal_port() -> None:
    system = system_of(w={"image": "x", "ports": ["80"], "expose": ["$DB_PORT"]})
    error = compose_error(validate_for_tycho, system)
    assert error.paths == ["system.services.w.expose[0]"]
    assert "DB_PORT" in str(error)


def test_validate_accepts_raw_compose_forms() -> None:
    # validate normalizes first, so integer ports and environment mappings are fine.
    validate_for_tycho(system_of(w={"image": "x", "ports": [8080], "environment": {"A": 1}}))


def test_every_problem_is_listed() -> None:
    system = system_of(
        a={"image": "x", "volumes": ["/x:/y"]},
        b={"image": "y", "volumes": ["/x:/y"], "expose": ["$P"]},
    )
    error = compose_error(validate_for_tycho, system)
    assert error.paths == [
        "system.services.a.volumes[0]",
        "system.services.b.expose[0]",
        "system.services.b.volumes[0]",
        "system.services",
    ]
    assert "(and 1 more)" in str(error)
