"""Each tightening of the document and each rule of the client is needed: a request it rules out
fails on every tycho-api release that can run it, and fails for its own reason.

For every rule the document adds to a plain reading of the server's code there is a witness: a
request that differs from a good one in that one respect. The document must reject the witness,
and the real server must answer it with ``"status": "error"`` whose text says the witness's own
reason (``SAYS``: a Kubernetes refusal, a YAML or Jinja error ...) -- so removing the rule from
the document makes this test fail, a rule no real server needs is found out too, and a witness
never passes because the server failed on something else. Witnesses go to each release as
tycho-client sends them: with integer GPUs to 1.14.0 - 1.17.1, which otherwise refuse every start
for its GPUs. A witness of a feature a release lacks (``proxy_rewrite`` before 1.17.1, gitea on
1.12.0) is accepted there, and must be. The rules the generated models cannot check are in
``tycho_client.rules`` with their witnesses; the texts their witnesses fail with are in
``witnesses.RULE_SAYS``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from realserver import RealTycho
from witnesses import RULE_SAYS, Says, expected_text

from tycho_client import TychoClient, models, rules
from tycho_client.errors import TychoValidationError
from tycho_client.releases import COMPARISON_ERROR, FEATURES, GPU_ASSERTION_ERROR, Release
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


# (what the document rules out, the change to GOOD, what servers say, the feature it needs): the
# tightenings the generated models check themselves. Those they cannot check are rules of
# tycho_client.rules, with their witnesses.
DOCUMENT_WITNESSES: list[tuple[str, Callable[[Body], None], Says, str | None]] = [
    (
        "probe with httpGet, tcpSocket and cmd",
        probe({"httpGet": {"port": 80}, "tcpSocket": {"port": 80}, "cmd": ["true"]}),
        "HttpProbe.__init__() got an unexpected keyword argument 'cmd'",
        None,
    ),
    (
        "probe key the server does not read",
        probe({"httpGet": {"port": 80}, "initialDelaySeconds": 3}),
        "unexpected keyword argument 'initialDelaySeconds'",
        None,
    ),
    ("probe cmd as a string", probe({"cmd": "ls -l"}), "livenessProbe.exec.command", None),
    (
        "probe headers as a list",
        probe({"httpGet": {"port": 80, "httpHeaders": [{"name": "X-A", "value": "b"}]}}),
        "livenessProbe.httpGet.httpHeaders",
        None,
    ),
    (
        "gpus not a whole number",
        limits(gpus="0.5"),
        lambda release: GPU_ASSERTION_ERROR if release.gpu_assertion else "must be an integer",
        None,
    ),
    (
        "quantity that is not one",
        limits(cpus="lots", memory="1G"),
        "quantities must match the regular expression",
        None,
    ),
    ("env value with a newline", web(env=["A=one\n--- two"]), "scanning a quoted scalar", None),
    (
        "env value with a control character",
        web(env=["A=bell\x07"]),
        "unacceptable character #x0007",
        None,
    ),
    (
        "env value with a C1 control character",
        web(env=["A=x\x85--- y"]),
        "scanning a quoted scalar",
        None,
    ),
    (
        "settings value with a newline",
        top(env={"LOCAL": "a\n--- b"}),
        "scanning a quoted scalar",
        None,
    ),
    (
        "settings value with a Jinja marker",
        top(env={"LOCAL": "{{ x"}),
        "unexpected end of template",
        None,
    ),
    ("image with ': '", web(image="a: b"), "mapping values are not allowed here", None),
    ("image with a newline", web(image="nginx\n:1"), "while scanning a simple key", None),
    (
        "image with a control character",
        web(image="nginx\x01"),
        "unacceptable character #x0001",
        None,
    ),
    (
        "serviceaccount with ': '",
        top(serviceaccount="a: b"),
        "mapping values are not allowed here",
        None,
    ),
    (
        "runAsUser not a number",
        compose(security_context={"runAsUser": "abc"}),
        "securityContext.runAsUser of type int",
        None,
    ),
    (
        "runAsUser negative",
        compose(security_context={"runAsUser": -1}),
        "runAsUser: Invalid value: -1",
        None,
    ),
    (
        "clients with an empty string",
        lambda body: body["services"]["web"].update({"clients": [""]}),
        "does not appear to be an IPv4 or IPv6 network",
        None,
    ),
    (
        "clients with a network",
        lambda body: body["services"]["web"].update({"clients": ["10.0.0.0/8"]}),
        "No template policy/tycho-default-netpolicy.yaml",
        None,
    ),
    (
        "Jinja marker in the compose document",
        compose(version="{% x"),
        "Encountered unknown tag 'x'",
        None,
    ),
    (
        "Jinja marker in an entrypoint",
        web(entrypoint="run {{"),
        "expected token 'end of print statement'",
        None,
    ),
    (
        "conn_string that is no label value",
        web(conn_string="a b"),
        "a valid label must be an empty string",
        None,
    ),
    (
        "volume subpath with '..'",
        web(volumes=["pvc://stdnfs/..:/data"]),
        "must be a relative path without '..'",
        None,
    ),
    (
        "proxy rewrite target over two lines",
        web(proxy_rewrite={"target": "/a\n/b", "enabled": True}, proxy_rewrite_rule=True),
        "while scanning a simple key",
        "proxy_rewrite",
    ),
]

# Where the document is stricter than tycho-api, on purpose: the server accepts these and does
# nothing useful with them (a probe without a way to probe is dropped).
STRICTER_THAN_SERVERS: list[tuple[str, Callable[[Body], None]]] = [
    ("tcp probe without port", probe({"tcpSocket": {}})),
    ("probe without a handler", probe({"delay": 3})),
]

RULE_WITNESSES = [
    (rule, what, body) for rule in rules.RULES for what, body in rule.witnesses.items()
]
BY_RULE = [
    pytest.param(rule, what, body, id=f"{rule.name}: {what}") for rule, what, body in RULE_WITNESSES
]


def _witness(change: Callable[[Body], None]) -> Body:
    body = copy.deepcopy(dict(GOOD))
    change(body)
    return body


def _start(real_tycho: RealTycho, body: Mapping[str, Any]) -> dict[str, Any]:
    """Send a start as tycho-client sends it to this release (integer GPUs where asserted)."""
    answer = real_tycho.post("start", real_tycho.adapted(body))
    assert answer.status_code == 200, answer.text[:500]
    envelope: dict[str, Any] = answer.json()
    return envelope


def _refused_for(envelope: Mapping[str, Any], says: str, release: Release, what: str) -> None:
    """The start failed, and for the witness's own reason."""
    assert envelope["status"] == "error", f"tycho-api {release.version} accepts {what}"
    assert says in envelope["message"], (
        f"tycho-api {release.version} refused {what}, but not for its reason (expected "
        f"{says!r}): {envelope['message'][-600:]}"
    )


@pytest.mark.realserver
def test_the_good_request_is_accepted_by_all(real_tycho: RealTycho) -> None:
    assert document_problems("start", GOOD) == []
    assert rules.problems(GOOD) == []
    assert _start(real_tycho, GOOD)["status"] == "success"


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("what", "change", "says", "feature"),
    DOCUMENT_WITNESSES,
    ids=[what for what, *_ in DOCUMENT_WITNESSES],
)
def test_each_tightening_of_the_document_is_needed(
    real_tycho: RealTycho,
    what: str,
    change: Callable[[Body], None],
    says: Says,
    feature: str | None,
) -> None:
    body = _witness(change)
    assert document_problems("start", body), f"the document accepts: {what}"
    envelope = _start(real_tycho, body)
    release = real_tycho.behaviour
    # A rewrite is rendered only behind the ambassador (the 2024 builds without
    # AMBASSADOR_SVC_NAME never are); a release without the feature ignores it.
    lacking = feature is not None and not FEATURES[feature].has(release)
    if lacking or (feature == "proxy_rewrite" and not real_tycho.ambassador):
        assert envelope["status"] == "success", f"{release.version} ignores {feature}: {what}"
        return
    _refused_for(envelope, expected_text(says, release), release, what)


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


@pytest.mark.parametrize(("rule", "what", "body"), BY_RULE)
def test_each_witness_breaks_its_rule_alone(rule: Rule, what: str, body: Mapping[str, Any]) -> None:
    assert {problem.type for problem in rules.problems(body)} == {rule.name}
    if rule.documented:
        assert document_problems("start", body), "the document accepts it"
    else:
        assert document_problems("start", body) == [], "the document can say this one"


def test_every_rule_witness_says_why_servers_refuse_it() -> None:
    refused = {f"{rule.name}: {what}" for rule, what, _ in RULE_WITNESSES if rule.servers_refuse}
    assert set(RULE_SAYS) == refused, "add the server's text of each new witness to RULE_SAYS"


@pytest.mark.realserver
@pytest.mark.parametrize(("rule", "what", "body"), BY_RULE)
def test_each_rule_is_needed(
    real_tycho: RealTycho, rule: Rule, what: str, body: Mapping[str, Any]
) -> None:
    envelope = _start(real_tycho, body)
    release = real_tycho.behaviour
    lacks = rule.name == "gitea-lowercase-username" and not release.gitea_integration
    if not rule.servers_refuse or lacks:
        assert envelope["status"] == "success", f"tycho-api {release.version}: {rule.requirement}"
        return
    _refused_for(envelope, expected_text(RULE_SAYS[f"{rule.name}: {what}"], release), release, what)
    if not rule.documented:
        # An error also when the one exposed service (or its pod) is what fails.
        with real_tycho.without_ambassador():
            assert _start(real_tycho, body)["status"] == "error", f"tycho-api accepts {rule.name}"


def _refused_delete(release: Release) -> str:
    # 1.12.0 - 1.13.0 lose Kubernetes' reason in the same print_exc(error) as their schema error.
    if release.schema_error == COMPARISON_ERROR:
        return "'>=' not supported between instances of 'ApiException' and 'int'"
    return "a valid label must be an empty string"


# status and delete put `name` and `username` in a Kubernetes label selector: status fails
# formatting Kubernetes' refusal and answers 500 (None: no envelope); delete answers an error.
SELECTOR_WITNESSES: list[tuple[str, str, dict[str, Any], Says | None]] = [
    ("status name with a space", "status", {"name": "a b"}, None),
    ("status name with '='", "status", {"name": "a=b"}, None),
    ("status username with a space", "status", {"username": "a b"}, None),
    ("delete name with a space", "delete", {"name": "a b"}, _refused_delete),
    ("delete name over 63 characters", "delete", {"name": "a" * 64}, _refused_delete),
]


@pytest.mark.realserver
@pytest.mark.parametrize(
    ("what", "operation", "body", "says"),
    SELECTOR_WITNESSES,
    ids=[what for what, *_ in SELECTOR_WITNESSES],
)
def test_status_and_delete_names_must_be_label_values(
    real_tycho: RealTycho, what: str, operation: str, body: dict[str, Any], says: Says | None
) -> None:
    assert document_problems(operation, body), f"the document accepts: {what}"
    answer = real_tycho.post(operation, body)
    release = real_tycho.behaviour
    if says is None:
        assert answer.status_code == 500, f"tycho-api {release.version}: {what}: {answer.text}"
        assert answer.json() == {"message": "Internal Server Error"}
    else:
        assert answer.status_code == 200, answer.text[:300]
        _refused_for(answer.json(), expected_text(says, release), release, what)


@pytest.mark.parametrize(
    "body",
    [pytest.param(_witness(change), id=what) for what, change, *_ in DOCUMENT_WITNESSES]
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
