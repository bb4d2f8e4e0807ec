"""Each tightening of the document and each rule of the client is needed: a request it rules out
fails on tycho-api 1.17.3.

For every rule the document adds to a plain reading of the server's code there is a witness: a
request that differs from a good one in that one respect. The document must reject the witness,
and the real server must answer it with ``"status": "error"`` -- so removing the rule from the
document makes this test fail, and a rule no real server needs is found out too. The rules the
generated models cannot check are in ``tycho_client.rules`` with their witnesses; each witness
breaks its rule alone, is rejected by the document exactly when the rule is ``documented``, and
gets an error from the real server exactly when it ``servers_refuse``: a rule added there is
proven here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from realserver import RealTycho

from tycho_client import TychoClient, models, rules
from tycho_client.errors import TychoValidationError
from tycho_client.rules import GOOD, Rule
from tycho_client.testing import FakeTycho
from tycho_client.testing.checks import document_problems

Body = dict[str, Any]


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


# (what the document rules out, the change to GOOD): the tightenings the generated models check
# themselves. Those they cannot check are rules of tycho_client.rules, with their witnesses.
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
    ("gpus not a whole number", limits(gpus="0.5")),
    ("quantity that is not one", limits(cpus="lots", memory="1G")),
    ("env value with a newline", web(env=["A=one\n--- two"])),
    ("env value with a control character", web(env=["A=bell\x07"])),
    ("env value with a C1 control character", web(env=["A=x\x85--- y"])),
    ("settings value with a newline", top(env={"LOCAL": "a\n--- b"})),
    ("settings value with a Jinja marker", top(env={"LOCAL": "{{ x"})),
    ("image with ': '", web(image="a: b")),
    ("image with a newline", web(image="nginx\n:1")),
    ("image with a control character", web(image="nginx\x01")),
    ("serviceaccount with ': '", top(serviceaccount="a: b")),
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
    ("Jinja marker in the compose document", compose(version="{% x")),
    ("Jinja marker in an entrypoint", web(entrypoint="run {{")),
    ("conn_string that is no label value", web(conn_string="a b")),
    ("volume subpath with '..'", web(volumes=["pvc://stdnfs/..:/data"])),
    (
        "proxy rewrite target over two lines",
        web(proxy_rewrite={"target": "/a\n/b", "enabled": True}, proxy_rewrite_rule=True),
    ),
]

# Where the document is stricter than tycho-api 1.17.3, on purpose: the server accepts these and
# does nothing useful with them (a probe without a way to probe is dropped).
STRICTER_THAN_SERVERS: list[tuple[str, Callable[[Body], None]]] = [
    ("tcp probe without port", probe({"tcpSocket": {}})),
    ("probe without a handler", probe({"delay": 3})),
]

RULE_WITNESSES = [
    (rule, what, body) for rule in rules.RULES for what, body in rule.witnesses.items()
]
BY_RULE = [
    pytest.param(rule, body, id=f"{rule.name}: {what}") for rule, what, body in RULE_WITNESSES
]


def _witness(change: Callable[[Body], None]) -> Body:
    body = copy.deepcopy(dict(GOOD))
    change(body)
    return body


def _start(real_tycho: RealTycho, body: Mapping[str, Any]) -> dict[str, Any]:
    answer = real_tycho.post("start", body)
    assert answer.status_code == 200, answer.text[:500]
    envelope: dict[str, Any] = answer.json()
    return envelope


@pytest.mark.realserver
def test_the_good_request_is_accepted_by_all(real_tycho: RealTycho) -> None:
    assert document_problems("start", GOOD) == []
    assert rules.problems(GOOD) == []
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


def test_every_rule_has_witnesses_and_its_own_name() -> None:
    names = [rule.name for rule in rules.RULES]
    assert len(set(names)) == len(names)
    assert all(rule.witnesses for rule in rules.RULES)


@pytest.mark.parametrize(("rule", "body"), BY_RULE)
def test_each_witness_breaks_its_rule_alone(rule: Rule, body: Mapping[str, Any]) -> None:
    assert {problem.type for problem in rules.problems(body)} == {rule.name}
    if rule.documented:
        assert document_problems("start", body), "the document accepts it"
    else:
        assert document_problems("start", body) == [], "the document can say this one"


@pytest.mark.realserver
@pytest.mark.parametrize(("rule", "body"), BY_RULE)
def test_each_rule_is_needed(real_tycho: RealTycho, rule: Rule, body: Mapping[str, Any]) -> None:
    expected = "error" if rule.servers_refuse else "success"
    assert _start(real_tycho, body)["status"] == expected, f"tycho-api: {rule.requirement}"
    if rule.servers_refuse and not rule.documented:
        # An error also when the one exposed service (or its pod) is what fails.
        with real_tycho.without_ambassador():
            assert _start(real_tycho, body)["status"] == "error", f"tycho-api accepts {rule.name}"


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
    "body",
    [pytest.param(_witness(change), id=what) for what, change in DOCUMENT_WITNESSES]
    + [pytest.param(body, id=f"{rule.name}: {what}") for rule, what, body in RULE_WITNESSES],
)
def test_the_client_refuses_every_witness_before_sending(body: Mapping[str, Any]) -> None:
    fake = FakeTycho()
    client = TychoClient("http://tycho.test", transport=fake)
    with pytest.raises(TychoValidationError) as refused:
        client.start(body)
    client.close()
    assert refused.value.paths
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

    from tycho_client.testing.handlers import canonical_quantity

    assert kubernetes_form(given) == canonical
    if "e" not in given:
        assert canonical_quantity(given) == canonical
