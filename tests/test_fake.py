"""FakeTycho in memory: it answers the recorded real exchanges as real servers did, keeps consistent
state, validates against the document (not the models) and injects the failures users ask for."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tycho_client import openapi, rules
from tycho_client._generated import operations
from tycho_client.testing import FakeTycho, handlers
from tycho_client.testing.fake import INVALID_JSON, NOT_JSON_CONTENT, FakeResponse, FakeTychoBug
from tycho_client.testing.handlers import canonical_quantity

WIRE = sorted((Path(__file__).parent / "fixtures" / "wire").glob("*.json"))
GUID = re.compile(r"[0-9a-f]{32}")
CREATION_TIME = re.compile(r'"creation_time": "[^"]*"')
ABORT = "name 'abort' is not defined"
OFF_DOCUMENT = "FakeTycho: this start request breaks openapi/tycho.yaml (StartRequest): "
PRINCIPAL = '{"username": "renci"}'


def exchange(stem: str) -> dict[str, Any]:
    (path,) = [p for p in WIRE if p.name.startswith(stem)]
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def start_body(**changes: Any) -> dict[str, Any]:
    """The start request of recorded exchange 02 (web + db for alice), with ``changes``."""
    body: dict[str, Any] = copy.deepcopy(exchange("02")["request"]["json"])
    body.update(changes)
    return body


@pytest.fixture
def fake() -> FakeTycho:
    # Routes modify, which these tests exercise; tycho-api 1.17.3 (and the default) does not.
    return FakeTycho(modify_supported=True)


@pytest.fixture
def http(fake: FakeTycho) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://tycho.test", transport=fake) as client:
        yield client


def post(http: httpx.Client, operation: str, body: Any) -> Any:
    response = http.post(f"/system/{operation}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(answer: Any) -> str:
    assert answer["status"] == "error", answer
    assert answer["message"] == answer["result"]["error"]
    return str(answer["result"]["error"])


# ------------------------------------------------------------------------- recorded exchanges


def test_replays_every_recorded_exchange_as_the_real_server_answered() -> None:
    """All 32 exchanges in order, against one fake: identical answers but for GUIDs and times."""
    fake = FakeTycho(modify_supported=False)  # the recorded server does not route modify
    recorded_to_fake: dict[str, str] = {}
    with httpx.Client(base_url="http://tycho.test", transport=fake) as http:
        for path in WIRE:
            data = json.loads(path.read_text())
            request, expected = data["request"], data["response"]
            kwargs: dict[str, Any] = {}
            if "json" in request:
                text = json.dumps(request["json"])
                for recorded, made in recorded_to_fake.items():
                    text = text.replace(recorded, made)
                kwargs["content"] = text
                kwargs["headers"] = {"Content-Type": request["content_type"]}
            elif "body_text" in request:
                kwargs["content"] = request["body_text"]
                kwargs["headers"] = {"Content-Type": request["content_type"]}
            response = http.request(request["method"], request["path"], **kwargs)
            if request["path"] == "/system/start":
                made_guids = GUID.findall(response.text)
                recorded_guids = GUID.findall(expected["text"])
                if made_guids:
                    recorded_to_fake[recorded_guids[0]] = made_guids[0]
            answer = response.text
            for recorded, made in recorded_to_fake.items():
                answer = answer.replace(made, recorded)
            assert response.status_code == expected["status"], path.name
            assert response.headers["content-type"] == expected["content_type"], path.name
            assert CREATION_TIME.sub("", answer) == CREATION_TIME.sub("", expected["text"]), (
                path.name
            )
    # Exchange 21 failed but left its system behind, as on the real server.
    assert sorted(s.app_id for s in fake.systems.values()) == ["jupyter-np"]


# ------------------------------------------------------------------------------------ start


def test_start_names_the_system_after_a_fresh_uuid4(http: httpx.Client, fake: FakeTycho) -> None:
    first = post(http, "start", start_body())["result"]
    second = post(http, "start", start_body())["result"]
    assert first["sid"] != second["sid"]
    for result in (first, second):
        assert uuid.UUID(hex=result["sid"]).version == 4
        assert result["sid"] == uuid.UUID(result["sid"]).hex
        assert result["name"] == f"webstack-{result['sid']}"
    assert set(fake.systems) == {first["sid"], second["sid"]}
    assert fake.systems[first["sid"]].username == "alice"


def test_start_reports_only_requested_services_with_node_ports(
    http: httpx.Client, fake: FakeTycho
) -> None:
    only_web = start_body(services={"web": {"port": "80", "clients": []}})
    result = post(http, "start", only_web)["result"]
    assert result["containers"] == {"web": {"ip_address": None, "port-1": 30000}}
    result = post(http, "start", start_body())["result"]
    # Sorted service order (servers round-trip the document through yaml.dump), ports counting up.
    assert list(result["containers"].items()) == [
        ("db", {"ip_address": None, "port-1": 30001}),
        ("web", {"ip_address": None, "port-1": 30002}),
    ]
    assert fake.systems[result["sid"]].containers == result["containers"]
    no_services = start_body()
    del no_services["services"]
    assert post(http, "start", no_services)["result"]["containers"] == {}


def test_service_ip_address_option_is_reported() -> None:
    fake = FakeTycho(service_ip_address="127.0.0.1")
    with httpx.Client(base_url="http://tycho.test", transport=fake) as http:
        result = post(http, "start", start_body())["result"]
    assert {c["ip_address"] for c in result["containers"].values()} == {"127.0.0.1"}


def test_conn_string_comes_from_the_last_service_in_sorted_order(http: httpx.Client) -> None:
    body = start_body()
    body["system"]["services"]["web"]["conn_string"] = "lab"  # "web" sorts after "db"
    body["system"]["services"]["db"]["conn_string"] = "ignored"
    assert post(http, "start", body)["result"]["conn_string"] == "lab"
    del body["system"]["services"]["web"]["conn_string"]
    assert post(http, "start", body)["result"]["conn_string"] == ""


# ----------------------------------------------------------------------------------- status


def test_status_lists_all_by_guid_and_by_username_where_username_wins(
    http: httpx.Client,
) -> None:
    alice = post(http, "start", start_body())["result"]["sid"]
    renci = post(http, "start", start_body(name="other", principal=PRINCIPAL))["result"]["sid"]

    def sids(body: dict[str, Any]) -> list[str]:
        return [s["sid"] for s in post(http, "status", body)["result"]]

    # Sorted by full name, as Kubernetes lists Deployments.
    assert sids({}) == [renci, alice]  # "other-..." < "webstack-..."
    assert sids({"name": alice}) == [alice]
    assert sids({"username": "renci"}) == [renci]
    assert sids({"name": alice, "username": "renci"}) == [renci]
    assert sids({"name": "", "username": ""}) == [renci, alice]
    assert sids({"name": "0" * 32}) == []
    assert post(http, "status", {"name": alice})["message"] == f"Get status for system {alice}"
    assert post(http, "status", {})["message"] == "Get status for system None"


def test_status_reports_limits_as_kubernetes_does(http: httpx.Client) -> None:
    body = start_body()
    web = body["system"]["services"]["web"]
    web["deploy"]["resources"]["limits"] = {"cpus": "0.25", "memory": "1Gi", "gpus": "1"}
    del body["system"]["services"]["db"]["deploy"]
    sid = post(http, "start", body)["result"]["sid"]
    (system,) = post(http, "status", {"name": sid})["result"]
    assert system["utilization"] == {
        "db": None,
        "web": {"cpu": "250m", "memory": "1Gi", "nvidia.com/gpu": "1"},
    }
    assert (system["app_id"], system["workspace_name"], system["username"]) == (
        "webstack",
        "webstack",
        "alice",
    )
    assert (system["ip_address"], system["port"], system["is_ready"]) == ("127.0.0.1", "80", True)


def test_memory_without_cpus_is_not_reported(http: httpx.Client) -> None:
    # The servers' pod template renders memory only inside `if cpus`.
    body = start_body()
    body["system"]["services"]["web"]["deploy"]["resources"]["limits"] = {"memory": "1G"}
    sid = post(http, "start", body)["result"]["sid"]
    (system,) = post(http, "status", {"name": sid})["result"]
    assert system["utilization"]["web"] is None


@pytest.mark.parametrize(
    ("given", "reported"),
    [
        ("0.01", "10m"),
        ("0.5", "500m"),
        ("1", "1"),
        ("2.0", "2"),
        ("1.5", "1500m"),
        ("100m", "100m"),
        ("0.0001", "100u"),
        (".25", "250m"),
        ("lots", "lots"),
    ],
)
def test_cpu_quantity_is_canonical(given: str, reported: str) -> None:
    assert canonical_quantity(given) == reported


@pytest.mark.parametrize(
    ("given", "reported"),
    [
        ("5000M", "5G"),
        ("50M", "50M"),
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("0.5Ki", "512"),
        ("1000k", "1M"),
        ("0.0000000001", "1n"),
        ("0", "0"),
        ("1" * 5000, "1" * 5000),  # not a quantity the document allows: left alone, bounded
    ],
)
def test_quantities_are_reported_in_kubernetes_canonical_form(given: str, reported: str) -> None:
    assert canonical_quantity(given) == reported


def test_memory_limits_are_reported_canonical(http: httpx.Client) -> None:
    body = start_body()
    body["system"]["services"]["web"]["deploy"]["resources"]["limits"]["memory"] = "5000M"
    sid = post(http, "start", body)["result"]["sid"]
    (system,) = post(http, "status", {"name": sid})["result"]
    assert system["utilization"]["web"]["memory"] == "5G"


def test_creation_time_is_utc_without_zero_padding(http: httpx.Client, fake: FakeTycho) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    sid = post(http, "start", start_body())["result"]["sid"]
    (system,) = post(http, "status", {"name": sid})["result"]
    created = fake.systems[sid].created
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= datetime.now(timezone.utc)
    assert system["creation_time"] == (
        f"{created.month}-{created.day}-{created.year} "
        f"{created.hour}:{created.minute}:{created.second}"
    )
    fake.systems[sid].created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    (system,) = post(http, "status", {"name": sid})["result"]
    assert system["creation_time"] == "1-2-2026 3:4:5"


def test_ready_after_keeps_new_systems_unready_for_that_many_status_answers() -> None:
    fake = FakeTycho(ready_after=2)
    with httpx.Client(base_url="http://tycho.test", transport=fake) as http:
        sid = post(http, "start", start_body())["result"]["sid"]
        readiness = [post(http, "status", {"name": sid})["result"][0]["is_ready"] for _ in "1234"]
    assert readiness == [False, False, True, True]


# ------------------------------------------------------------------------- delete and modify


def test_delete_removes_only_that_system_and_succeeds_for_unknown_guids(
    http: httpx.Client, fake: FakeTycho
) -> None:
    keep = post(http, "start", start_body())["result"]
    gone = post(http, "start", start_body())["result"]
    answer = post(http, "delete", {"name": gone["sid"]})
    assert answer == {"status": "success", "result": {}, "message": f"Deleted system {gone['sid']}"}
    assert set(fake.systems) == {keep["sid"]}
    # A full name matches no GUID label: success, nothing deleted.
    assert post(http, "delete", {"name": keep["name"]})["status"] == "success"
    assert post(http, "delete", {"name": "0" * 32})["status"] == "success"
    assert set(fake.systems) == {keep["sid"]}


def test_modify_records_labels_and_resources_and_answers_the_patch(
    http: httpx.Client, fake: FakeTycho
) -> None:
    sid = post(http, "start", start_body())["result"]["sid"]
    answer = post(
        http, "modify", {"tycho-guid": sid, "labels": {"team": "a"}, "cpu": "0.5", "memory": "2G"}
    )
    assert answer["message"] == "Modified the system"
    (patch,) = answer["result"]["patches"]
    template = patch["spec"]["template"]
    assert template["metadata"] == {"labels": {"team": "a"}}
    amounts = {"cpu": "500m", "memory": "2G"}
    resources = {"limits": amounts, "requests": amounts}
    assert template["spec"]["containers"] == [
        {"resources": resources, "name": "db", "image": "postgres:15"},
        {"resources": resources, "name": "web", "image": "nginx:1.25"},
    ]
    system = fake.systems[sid]
    assert (system.labels, system.resources) == ({"team": "a"}, {"cpu": "0.5", "memory": "2G"})
    (status,) = post(http, "status", {"name": sid})["result"]
    assert status["utilization"] == {"db": amounts, "web": amounts}
    labels_only = post(http, "modify", {"tycho-guid": sid, "labels": {"b": "c"}})
    assert labels_only["result"]["patches"] == [
        {"spec": {"template": {"metadata": {"labels": {"b": "c"}}}}}
    ]
    assert fake.systems[sid].labels == {"team": "a", "b": "c"}
    assert post(http, "modify", {"tycho-guid": sid})["result"]["patches"] == [{}]


def test_modify_of_an_unknown_guid_answers_the_servers_error(http: httpx.Client) -> None:
    document = openapi.load_spec()
    examples = document["paths"]["/system/modify"]["post"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]
    expected = examples["unknown-guid"]["value"]
    assert post(http, "modify", {"tycho-guid": "0123456789abcdef0123456789abcdef"}) == expected
    assert error_of(post(http, "modify", {"labels": {}})).startswith(
        "Failed to modify system: None Traceback"
    )


def test_modify_is_an_html_404_when_not_supported() -> None:
    fake = FakeTycho(modify_supported=False)
    with httpx.Client(base_url="http://tycho.test", transport=fake) as http:
        response = http.post("/system/modify", json={"tycho-guid": "0" * 32})
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in response.text
    assert fake.requests == []


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A copy of the document, read by the fake (through tycho_client.openapi) in this test:
    change it before the first request."""
    changed = copy.deepcopy(openapi.load_spec())
    monkeypatch.setattr(openapi, "load_spec", lambda: changed)
    cached = (openapi._registry, openapi.schema_validator)
    cached += (openapi.request_validator, openapi.response_validator)
    for function in cached:
        function.cache_clear()
    yield changed
    for function in cached:
        function.cache_clear()


def test_an_operation_without_a_handler_answers_its_first_success_example(
    document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One more operation, with the schemas and examples of status, and no handler in the fake.
    document["paths"]["/system/restart"] = copy.deepcopy(document["paths"]["/system/status"])
    document["paths"]["/system/restart"]["post"]["operationId"] = "restart"
    entry = dataclasses.replace(operations.STATUS, name="restart", path="/system/restart")
    monkeypatch.setitem(operations.OPERATIONS, "restart", entry)  # type: ignore[arg-type]
    fake = FakeTycho()
    answer = fake.handle("POST", "/system/restart", {"Content-Type": "application/json"}, b"{}")
    examples = document["paths"]["/system/restart"]["post"]["responses"]["200"]["content"]
    first = next(iter(examples["application/json"]["examples"].values()))["value"]
    assert first["status"] == "success"
    assert (answer.status_code, answer.json()) == (200, first)
    assert [(r.operation, r.status_code) for r in fake.requests] == [("restart", 200)]
    assert fake.handle("GET", "/system/restart", {}, b"").status_code == 405


def test_unrouted_operations_are_routed_only_when_the_fake_routes_modify(
    document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = document["paths"]["/system/start"]["post"]
    start["responses"]["404"] = document["paths"]["/system/modify"]["post"]["responses"]["404"]
    unrouted = dataclasses.replace(operations.START, routed=False)
    monkeypatch.setitem(operations.OPERATIONS, "start", unrouted)
    body = json.dumps(start_body()).encode()
    headers = {"Content-Type": "application/json"}
    assert FakeTycho().handle("POST", "/system/start", headers, body).status_code == 404
    routed = FakeTycho(modify_supported=True).handle("POST", "/system/start", headers, body)
    assert routed.json()["status"] == "success"


# ------------------------------------------------------------------- real-server failures


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda b: b["system"]["services"]["web"].update(ports=[8080]), "int' is not iterable"),
        (lambda b: b["env"].update(PORT=8080), "argument of type 'int' is not iterable"),
        (lambda b: b["env"].update(FLAG=True), "argument of type 'bool' is not iterable"),
        (
            lambda b: [s.pop("ports") for s in b["system"]["services"].values()],
            "argument of type 'int' is not iterable",
        ),
        (lambda b: b.update(env=None), "'NoneType' object is not iterable"),
        (
            lambda b: b["system"]["services"]["db"].update(env=[], environment={"A": "b"}),
            "unsupported operand type(s) for +: 'dict' and 'list'",
        ),
        (lambda b: b["system"]["services"]["db"].pop("image"), "image"),
        (
            lambda b: b["system"]["services"]["web"]["deploy"]["resources"]["limits"].update(
                pids="10"
            ),
            "Limits.__init__() got an unexpected keyword argument 'pids'",
        ),
        (
            lambda b: b["system"]["services"]["web"].update(volumes=["/data:/data"]),
            "Wrong Volume definition in Container:web and Volume:/data:/data",
        ),
        (lambda b: b.update(system={"services": {}}), "cannot access local variable 'spec'"),
        (lambda b: b.update(principal="not json"), "Expecting value: line 1 column 1 (char 0)"),
        (lambda b: b.update(principal=["x"]), "must be str, bytes or bytearray, not list"),
        (lambda b: b.update(principal="{}"), "'NoneType' object has no attribute 'replace'"),
        (
            lambda b: b["services"]["web"].update(clients=["not-a-network"]),
            "'not-a-network' does not appear to be an IPv4 or IPv6 network",
        ),
        # Off the document, but past the servers' own schema check: the fake's own words.
        (lambda b: b.update(name="Not A DNS Label"), OFF_DOCUMENT + "name: fails 'pattern'"),
        (lambda b: b.update(name="x" * 31), OFF_DOCUMENT + "name: fails 'maxLength'"),
        (lambda b: b["services"]["web"].update(port=80), OFF_DOCUMENT + "services.web.port"),
        (lambda b: b.update(principal='{"username": "yes"}'), OFF_DOCUMENT + "principal (JSON"),
        (lambda b: b.update(name=5), ABORT),
        (lambda b: b.pop("name"), "name"),
        (lambda b: b.pop("system"), "system"),
    ],
)
def test_bad_start_requests_fail_as_on_real_servers(
    http: httpx.Client, fake: FakeTycho, change: Any, error: str
) -> None:
    body = start_body()
    change(body)
    assert error in error_of(post(http, "start", body))
    assert fake.systems == {}


@pytest.mark.parametrize(
    ("rule", "body"),
    [
        pytest.param(rule, body, id=f"{rule.name}: {what}")
        for rule in rules.RULES
        if not rule.documented
        for what, body in rule.witnesses.items()
    ],
)
def test_a_rule_the_document_cannot_say_fails_as_on_real_servers(
    http: httpx.Client, rule: rules.Rule, body: dict[str, Any]
) -> None:
    answer = post(http, "start", body)
    if not rule.servers_refuse:
        assert answer["status"] == "success"
        return
    error = error_of(answer)
    # The fake names the rule, but where it fails as real servers do (a Service without ports).
    assert f"{rule.name}: " in error or error.startswith("Unable to start system: good-")


@pytest.mark.parametrize(
    ("services", "cause"),
    [
        ({"web": {"port": "80", "clients": ["10.0.0.0/8"]}}, "No template policy/"),
        ({"web": {"port": "80"}, "db": {"port": "5432"}}, "ApiException: (422)"),
    ],
    ids=["network-policy", "service-without-ports"],
)
def test_failures_after_the_deployment_leave_the_system_behind(
    http: httpx.Client, fake: FakeTycho, services: dict[str, Any], cause: str
) -> None:
    body = start_body(services=services)
    del body["system"]["services"]["db"]["ports"]
    error = error_of(post(http, "start", body))
    (system,) = fake.systems.values()
    assert error.startswith(f"Unable to start system: {system.name} Traceback")
    assert cause in error
    assert system.containers == {}
    assert [s["sid"] for s in post(http, "status", {})["result"]] == [system.sid]


@pytest.mark.parametrize("operation", ["start", "status", "delete", "modify"])
def test_wrong_method_is_a_json_405_with_allow(http: httpx.Client, operation: str) -> None:
    response = http.get(f"/system/{operation}")
    assert response.status_code == 405
    assert response.json() == {"message": "The method is not allowed for the requested URL."}
    assert response.headers["allow"] == "OPTIONS, POST"
    assert http.options(f"/system/{operation}").headers["allow"] == "OPTIONS, POST"


def test_unknown_paths_are_html_404(http: httpx.Client) -> None:
    response = http.post("/system/restart", json={})
    assert (response.status_code, response.headers["content-type"]) == (
        404,
        "text/html; charset=utf-8",
    )


@pytest.mark.parametrize("operation", ["start", "status", "delete", "modify"])
def test_bodies_the_server_cannot_read(http: httpx.Client, fake: FakeTycho, operation: str) -> None:
    path = f"/system/{operation}"
    not_json = http.post(path, content=b"{oops", headers={"Content-Type": "application/json"})
    assert (not_json.status_code, not_json.json()) == (500, {"message": "Internal Server Error"})
    text_plain = http.post(path, content=b"{}", headers={"Content-Type": "text/plain"})
    assert error_of(text_plain.json()) == ABORT
    assert [r.problems for r in fake.requests] == [(INVALID_JSON,), (NOT_JSON_CONTENT,)]


def test_problems_name_fields_never_values(http: httpx.Client, fake: FakeTycho) -> None:
    secret = "hunter2-do-not-print"
    body = start_body(env={"TOKEN": [secret], "bad key": "x"})
    post(http, "start", body)
    (recorded,) = fake.requests
    assert recorded.problems
    assert any(p.startswith("env.TOKEN:") for p in recorded.problems)
    assert secret not in " ".join(recorded.problems)


def test_fake_refuses_to_answer_what_the_document_does_not_allow(
    http: httpx.Client, fake: FakeTycho, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(http, "start", start_body())
    monkeypatch.setattr(handlers, "report", lambda system, release: {"name": system.name})
    with pytest.raises(FakeTychoBug, match="breaks the document"):
        http.post("/system/status", json={})


def test_fake_checks_its_answers_under_python_dash_o_too() -> None:
    # `assert` would vanish under -O and let the fake answer what the document forbids.
    script = (
        "import httpx\n"
        "from tycho_client.testing import handlers\n"
        "from tycho_client.testing.fake import FakeTycho, FakeTychoBug\n"
        "fake = FakeTycho()\n"
        "handlers.report = lambda system, release: {'name': system.name}\n"
        "http = httpx.Client(transport=fake, base_url='http://tycho.test')\n"
        "body = {'name': 'a', 'principal': '{\"username\": \"u\"}', 'env': {},"
        " 'system': {'services': {'w': {'image': 'nginx', 'ports': ['80']}}}}\n"
        "http.post('/system/start', json=body)\n"
        "try:\n"
        "    http.post('/system/status', json={})\n"
        "except FakeTychoBug:\n"
        "    print('caught')\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "caught", done.stderr


# ----------------------------------------------------------------------- faults and state


def test_fail_next_injects_failures_then_recovers(http: httpx.Client, fake: FakeTycho) -> None:
    fake.fail_next(2, status=503, headers={"Retry-After": "7"})
    first = http.post("/system/start", json=start_body())
    second = http.post("/system/status", json={})
    assert (first.status_code, first.json()) == (503, {"message": "Service Unavailable"})
    assert (second.status_code, second.headers["retry-after"]) == (503, "7")
    assert fake.systems == {}
    assert post(http, "start", start_body())["status"] == "success"
    assert [(r.operation, r.status_code, r.injected) for r in fake.requests] == [
        ("start", 503, True),
        ("status", 503, True),
        ("start", 200, False),
    ]


def test_fail_next_with_error_envelopes_and_text(http: httpx.Client, fake: FakeTycho) -> None:
    fake.fail_next(status=200, body="quota exceeded")
    assert error_of(post(http, "status", {})) == "quota exceeded"
    fake.fail_next(status=200)
    assert error_of(post(http, "status", {})) == "injected failure"
    fake.fail_next(status=502, body="<html>bad gateway</html>")
    response = http.post("/system/status", json={})
    assert (response.status_code, response.text) == (502, "<html>bad gateway</html>")
    garbage = {"not": "an envelope"}
    fake.fail_next(status=200, body=garbage)
    assert post(http, "status", {}) == garbage
    with pytest.raises(ValueError, match="status"):
        fake.fail_next(status=42)


def test_latency_delays_every_answer(fake: FakeTycho, http: httpx.Client) -> None:
    fake.latency = 0.2
    started = time.perf_counter()
    http.post("/system/status", json={})
    assert time.perf_counter() - started >= 0.2


def test_reset_forgets_systems_requests_and_faults(http: httpx.Client, fake: FakeTycho) -> None:
    post(http, "start", start_body())
    fake.fail_next(3)
    fake.reset()
    assert (fake.systems, fake.requests) == ({}, [])
    result = post(http, "start", start_body())["result"]
    assert result["containers"]["db"]["port-1"] == 30000


def test_concurrent_starts_and_deletes_keep_state_consistent(fake: FakeTycho) -> None:
    started: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url="http://tycho.test", transport=fake) as http:
            for index in range(25):
                sid = post(http, "start", start_body())["result"]["sid"]
                if index % 5 == 0:
                    post(http, "delete", {"name": sid})
                else:
                    with lock:
                        started.append(sid)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(fake.systems) == sorted(started)
    assert len(started) == 8 * 20
    ports = [p["port-1"] for s in fake.systems.values() for p in s.containers.values()]
    assert len(set(ports)) == len(ports)
    assert len(fake.requests) == 8 * 30


@pytest.mark.anyio
async def test_async_transport(fake: FakeTycho) -> None:
    fake.latency = 0.05
    async with httpx.AsyncClient(base_url="http://tycho.test", transport=fake) as http:
        started = time.perf_counter()
        response = await http.post("/system/start", json=start_body())
        assert time.perf_counter() - started >= 0.05
    assert response.json()["result"]["sid"] in fake.systems


def test_fake_response_is_library_independent(fake: FakeTycho) -> None:
    answer = fake.handle("POST", "/system/status?x=1", {"Content-Type": "application/json"}, b"{}")
    assert isinstance(answer, FakeResponse)
    assert answer.content_type == "application/json"
    assert answer.json() == {
        "status": "success",
        "result": [],
        "message": "Get status for system None",
    }
    assert answer.content.endswith(b"\n")


def test_openapi_document_is_served(fake: FakeTycho) -> None:
    answer = fake.handle("GET", "/openapi.yaml", {}, b"")
    assert answer.status_code == 200
    assert answer.content.decode() == openapi.spec_text()


# examples/mistakes is the one that must not start (README, "Checking a file").
EXAMPLES = sorted(
    path
    for path in (Path(__file__).parents[1] / "examples").glob("*/docker-compose.yaml")
    if path.parent.name != "mistakes"
)


def test_the_examples_are_there() -> None:
    assert {path.parent.name for path in EXAMPLES} >= {"jupyter-ds", "webstack"}


@pytest.mark.parametrize("compose", EXAMPLES, ids=lambda path: path.parent.name)
def test_examples_start_on_the_fake(compose: Path) -> None:
    from tycho_client.client import TychoClient

    fake = FakeTycho()
    document = yaml.safe_load(compose.read_text())
    settings = (compose.parent / ".env").read_text()
    with TychoClient("http://tycho.test", transport=fake, username="demo") as client:
        started = client.up(compose.parent.name, compose.read_text(), settings)
    (request,) = fake.requests
    assert request.problems == ()
    system = fake.systems[started.result.sid]
    assert system.app_id == compose.parent.name
    assert set(system.containers) == {n for n, s in document["services"].items() if s["ports"]}
    for service in request.body["system"]["services"].values():
        # Normalized to what real servers read: string ports, KEY=value environment lists.
        assert all(isinstance(port, str) for port in service["ports"])
        assert isinstance(service.get("environment", []), list)
        assert "${" not in json.dumps(service)


def test_the_document_is_read_from_the_package_before_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = Path(__file__).parents[1] / "openapi" / "tycho.yaml"
    assert openapi.spec_path() == checkout  # a source checkout has no packaged copy
    packaged = tmp_path / "tycho.yaml"
    packaged.write_text("openapi: 3.1.0\npaths: {}\n")
    asked: list[str] = []

    def files(package: str) -> Path:
        asked.append(package)
        return tmp_path

    monkeypatch.setattr(openapi.importlib.resources, "files", files)
    openapi.spec_text.cache_clear()
    try:
        assert openapi.spec_path() == packaged
        assert openapi.spec_text() == packaged.read_text()
    finally:
        monkeypatch.undo()
        openapi.spec_text.cache_clear()
    assert asked[0] == "tycho_client._spec"
    assert openapi.spec_text() == checkout.read_text()
