"""Each tightening of the document is needed: a request it rules out fails on tycho-api 1.17.3.

For every rule the document adds to a plain reading of the server's code there is a witness: a
request that differs from a good one in that one respect. The document must reject the witness,
and the real server must answer it with ``"status": "error"`` -- so removing the rule from the
document makes this test fail, and a rule no real server needs is found out too. The witnesses
of ``SERVER_RULES`` (which the document cannot express) are checked against the model validators
instead.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from realserver import RealTycho

from tycho_client import TychoClient, models
from tycho_client.errors import TychoValidationError
from tycho_client.testing import FakeTycho
from tycho_client.testing.fake import document_problems

Body = dict[str, Any]

GOOD: Body = {
    "name": "good",
    "system": {
        "version": "3",
        "services": {
            "web": {
                "image": "nginx:1.25",
                "ports": ["8080:80"],
                "env": ["A=1"],
                "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "256M"}}},
            }
        },
    },
    "env": {"LOCAL": "x"},
    "principal": '{"username": "renci"}',
    "serviceaccount": "default",
    "services": {"web": {"port": "80", "clients": []}},
}


def web(**changes: Any) -> Callable[[Body], None]:
    def change(body: Body) -> None:
        body["system"]["services"]["web"].update(changes)

    return change


def top(**changes: Any) -> Callable[[Body], None]:
    return lambda body: body.update(changes)


def compose(**changes: Any) -> Callable[[Body], None]:
    return lambda body: body["system"].update(changes)


def limits(**amounts: Any) -> Callable[[Body], None]:
    return web(deploy={"resources": {"limits": amounts}})


def probe(value: Any) -> Callable[[Body], None]:
    return web(ext={"kube": {"livenessProbe": value}})


def principal(**entries: Any) -> Callable[[Body], None]:
    return top(principal=json.dumps({"username": "renci", **entries}))


# (what the document rules out, the change to GOOD)
DOCUMENT_WITNESSES: list[tuple[str, Callable[[Body], None]]] = [
    (
        "probe with httpGet, tcpSocket and cmd",
        probe({"httpGet": {"port": 80}, "tcpSocket": {"port": 80}, "cmd": ["true"]}),
    ),
    (
        "probe key the server does not read",
        probe({"httpGet": {"port": 80}, "initialDelaySeconds": 3}),
    ),
    ("probe cmd as a string", probe({"cmd": "ls -l"})),
    (
        "probe headers as a list",
        probe({"httpGet": {"port": 80, "httpHeaders": [{"name": "X-A", "value": "b"}]}}),
    ),
    ("resource key the server does not know", limits(cpus="1", memory="1G", pids="10")),
    ("cpus without memory", limits(cpus="1")),
    ("gpus not a whole number", limits(gpus="0.5")),
    ("quantity that is not one", limits(cpus="lots", memory="1G")),
    ("env item empty", web(env=[""])),
    ("environment item empty", web(env=[], environment=[""])),
    ("env item named like a YAML boolean", web(env=["true=1"])),
    ("env value with a double quote", web(env=['A=say "hi"'])),
    ("env value with a backslash", web(env=["A=C:\\x"])),
    ("env value with a newline", web(env=["A=one\n--- two"])),
    ("env value with a control character", web(env=["A=bell\x07"])),
    ("env value with a C1 control character", web(env=["A=x\x85--- y"])),
    ("settings value with a double quote", top(env={"LOCAL": 'a"b'})),
    ("settings value with a newline", top(env={"LOCAL": "a\n--- b"})),
    ("settings value with a Jinja marker", top(env={"LOCAL": "{{ x"})),
    ("settings key that YAML reads as null", top(env={"null": "x"})),
    ("image with ': '", web(image="a: b")),
    ("image with a newline", web(image="nginx\n:1")),
    ("image with a control character", web(image="nginx\x01")),
    ("image that YAML reads as a number", web(image="1.5")),
    ("image that YAML reads as a boolean", web(image="yes")),
    ("serviceaccount with ': '", top(serviceaccount="a: b")),
    ("serviceaccount that YAML reads as a number", top(serviceaccount="123")),
    ("name that YAML reads as a number", top(name="123")),
    (
        "compose service named like a YAML boolean",
        lambda body: body["system"]["services"].update({"true": {"image": "busybox"}}),
    ),
    ("runAsUser not a number", compose(security_context={"runAsUser": "abc"})),
    ("runAsUser negative", compose(security_context={"runAsUser": -1})),
    (
        "clients with an empty string",
        lambda body: body["services"]["web"].update({"clients": [""]}),
    ),
    (
        "clients with a network",
        lambda body: body["services"]["web"].update({"clients": ["10.0.0.0/8"]}),
    ),
    ("no service has ports", web(ports=[])),
    ("container port 0", web(ports=["0"])),
    ("container port with a leading zero", web(ports=["080"])),
    ("Jinja marker in the compose document", compose(version="{% x")),
    ("Jinja marker in an entrypoint", web(entrypoint="run {{")),
    ("entrypoint word with both quotes", web(entrypoint=["say", 'it\'s "so"'])),
    ("conn_string that is no label value", web(conn_string="a b")),
    ("conn_string that YAML reads as a boolean", web(conn_string="true")),
    ("volume subpath with '..'", web(volumes=["pvc://stdnfs/..:/data"])),
    (
        "proxy rewrite target over two lines",
        web(proxy_rewrite={"target": "/a\n/b", "enabled": True}, proxy_rewrite_rule=True),
    ),
    ("username with a space", top(principal='{"username": "a b"}')),
    ("username shared", top(principal='{"username": "shared"}')),
    ("username that YAML reads as a boolean", top(principal='{"username": "yes"}')),
    ("principal value with ': '", principal(host="a: b")),
    ("principal value that YAML reads as a number", principal(host="5")),
    ("principal key that is no environment name", principal(**{"a b": "x"})),
]

# Where the document is stricter than tycho-api 1.17.3, on purpose: the server accepts these and
# does nothing useful with them (a probe without a way to probe is dropped).
STRICTER_THAN_SERVERS: list[tuple[str, Callable[[Body], None]]] = [
    ("tcp probe without port", probe({"tcpSocket": {}})),
    ("probe without a handler", probe({"delay": 3})),
]

SERVER_RULE_WITNESSES: list[tuple[str, Callable[[Body], None]]] = [
    ("template-markers", web(labels={"x": "{{ y"})),
    (
        "exposed-service-ports",
        lambda body: (
            body["system"]["services"].update({"db": {"image": "postgres:15"}}),
            body["services"].update({"db": {"port": "5432"}}),
        ),
    ),
    ("exposed-ports-unique", web(ports=["8080:80", "80"])),
    (
        "requests-within-limits",
        web(
            deploy={
                "resources": {
                    "limits": {"cpus": "0.5", "memory": "256M"},
                    "reservations": {"cpus": "1", "memory": "128M"},
                }
            }
        ),
    ),
    ("gpus-equal", web(deploy={"resources": {"reservations": {"gpus": "1"}}})),
    ("mount-paths-unique", web(volumes=["pvc://stdnfs/a:/data", "pvc://stdnfs/b:/data"])),
    (
        "gitea-lowercase-username",
        lambda body: (
            body["system"]["services"]["web"].update({"gitea_integration": True}),
            body.update(principal='{"username": "Alice"}'),
        ),
    ),
]


def _witness(change: Callable[[Body], None]) -> Body:
    body = copy.deepcopy(GOOD)
    change(body)
    return body


def _start(real_tycho: RealTycho, body: Body) -> dict[str, Any]:
    answer = real_tycho.post("start", body)
    assert answer.status_code == 200, answer.text[:500]
    envelope: dict[str, Any] = answer.json()
    return envelope


@pytest.mark.realserver
def test_the_good_request_is_accepted_by_all(real_tycho: RealTycho) -> None:
    assert document_problems("start", GOOD) == []
    assert models.server_rule_problems(GOOD) == []
    assert _start(real_tycho, GOOD)["status"] == "success"


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("what", "change"), DOCUMENT_WITNESSES, ids=[what for what, _ in DOCUMENT_WITNESSES]
)
def test_each_tightening_of_the_document_is_needed(
    real_tycho: RealTycho, what: str, change: Callable[[Body], None]
) -> None:
    body = _witness(change)
    assert document_problems("start", body), f"the document accepts: {what}"
    envelope = _start(real_tycho, body)
    assert envelope["status"] == "error", f"tycho-api 1.17.3 accepts {what}: the rule is not needed"


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("what", "change"), STRICTER_THAN_SERVERS, ids=[what for what, _ in STRICTER_THAN_SERVERS]
)
def test_where_the_document_is_stricter_on_purpose(
    real_tycho: RealTycho, what: str, change: Callable[[Body], None]
) -> None:
    body = _witness(change)
    assert document_problems("start", body), f"the document accepts: {what}"
    assert _start(real_tycho, body)["status"] == "success"


def test_the_rules_outside_the_document_are_these() -> None:
    assert sorted(models.SERVER_RULES) == sorted(rule for rule, _ in SERVER_RULE_WITNESSES)


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("rule", "change"), SERVER_RULE_WITNESSES, ids=[rule for rule, _ in SERVER_RULE_WITNESSES]
)
def test_each_rule_outside_the_document_is_needed(
    real_tycho: RealTycho, rule: str, change: Callable[[Body], None]
) -> None:
    body = _witness(change)
    assert document_problems("start", body) == [], "the document can say this one"
    assert [found.split(":")[0] for found in models.server_rule_problems(body)] == [rule]
    # The server's answer: an error, also when the one exposed service (or its pod) is what fails.
    with real_tycho.without_ambassador() if rule == "gitea-lowercase-username" else _nothing():
        assert _start(real_tycho, body)["status"] == "error", f"tycho-api accepts {rule}"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# status and delete put `name` and `username` in a Kubernetes label selector.
SELECTOR_WITNESSES: list[tuple[str, str, dict[str, Any]]] = [
    ("status name with a space", "status", {"name": "a b"}),
    ("status name with '='", "status", {"name": "a=b"}),
    ("status username with a space", "status", {"username": "a b"}),
    ("delete name with a space", "delete", {"name": "a b"}),
    ("delete name over 63 characters", "delete", {"name": "a" * 64}),
]


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("what", "operation", "body"), SELECTOR_WITNESSES, ids=[w for w, _, _ in SELECTOR_WITNESSES]
)
def test_status_and_delete_names_must_be_label_values(
    real_tycho: RealTycho, what: str, operation: str, body: dict[str, Any]
) -> None:
    assert document_problems(operation, body), f"the document accepts: {what}"
    answer = real_tycho.post(operation, body)
    # status fails formatting Kubernetes' refusal and answers 500; delete answers an error.
    failed = answer.status_code == 500 or answer.json()["status"] == "error"
    assert failed, f"tycho-api 1.17.3 accepts {what}"


@pytest.mark.parametrize(
    ("what", "change"),
    DOCUMENT_WITNESSES + SERVER_RULE_WITNESSES,
    ids=[what for what, _ in DOCUMENT_WITNESSES + SERVER_RULE_WITNESSES],
)
def test_the_client_refuses_every_witness_before_sending(
    what: str, change: Callable[[Body], None]
) -> None:
    fake = FakeTycho()
    client = TychoClient("http://tycho.test", transport=fake)
    with pytest.raises(TychoValidationError) as refused:
        client.start(_witness(change))
    client.close()
    assert refused.value.paths, what
    assert fake.requests == []


def test_request_models_have_a_json_schema() -> None:
    # The principal's contentSchema travels in the generated field's JSON Schema: it must not
    # refer to the document's other schemas.
    for model in (models.StartRequest, models.StatusRequest, models.DeleteRequest):
        assert json.dumps(model.model_json_schema())
    principal = models.StartRequest.model_json_schema()["properties"]["principal"]
    assert principal["contentSchema"]["required"] == ["username"]


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("0.01", "10m"),
        ("5000M", "5G"),
        ("1024Mi", "1Gi"),
        ("0.5Gi", "512Mi"),
        ("1E", "1E"),
        ("2000P", "2E"),
        ("1e3", "1e3"),
        ("0.5Ki", "512"),
        ("1.5", "1500m"),
    ],
)
def test_the_fake_kubernetes_canonicalizes_as_apimachinery_and_fake_tycho_agrees(
    given: str, canonical: str
) -> None:
    from k8s_cluster import canonical_quantity as kubernetes_form

    from tycho_client.testing.fake import canonical_quantity

    assert kubernetes_form(given) == canonical
    if "e" not in given:
        assert canonical_quantity(given) == canonical
