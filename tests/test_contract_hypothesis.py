"""The client's models and the document check each other, with generated data.

- Every answer the document allows (generated from its response schemas by hypothesis-jsonschema,
  ``$ref`` s inlined) parses with the client's models.
- Every request the client builds validates against the document's request schemas: ``up`` from
  generated compose documents, ``.env`` texts and names, and status/delete/modify from generated
  GUIDs, names, labels and amounts. The requests are captured by FakeTycho, which checks them with
  jsonschema (not with the models) and answers them as a real server would.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis_jsonschema import from_schema

from tycho_client import format_name, models, rules
from tycho_client._generated.operations import OPERATIONS
from tycho_client._response import outcome_adapter
from tycho_client.client import TychoClient
from tycho_client.compose import derive_services
from tycho_client.errors import TychoAPIError
from tycho_client.openapi import problems, request_validator, resolved_schema
from tycho_client.testing import FakeTycho

CONTRACT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUCCESS_MODELS = {
    "start": models.StartResponse,
    "status": models.StatusResponse,
    "delete": models.DeleteResponse,
    "modify": models.ModifyResponse,
}

# ------------------------------------------------------------------ answers -> models


def bounded(schema: Any, size: int = 3) -> Any:
    """``schema`` with arrays and open-ended maps of at most ``size`` entries: generating the
    document's unbounded lists and maps is slow and adds nothing to what a parse checks."""
    if isinstance(schema, list):
        return [bounded(item, size) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: bounded(value, size) for key, value in schema.items()}
    if out.get("type") == "array" and "maxItems" not in out:
        out["maxItems"] = size
    if out.get("type") == "object" and "maxProperties" not in out and not out.get("required"):
        out["maxProperties"] = size
    return out


def generated(name: str) -> st.SearchStrategy[Any]:
    return from_schema(bounded(resolved_schema(f"/components/schemas/{name}")))


def answers(operation: str) -> st.SearchStrategy[Any]:
    return generated(f"{operation.title()}Outcome")


@pytest.mark.parametrize("operation", sorted(SUCCESS_MODELS))
def test_every_documented_answer_parses_with_the_models(operation: str) -> None:
    @CONTRACT
    @given(answer=answers(operation))
    def check(answer: dict[str, Any]) -> None:
        parsed = outcome_adapter(OPERATIONS[operation]).validate_python(answer)
        expected = (
            SUCCESS_MODELS[operation] if answer["status"] == "success" else models.ErrorResponse
        )
        assert isinstance(parsed, expected)
        assert getattr(parsed, "message", None) == answer["message"]
        if isinstance(parsed, models.ErrorResponse):
            assert parsed.result.error == answer["result"]["error"]
        elif isinstance(parsed, models.StatusResponse):
            assert [s.name for s in parsed.result] == [s["name"] for s in answer["result"]]
            assert [s.port for s in parsed.result] == [s["port"] for s in answer["result"]]

    check()


@CONTRACT
@given(body=generated("HTTPErrorBody"))
def test_every_framework_error_body_parses(body: dict[str, Any]) -> None:
    assert models.HTTPErrorBody.model_validate(body).message == body["message"]


# ---------------------------------------------------------------- requests -> document

LOWER_ALNUM = string.ascii_lowercase + string.digits
service_names = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?", fullmatch=True)
images = st.sampled_from(
    ["nginx:1.25", "postgres:15", "jupyter/datascience-notebook", "busybox", "redis:7-alpine"]
)
ports = st.integers(1, 65535)
# Not HOST_PORT (the ports' own variable), nor a name YAML reads as something else (NO, ON,
# NULL...): servers write names unquoted, and the document and the client refuse those.
env_keys = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda key: key != "HOST_PORT" and not rules.reads_as_non_string(key)
)
# What servers can carry in an environment item: no '=', '"', '\' (they split and quote items),
# no '$' (compose interpolation), no '{' (Jinja) and nothing that is not a printable character.
env_item_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters='="\\${'),
    max_size=12,
)


def port_entry(host_port_defined: bool) -> st.SearchStrategy[Any]:
    entries = [
        ports,
        ports.map(str),
        st.tuples(ports, ports).map(lambda p: f"{p[0]}:{p[1]}"),
        st.tuples(ports, ports).map(lambda p: f"127.0.0.1:{p[0]}:{p[1]}"),
        ports.map(lambda p: f"{p}/tcp"),
        st.tuples(ports, ports).map(lambda p: {"target": p[1], "published": p[0]}),
    ]
    if host_port_defined:
        entries.append(ports.map(lambda p: f"${{HOST_PORT}}:{p}"))
    return st.one_of(entries)


def environment() -> st.SearchStrategy[Any]:
    scalar = st.one_of(env_item_text, st.integers(-999, 999), st.booleans(), st.none())
    return st.one_of(
        st.dictionaries(env_keys, scalar, max_size=3),
        st.lists(st.tuples(env_keys, env_item_text).map("=".join), max_size=3),
    )


def amounts() -> st.SearchStrategy[dict[str, Any]]:
    cpus = st.one_of(
        st.sampled_from(["0.01", "0.5", "1", "2.5", "100m"]),
        st.integers(1, 8),
        st.sampled_from([0.25, 1.5]),
    )
    memory = st.sampled_from(["50M", "256Mi", "1G", "4Gi"])
    # Servers write memory only beside cpus, and fail on cpus without memory.
    return st.fixed_dictionaries({"cpus": cpus, "memory": memory})


def _container(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry["target"])
    return str(entry).split("/")[0].rsplit(":", 1)[-1]


@st.composite
def compose_service(draw: st.DrawFn, *, needs_ports: bool, host_port_defined: bool) -> Any:
    service: dict[str, Any] = {"image": draw(images)}
    if needs_ports or draw(st.booleans()):
        # One container port once: Kubernetes refuses a Service with a duplicate port.
        service["ports"] = draw(
            st.lists(port_entry(host_port_defined), min_size=1, max_size=3, unique_by=_container)
        )
    if draw(st.booleans()):
        service["environment"] = draw(environment())
    elif draw(st.booleans()):
        service["env"] = draw(st.lists(st.tuples(env_keys, env_item_text).map("=".join)))
    if draw(st.booleans()):
        words = st.from_regex(r"[a-z][a-z0-9.=-]{0,8}", fullmatch=True)
        service["entrypoint"] = draw(
            st.one_of(words, st.lists(st.one_of(words, st.integers(0, 99)), max_size=3))
        )
    if draw(st.booleans()):
        resources = {"limits": draw(amounts())}
        if draw(st.booleans()):
            # Kubernetes refuses reservations above the limits.
            resources["reservations"] = dict(resources["limits"])
        service["deploy"] = {"resources": resources}
    if draw(st.booleans()):
        claim = draw(st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True))
        path = draw(st.from_regex(r"/[a-z]{1,6}(/[a-z]{1,6})?", fullmatch=True))
        service["volumes"] = [f"pvc://{claim}{draw(st.sampled_from(['', '/sub']))}:{path}"]
    if draw(st.booleans()):
        service["restart"] = "unless-stopped"
        service["x-note"] = {"any": ["extension", 1]}
    return service


@st.composite
def compose_documents(draw: st.DrawFn, *, host_port_defined: bool) -> dict[str, Any]:
    names = draw(st.lists(service_names, min_size=1, max_size=3, unique=True))
    services = {
        name: draw(compose_service(needs_ports=index == 0, host_port_defined=host_port_defined))
        for index, name in enumerate(names)
    }
    for name in names[1:]:
        if draw(st.booleans()):
            services[name]["depends_on"] = draw(
                st.one_of(
                    st.just([names[0]]), st.just({names[0]: {"condition": "service_started"}})
                )
            )
    document: dict[str, Any] = {"services": services}
    if draw(st.booleans()):
        document["version"] = draw(st.sampled_from(["3", "3.8"]))
    if draw(st.booleans()):
        document["x-shared"] = {"anchors": True}
    return document


def dotenv_line(key: str, value: str, style: str) -> str:
    """One ``.env`` binding whose parsed value is exactly ``value``."""
    if style == "double":
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{key}="{escaped}"'
    if style == "single":
        return f"export {key} = '{value}'"
    return f"{key}={value}  # a comment" if value else f"{key}="


@st.composite
def dotenv_texts(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """``.env`` text and the mapping it means (values may be secrets: never shown)."""
    keys = draw(st.lists(env_keys, max_size=5, unique=True))
    lines = ["# generated settings", ""]
    expected: dict[str, str] = {}
    # What the client accepts in a setting (servers split on '=' and quote values unescaped),
    # without CR, which .env reading turns into a line break, or NUL, which it refuses.
    any_text = st.text(
        st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters='="\\{'),
        max_size=15,
    )
    for key in keys:
        style = draw(st.sampled_from(["plain", "single", "double"]))
        if style == "plain":
            value = draw(any_text.map(lambda t: " ".join(t.split()).replace(" #", " ")))
            assume(not value.startswith(("'", '"', "#")))
        elif style == "single":
            value = draw(any_text.filter(lambda t: "'" not in t))
        else:
            value = draw(any_text)
        lines.append(dotenv_line(key, value, style))
        expected[key] = value
    if draw(st.booleans()):
        lines.append("HOST_PORT=30000")
        expected["HOST_PORT"] = "30000"
    return "\n".join(lines) + "\n", expected


names = st.text(min_size=1, max_size=50).filter(
    lambda name: any(c in LOWER_ALNUM for c in name.lower())
)
# Names the document accepts once formatted: not what YAML reads as a number or boolean ("123").
start_names = names.filter(lambda name: not rules.reads_as_non_string(format_name(name)))


def captured(fake: FakeTycho, call: Callable[[TychoClient], Any]) -> dict[str, Any]:
    """The one request ``call`` sent, after checking the document accepts it."""
    answered = len(fake.requests)
    with TychoClient("http://tycho.test", transport=fake, username="alice") as client:
        call(client)
    (request,) = fake.requests[answered:]
    assert request.problems == (), request.problems
    assert request.status_code == 200
    body: dict[str, Any] = request.body
    return body


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=start_names, dotenv=dotenv_texts(), data=st.data())
def test_up_sends_what_the_document_accepts_and_servers_start(
    name: str, dotenv: tuple[str, dict[str, str]], data: st.DataObject
) -> None:
    text, settings_mapping = dotenv
    document = data.draw(compose_documents(host_port_defined="HOST_PORT" in settings_mapping))
    fake = FakeTycho()
    body = captured(fake, lambda client: client.up(name, document, text))
    (system,) = fake.systems.values()
    assert body["env"] == settings_mapping
    assert body["name"] == system.app_id
    assert json.loads(body["principal"]) == {"username": "alice"}
    assert set(body["system"]["services"]) == set(document["services"])
    # Every compose service with ports got a Kubernetes Service, reported by the fake.
    with_ports = {n for n, s in document["services"].items() if s.get("ports")}
    assert set(system.containers) == with_ports


@CONTRACT
@given(name=start_names, settings_mapping=dotenv_texts().map(lambda d: d[1]), data=st.data())
def test_start_request_models_serialize_to_what_the_document_accepts(
    name: str, settings_mapping: dict[str, str], data: st.DataObject
) -> None:
    document = data.draw(compose_documents(host_port_defined=False))
    model = models.StartRequest.model_validate(
        {
            "name": name,
            "system": document,
            "env": settings_mapping,
            "principal": models.make_principal("renci"),
            "services": derive_services(document),
        }
    )
    wire = models.wire_dict(model)
    assert problems(request_validator("start"), wire) == []
    assert json.loads(wire["principal"]) == {"username": "renci"}


guids = st.uuids(version=4).map(lambda u: u.hex)
label_keys = st.from_regex(
    r"([a-z0-9]{1,8}\.io/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True
)
label_values = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?", fullmatch=True)


@CONTRACT
@given(
    guid=guids,
    prefix=st.one_of(st.just(""), names.map(lambda n: n.strip() + "-")),
    username=st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True),
)
def test_status_and_delete_requests_are_valid(guid: str, prefix: str, username: str) -> None:
    fake = FakeTycho()
    assume(prefix.strip() == prefix)
    status = captured(fake, lambda client: client.status({"name": prefix + guid}))
    assert status == {"name": guid}
    by_user = captured(fake, lambda client: client.status({"username": username}))
    assert by_user["username"] == username
    deleted = captured(fake, lambda client: client.delete({"name": prefix + guid}))
    assert deleted == {"name": guid}


@CONTRACT
@given(
    labels=st.dictionaries(label_keys, label_values, max_size=3),
    cpu=st.one_of(st.none(), st.integers(1, 16), st.sampled_from(["500m", "0.5", "2"])),
    memory=st.one_of(st.none(), st.sampled_from(["512Mi", "1G", "2Gi"])),
)
def test_modify_requests_are_valid(
    labels: dict[str, str], cpu: int | str | None, memory: str | None
) -> None:
    fake = FakeTycho(modify_supported=True)
    with TychoClient("http://tycho.test", transport=fake) as client:
        sid = client.up(
            "app", {"services": {"web": {"image": "nginx", "ports": ["80"]}}}
        ).result.sid
    request: dict[str, Any] = {"tycho-guid": sid, "labels": labels}
    if cpu is not None:
        request["cpu"] = cpu
    if memory is not None:
        request["memory"] = memory
    body = captured(fake, lambda client: client.modify(request))
    assert body["tycho-guid"] == sid
    assert fake.systems[sid].labels == labels
    if cpu is not None:
        assert fake.systems[sid].resources["cpu"] == str(cpu)


def test_a_modify_of_an_unknown_system_is_still_a_valid_request() -> None:
    fake = FakeTycho(modify_supported=True)
    with TychoClient("http://tycho.test", transport=fake) as client, pytest.raises(TychoAPIError):
        client.modify({"tycho-guid": "0" * 32, "labels": {"a": "b"}})
    (request,) = fake.requests
    assert request.problems == ()
