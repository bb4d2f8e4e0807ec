"""Both faces over a real loopback HTTP server answering with recorded real exchanges.

Every test taking ``face`` (or ``client``) runs against TychoClient and against AsyncTychoClient
(driven through :class:`conftest.BlockingAsyncClient`): one behaviour, one test, two faces.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faces import BlockingAsyncClient, Face
from loopback import (
    LoopbackServer,
    Reply,
    closed_port,
    recorded_exchange,
    recorded_request,
    status_reply,
)

import tycho_client
from tycho_client import _config
from tycho_client.client import TychoClient
from tycho_client.errors import (
    TychoAPIError,
    TychoComposeError,
    TychoConnectionError,
    TychoDownError,
    TychoEnvError,
    TychoHTTPError,
    TychoNameError,
    TychoNotFoundError,
    TychoNotReadyError,
    TychoRateLimitError,
    TychoResponseError,
    TychoServerError,
    TychoTimeoutError,
    TychoValidationError,
)
from tycho_client.models import StartRequest

JUPYTER_GUID = "e483439d77be44d791466e05d9cc5ecc"
WEBSTACK_GUID = "b9ffda00e47c4d83b88f97f6fcf7e38e"
MINIMAL_SYSTEM = {"version": "3", "services": {"nginx": {"image": "nginx:1.25", "ports": ["80"]}}}
MODIFY_SUCCESS = {
    "status": "success",
    "message": "Modified the system",
    "result": {"patches": [{"spec": {"template": {"metadata": {"labels": {"team": "a"}}}}}]},
}


@pytest.fixture
def client(face: Face, loopback: LoopbackServer, sleeps: list[float]) -> Iterator[TychoClient]:
    with face(loopback.url, username="renci") as tycho:
        yield tycho


def test_each_face_sends_with_its_own_kind_of_httpx_client(face: Face) -> None:
    """The suite really drives both faces: the async one sends with an httpx.AsyncClient."""
    with face() as tycho:
        made = tycho.tycho if isinstance(tycho, BlockingAsyncClient) else tycho
        assert type(made) is face.cls
        http_type = httpx.Client if face.name == "sync" else httpx.AsyncClient
        assert type(tycho.http_client) is http_type


# ------------------------------------------------------------------------------------ start


@pytest.mark.parametrize("exchange", ["01-start-jupyter-ds", "02-start-two-service", "22"])
def test_start_sends_what_real_servers_accepted_and_parses_their_answer(
    client: TychoClient, loopback: LoopbackServer, exchange: str
) -> None:
    loopback.add(Reply.recorded(exchange))
    recorded = recorded_exchange(exchange)

    response = client.start(recorded["request"]["json"])

    sent = loopback.requests[0]
    assert (sent.method, sent.path) == ("POST", "/system/start")
    assert sent.headers["content-type"] == "application/json"
    expected = {"serviceaccount": "default", **recorded["request"]["json"]}
    assert sent.json() == expected
    answer = recorded["response"]["json"]["result"]
    assert response.result.sid == answer["sid"]
    assert response.result.name == answer["name"]
    assert {name: c.port_1 for name, c in response.result.containers.items()} == {
        name: c["port-1"] for name, c in answer["containers"].items()
    }


def test_start_fills_principal_from_the_username_option(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    client.start({"name": "minimal", "system": MINIMAL_SYSTEM})
    sent = loopback.requests[0].json()
    assert sent["principal"] == '{"username": "renci"}'
    assert sent["serviceaccount"] == "default"


def test_start_reads_tycho_username_at_call_time(
    face: Face, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback.add(Reply.recorded("22"), Reply.recorded("22"))
    monkeypatch.setattr(getpass, "getuser", lambda: "os-user")
    monkeypatch.delenv("TYCHO_USERNAME", raising=False)
    with face(loopback.url) as tycho:
        tycho.start({"name": "minimal", "system": MINIMAL_SYSTEM})
        monkeypatch.setenv("TYCHO_USERNAME", "from-env")
        tycho.start({"name": "minimal", "system": MINIMAL_SYSTEM})
    principals = [json.loads(r.json()["principal"]) for r in loopback.requests]
    assert principals == [{"username": "os-user"}, {"username": "from-env"}]


def test_start_falls_back_when_there_is_no_os_user(
    face: Face, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_user() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    monkeypatch.delenv("TYCHO_USERNAME", raising=False)
    loopback.add(Reply.recorded("22"))
    with face(loopback.url) as tycho:
        tycho.start({"name": "minimal", "system": MINIMAL_SYSTEM})
    assert json.loads(loopback.requests[0].json()["principal"]) == {"username": "anonymous"}


def test_start_keeps_a_given_principal_and_serviceaccount(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    client.start(
        {
            "name": "minimal",
            "system": MINIMAL_SYSTEM,
            "principal": '{"username": "alice"}',
            "serviceaccount": "runner",
        }
    )
    sent = loopback.requests[0].json()
    assert json.loads(sent["principal"]) == {"username": "alice"}
    assert sent["serviceaccount"] == "runner"
    # An object fails on real servers (recorded exchange 18): caught before sending.
    with pytest.raises(TychoValidationError) as caught:
        client.start({"name": "x", "system": MINIMAL_SYSTEM, "principal": {"username": "a"}})
    assert caught.value.paths == ["principal"]
    assert len(loopback.requests) == 1


def test_start_accepts_a_model_and_fills_its_serviceaccount(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    model = StartRequest.model_validate(recorded_request("22"))
    client.start(model)
    assert loopback.requests[0].json() == {**recorded_request("22"), "serviceaccount": "default"}


def test_start_takes_env_text_and_normalizes_compose_forms(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    system = {
        "services": {
            "db": {"image": "postgres:15", "ports": [5432], "environment": {"MODE": "fast"}}
        }
    }
    client.start({"name": "Apps/DB", "system": system, "env": "export A=1\nB='two words'\n"})
    sent = loopback.requests[0].json()
    assert sent["name"] == "apps-db"
    assert sent["env"] == {"A": "1", "B": "two words"}
    assert sent["system"]["services"]["db"]["ports"] == ["5432"]
    assert sent["system"]["services"]["db"]["environment"] == ["MODE=fast"]


# ------------------------------------------------------------------- validation before sending


@pytest.mark.parametrize(
    ("request_body", "error_type", "path"),
    [
        (
            {"name": "x", "system": {"services": {"web": {"image": "i", "ports": ["http"]}}}},
            TychoComposeError,
            "system.services.web.ports[0]",
        ),
        (
            {"name": "x", "system": MINIMAL_SYSTEM, "env": {"A": ["list"]}},
            TychoValidationError,
            "env.A",
        ),
        (
            {"name": "x", "system": MINIMAL_SYSTEM, "env": "A=1\nB='open\n"},
            TychoEnvError,
            "env.line 2",
        ),
        ({"name": "///", "system": MINIMAL_SYSTEM}, TychoNameError, "name"),
        (
            {"name": "x", "system": {"services": {"web": {"image": "i"}}}},
            TychoComposeError,
            "system.services",
        ),
        (
            {"name": "x", "system": MINIMAL_SYSTEM, "services": {"ghost": {"port": "80"}}},
            TychoValidationError,
            "services.ghost",
        ),
        ({"system": MINIMAL_SYSTEM}, TychoValidationError, "name"),
    ],
)
def test_invalid_start_requests_raise_typed_errors_with_paths_and_send_nothing(
    client: TychoClient,
    loopback: LoopbackServer,
    request_body: dict[str, Any],
    error_type: type[TychoValidationError],
    path: str,
) -> None:
    with pytest.raises(error_type) as caught:
        client.start(request_body)
    assert type(caught.value) is error_type
    assert path in caught.value.paths
    assert caught.value.message.startswith("invalid StartRequest")
    assert loopback.requests == []


def test_env_error_keeps_its_line_number(client: TychoClient) -> None:
    with pytest.raises(TychoEnvError) as caught:
        client.start({"name": "x", "system": MINIMAL_SYSTEM, "env": "A=1\n\n# c\nnot a binding"})
    assert caught.value.line == 4
    assert "env: line 4" in str(caught.value)


def test_a_request_that_is_not_a_mapping_is_a_validation_error(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    with pytest.raises(TychoValidationError, match="must be a mapping"):
        client.status(["name"])  # type: ignore[arg-type]
    assert loopback.requests == []


# ----------------------------------------------------------------------------------- status


def test_status_of_all_systems_sends_an_empty_object(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("03-status-all"))
    response = client.status()
    assert loopback.requests[0].body == b"{}"
    assert [system.sid for system in response.result] == [JUPYTER_GUID, WEBSTACK_GUID]
    assert response.result[1].utilization["web"] == {"cpu": "500m", "memory": "256M"}


def test_status_by_full_name_asks_for_the_guid(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("04"))
    response = client.status({"name": f"jupyter-ds-{JUPYTER_GUID}"})
    assert loopback.requests[0].json() == {"name": JUPYTER_GUID}
    assert response.result[0].port == "80"


def test_status_by_username_and_null_utilization(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("05"), Reply.recorded("23"))
    assert client.status({"username": "renci"}).result[0].username == "renci"
    assert client.status({"name": "e3ae69935cef4c3c8c09cddf1a4d2b20"}).result[0].utilization == {
        "nginx": None
    }
    assert loopback.requests[0].json() == {"username": "renci"}


# ---------------------------------------------------------------------------- delete, modify


def test_delete_by_full_name_sends_the_guid(client: TychoClient, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("06"), Reply.recorded("28-delete-by-full-name"))
    response = client.delete({"name": f"jupyter-ds-{JUPYTER_GUID}"})
    assert loopback.requests[0].json() == {"name": JUPYTER_GUID}
    assert response.message == f"Deleted system {JUPYTER_GUID}"
    assert client.delete({"name": f"webstack-{WEBSTACK_GUID}"}).result == {}
    assert loopback.requests[1].json() == {"name": WEBSTACK_GUID}


def test_modify_sends_the_wire_keys_and_parses_patches(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.json(MODIFY_SUCCESS))
    response = client.modify(
        {"tycho_guid": WEBSTACK_GUID, "labels": {"team": "a"}, "cpu": 1, "memory": "1G"}
    )
    assert loopback.requests[0].path == "/system/modify"
    assert loopback.requests[0].json() == {
        "tycho-guid": WEBSTACK_GUID,
        "labels": {"team": "a"},
        "cpu": "1",
        "memory": "1G",
    }
    assert response.result.patches[0]["spec"]["template"]["metadata"]["labels"] == {"team": "a"}
    loopback.add(Reply.json({"status": "success", "message": "ok", "result": {"patches": [{}]}}))
    assert client.modify({"tycho-guid": WEBSTACK_GUID, "memory": "1G"}).result.patches == [{}]
    assert loopback.requests[1].json() == {"tycho-guid": WEBSTACK_GUID, "memory": "1G"}


def test_modify_on_a_server_without_the_route_says_so(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("15-modify-not-registered"))
    with pytest.raises(TychoNotFoundError) as caught:
        client.modify(recorded_request("15"))
    assert "does not support /system/modify" in str(caught.value)
    assert caught.value.status_code == 404
    assert caught.value.operation == "modify"


def test_modify_rejects_an_invalid_label_before_sending(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    with pytest.raises(TychoValidationError) as caught:
        client.modify({"tycho-guid": WEBSTACK_GUID, "labels": {"team": "has spaces"}})
    assert "labels" in caught.value.paths
    assert loopback.requests == []


# ---------------------------------------------------------------------------------- request


def test_request_posts_any_json_and_returns_the_object_unchecked(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("26-delete-missing-name"))
    answer = client.request("delete", {})
    assert (loopback.requests[0].path, loopback.requests[0].body) == ("/system/delete", b"{}")
    assert answer == {"status": "error", "result": {"error": "name"}, "message": "name"}
    loopback.add(Reply.recorded("25-status-name-null"))
    answer = client.request("status", {"name": None})
    assert loopback.requests[1].body == b'{"name": null}'
    assert answer["result"] == {"error": "name 'abort' is not defined"}


def test_request_raises_http_errors(client: TychoClient, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("10-start-invalid-json"))
    with pytest.raises(TychoServerError, match="Internal Server Error"):
        client.request("start", {"name": "x"})


@pytest.mark.parametrize("service", ["", "../admin", "status?x=1", "a/b"])
def test_request_rejects_a_service_that_is_not_a_path_segment(
    client: TychoClient, loopback: LoopbackServer, service: str
) -> None:
    with pytest.raises(TychoValidationError):
        client.request(service, {})
    assert loopback.requests == []


def test_request_with_a_body_that_is_not_json_serializable(client: TychoClient) -> None:
    with pytest.raises(TychoValidationError, match="not JSON-serializable"):
        client.request("status", {"when": object()})


def test_request_answer_that_is_not_an_object(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.json([1, 2]))
    with pytest.raises(TychoResponseError, match="not an object"):
        client.request("status")


# ---------------------------------------------------------------------------------------- up


def test_up_builds_the_request_real_servers_expect(
    client: TychoClient, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_CALLER", "must-not-leak")
    loopback.add(Reply.recorded("01"))
    system = {
        "version": "3",
        "services": {
            "jupyter-ds": {
                "image": "jupyter/datascience-notebook:${TAG}",
                "ports": ["$HOST_PORT:8888"],
                "environment": ["CALLER=${FROM_CALLER}"],
            },
            "sidecar": {"image": "busybox"},
        },
    }
    response = client.up("Apps/Jupyter DS", system, "HOST_PORT=30000\nTAG=2024\n")

    sent = loopback.requests[0].json()
    assert sent["name"] == "apps-jupyter-ds"
    assert sent["env"] == {"HOST_PORT": "30000", "TAG": "2024"}
    service = sent["system"]["services"]["jupyter-ds"]
    assert service["image"] == "jupyter/datascience-notebook:2024"
    assert service["ports"] == ["30000:8888"]
    assert service["environment"] == ["CALLER=${FROM_CALLER}"]  # not the process environment
    assert sent["services"] == {"jupyter-ds": {"port": "8888", "clients": []}}
    assert sent["principal"] == '{"username": "renci"}'
    assert sent["serviceaccount"] == "default"
    assert response.result.sid == JUPYTER_GUID


def test_up_reads_compose_yaml_text_and_a_settings_mapping(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    compose = "services:\n  web:\n    image: nginx\n    ports:\n      - ${PORT}:80\n"
    client.up("web", compose, {"PORT": 8080}, serviceaccount="runner")
    sent = loopback.requests[0].json()
    assert sent["system"]["services"]["web"]["ports"] == ["8080:80"]
    assert sent["env"] == {"PORT": "8080"}
    assert sent["serviceaccount"] == "runner"


def test_up_with_a_long_name_gives_a_name_a_cluster_accepts(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    client.up("Project " * 25, MINIMAL_SYSTEM)
    name = loopback.requests[0].json()["name"]
    # Servers use "{name}-{32 hex}" as a label value: at most 63 characters.
    assert len(f"{name}-{JUPYTER_GUID}") <= 63
    assert name.startswith("project-project")


def test_up_explicit_services_win_over_derived_ones(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("22"))
    client.up("x", MINIMAL_SYSTEM, services={})
    assert loopback.requests[0].json()["services"] == {}


def test_up_errors_name_the_problem_and_send_nothing(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    with pytest.raises(TychoNameError):
        client.up("---", MINIMAL_SYSTEM)
    with pytest.raises(TychoEnvError) as env_error:
        client.up("x", MINIMAL_SYSTEM, "OK=1\n2BAD=x\n")
    assert env_error.value.line == 2
    undefined = {"services": {"web": {"image": "nginx", "ports": ["$NOPE:80", "${APP}"]}}}
    with pytest.raises(TychoComposeError) as compose_error:
        client.up("x", undefined)
    assert "system.services.web.ports[1]" in compose_error.value.paths
    with pytest.raises(TychoComposeError, match="line"):
        client.up("x", "services: [unclosed")
    with pytest.raises(TychoComposeError, match="no service has `ports`"):
        client.up("x", {"services": {"worker": {"image": "busybox"}}})
    assert loopback.requests == []


# --------------------------------------------------------------------------------- list, down


def test_list_returns_systems_or_their_guids(client: TychoClient, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"), status_reply(True, False), Reply.recorded("04"))
    loopback.add(Reply.recorded("03"))
    systems = client.list()
    assert [s.app_id for s in systems] == ["jupyter-ds", "webstack"]
    assert [s.workspace_name for s in systems] == ["jupyter-ds", "webstack"]
    assert client.list(terse=True) == [JUPYTER_GUID]  # two Deployments, one system
    assert [s.sid for s in client.list(JUPYTER_GUID)] == [JUPYTER_GUID]
    assert client.list(None, True) == [JUPYTER_GUID, WEBSTACK_GUID]
    assert [r.json() for r in loopback.requests] == [{}, {}, {"name": JUPYTER_GUID}, {}]


def test_down_deletes_each_and_returns_the_guids(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("06"), Reply.recorded("31"))
    deleted = client.down([f"jupyter-ds-{JUPYTER_GUID}", WEBSTACK_GUID])
    assert deleted == [JUPYTER_GUID, WEBSTACK_GUID]
    assert [r.json() for r in loopback.requests] == [
        {"name": JUPYTER_GUID},
        {"name": WEBSTACK_GUID},
    ]


def test_down_takes_a_single_name_as_one_name(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("06"))
    assert client.down(JUPYTER_GUID) == [JUPYTER_GUID]
    assert len(loopback.requests) == 1


def test_down_tries_all_then_reports_what_failed(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("06"), Reply.recorded("26"), Reply.recorded("31"))
    with pytest.raises(TychoDownError) as caught:
        client.down([JUPYTER_GUID, "0123456789abcdef0123456789abcdef", WEBSTACK_GUID])
    assert caught.value.deleted == [JUPYTER_GUID, WEBSTACK_GUID]
    assert list(caught.value.failed) == ["0123456789abcdef0123456789abcdef"]
    assert isinstance(caught.value.failed["0123456789abcdef0123456789abcdef"], TychoAPIError)
    assert "1 of 3" in str(caught.value)
    assert len(loopback.requests) == 3


def test_down_counts_an_http_failure_as_failed(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("06"), Reply(500, b'{"message": "Internal Server Error"}'))
    with face(loopback.url, max_retries=0) as tycho, pytest.raises(TychoDownError) as caught:
        tycho.down([JUPYTER_GUID, WEBSTACK_GUID])
    assert caught.value.deleted == [JUPYTER_GUID]
    assert isinstance(caught.value.failed[WEBSTACK_GUID], TychoServerError)
    assert len(loopback.requests) == 2


def test_down_validates_every_name_before_sending_any(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    with pytest.raises(TychoValidationError) as caught:
        client.down([JUPYTER_GUID, "  "])
    assert caught.value.paths == ["names[1]"]
    assert loopback.requests == []


# --------------------------------------------------------------------------------- wait_ready


def test_wait_ready_polls_until_every_deployment_is_ready(
    client: TychoClient, loopback: LoopbackServer, sleeps: list[float]
) -> None:
    loopback.add(
        Reply.recorded("07-status-after-delete"),  # not listed yet
        status_reply(True, False),
        status_reply(True, True),
    )
    systems = client.wait_ready(JUPYTER_GUID, deadline=60, interval=1.5)
    assert [s.is_ready for s in systems] == [True, True]
    assert len(loopback.requests) == 3
    assert sleeps == [1.5, 1.5]
    assert all(r.json() == {"name": JUPYTER_GUID} for r in loopback.requests)


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (status_reply(False), "0 of 1 deployments ready"),
        (Reply.recorded("14-status-unknown-guid"), "the server does not list it"),
    ],
)
def test_wait_ready_times_out_naming_the_guid(
    face: Face, loopback: LoopbackServer, reply: Reply, state: str
) -> None:
    loopback.always(reply)
    started = time.monotonic()
    with face(loopback.url) as tycho, pytest.raises(TychoNotReadyError) as caught:
        tycho.wait_ready(JUPYTER_GUID, deadline=0.3, interval=0.05)
    assert caught.value.guid == JUPYTER_GUID
    assert time.monotonic() - started < 2
    assert JUPYTER_GUID in str(caught.value)
    assert state in str(caught.value)
    assert len(loopback.requests) >= 2


def test_wait_ready_rejects_a_nonsensical_interval(client: TychoClient) -> None:
    with pytest.raises(TychoValidationError, match="interval"):
        client.wait_ready(JUPYTER_GUID, deadline=1, interval=0)


# ------------------------------------------------------------------------- delegated helpers


def test_format_name_and_parse_env_delegate(client: TychoClient) -> None:
    assert client.format_name("apps/jupyter") == "apps-jupyter"
    assert client.parse_env("A=1\n# note\nB='x # y'\n") == {"A": "1", "B": "x # y"}
    assert client.parse_env('A="x\\ny"') == {"A": "x\ny"}
    with pytest.raises(TychoEnvError):
        client.parse_env("no equals sign")


# ---------------------------------------------------------------------------- server errors


@pytest.mark.parametrize(
    ("exchange", "hint"),
    [
        ("08-start-missing-system", "missed the required key `system`"),
        ("11-start-text-plain", "schema rejected the request body"),
        ("17-start-missing-name", "missed the required key `name`"),
        ("18-start-principal-object", "`principal` is required and must be a JSON *string*"),
        ("19-start-missing-principal", "`principal` is required"),
        ("20-start-env-int-value", "ports` entries and `env` values must be strings"),
        ("21-start-with-clients", "leave `clients` empty"),
        ("09-start-no-services", "has no `services`"),
    ],
)
def test_api_errors_explain_cryptic_server_errors(
    client: TychoClient, loopback: LoopbackServer, exchange: str, hint: str
) -> None:
    loopback.add(Reply.recorded(exchange))
    server_error = recorded_exchange(exchange)["response"]["json"]["result"]["error"]
    with pytest.raises(TychoAPIError) as caught:
        client.start(recorded_request("22"))
    assert caught.value.operation == "start"
    assert caught.value.error == server_error
    assert caught.value.hint is not None
    assert hint in caught.value.hint
    assert hint in str(caught.value)
    assert caught.value.response.result.error == server_error


def test_each_operation_raises_its_own_errors(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(
        Reply.recorded("18-start-principal-object"),
        Reply.text("<html>gateway</html>", 200, "text/html"),
        Reply.recorded("10"),
    )
    with face(loopback.url, username="renci", max_retries=0) as tycho:
        with pytest.raises(TychoAPIError) as api_error:
            tycho.start(recorded_request("22"))
        with pytest.raises(TychoResponseError, match="not JSON"):
            tycho.status()
        with pytest.raises(TychoServerError) as server_error:
            tycho.delete({"name": JUPYTER_GUID})
        with pytest.raises(TychoValidationError):
            tycho.delete({"name": ""})
    assert api_error.value.hint is not None
    assert "principal" in api_error.value.hint
    assert server_error.value.operation == "delete"
    assert len(loopback.requests) == 3


def test_api_error_quotes_a_traceback_by_its_head_and_last_line(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.recorded("21-start-with-clients"))
    with pytest.raises(TychoAPIError) as caught:
        client.start(recorded_request("22"))
    message = str(caught.value)
    assert "Unable to start system" in message
    assert "No template policy/tycho-default-netpolicy.yaml" in message
    assert "File " not in message


def test_unknown_api_errors_carry_the_server_text_without_a_hint(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply.json({"status": "error", "result": {"error": "disk full"}, "message": "x"}))
    with pytest.raises(TychoAPIError) as caught:
        client.status()
    assert (caught.value.error, caught.value.hint) == ("disk full", None)
    assert caught.value.operation == "status"
    assert str(caught.value) == 'status failed on the server: "disk full"'


@pytest.mark.parametrize(
    ("reply", "error_type", "fragment"),
    [
        (Reply.recorded("16-get-status"), TychoHTTPError, "HTTP 405"),
        (Reply.recorded("10-start-invalid-json"), TychoServerError, "Internal Server Error"),
        (Reply.text("<html><title>Not Here</title></html>", 404), TychoNotFoundError, "Not Here"),
        (Reply.text("slow down", 429, "text/plain"), TychoRateLimitError, "HTTP 429"),
        (Reply.text("denied", 401), TychoHTTPError, "HTTP 401 Unauthorized: denied"),
    ],
)
def test_non_2xx_answers_raise_http_errors(
    client: TychoClient,
    loopback: LoopbackServer,
    reply: Reply,
    error_type: type[TychoHTTPError],
    fragment: str,
) -> None:
    loopback.add(reply)
    with pytest.raises(TychoHTTPError) as caught:
        client.status(max_retries=0)
    assert type(caught.value) is error_type
    assert caught.value.status_code == reply.status
    assert caught.value.operation == "status"
    assert fragment in str(caught.value)


def test_rate_limit_error_carries_retry_after(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    loopback.add(Reply(429, b"", {"Retry-After": "12"}))
    with pytest.raises(TychoRateLimitError) as caught:
        client.status(max_retries=0)
    assert caught.value.retry_after == 12.0


@pytest.mark.parametrize(
    ("reply", "path", "fragment"),
    [
        (Reply.text("<html>proxy error</html>", 200, "text/html"), None, "not JSON"),
        (Reply(200), None, "(empty body)"),
        (Reply.json({"message": "ok"}), "status", "does not allow"),
        (Reply.json({"status": "weird", "result": [], "message": ""}), "status", "'weird'"),
    ],
)
def test_bodies_that_are_not_the_document_raise_response_errors(
    client: TychoClient, loopback: LoopbackServer, reply: Reply, path: str | None, fragment: str
) -> None:
    loopback.add(reply)
    with pytest.raises(TychoResponseError) as caught:
        client.status()
    assert caught.value.path == path
    assert caught.value.status_code == 200
    assert fragment in str(caught.value)


def test_response_error_names_the_field_path_and_bounds_the_quote(
    client: TychoClient, loopback: LoopbackServer
) -> None:
    body = recorded_exchange("03")["response"]["json"]
    body["result"][1]["port"] = 80  # the document says a string
    body["message"] = "x" * 5000
    loopback.add(Reply.json(body))
    with pytest.raises(TychoResponseError) as caught:
        client.status()
    assert caught.value.path == "result[1].port"
    assert "result[1].port" in str(caught.value)
    assert len(caught.value.body) <= tycho_client.errors.MAX_BODY_QUOTE
    assert len(str(caught.value)) < 1000


def test_connection_refused_raises_connection_error(face: Face, sleeps: list[float]) -> None:
    port = closed_port()
    with (
        face(f"http://127.0.0.1:{port}") as tycho,
        pytest.raises(TychoConnectionError) as caught,
    ):
        tycho.status()
    assert caught.value.url == f"http://127.0.0.1:{port}/system/status"
    assert "could not connect" in str(caught.value)
    assert len(sleeps) == 2  # retried max_retries times first


def test_per_call_timeout_is_honoured(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(dataclasses.replace(Reply.recorded("03"), delay=2.0))
    started = time.monotonic()
    with face(loopback.url) as tycho, pytest.raises(TychoTimeoutError) as caught:
        tycho.status(timeout=0.2, max_retries=0)
    assert time.monotonic() - started < 1.5
    assert "0.2 s (read timeout)" in str(caught.value)


def test_per_call_timeout_overrides_a_short_client_timeout(
    face: Face, loopback: LoopbackServer
) -> None:
    loopback.add(dataclasses.replace(Reply.recorded("03"), delay=0.3))
    with face(loopback.url, timeout=0.1, max_retries=0) as tycho:
        assert len(tycho.status(timeout=5).result) == 2


# ----------------------------------------------------------------------------- options


def test_options_and_defaults(face: Face) -> None:
    with face("http://tycho.example:8099/") as tycho:
        assert tycho.base_url == "http://tycho.example:8099"
        assert (tycho.timeout.connect, tycho.timeout.read) == (5.0, 30.0)
        assert tycho.max_retries == 2
        assert tycho.username is None
    with face() as tycho:
        assert tycho.timeout == _config.DEFAULT_TIMEOUT
        assert tycho.deadline == 35
        assert tycho.base_url == "http://localhost:5000"
    with face(timeout=None) as tycho:  # as in httpx: no timeout per phase, and no deadline
        assert tycho.timeout == httpx.Timeout(None)
        assert tycho.deadline is None
    with face(timeout=None, deadline=60) as tycho:
        assert tycho.deadline == 60
    with face(timeout=7) as tycho:
        assert (tycho.timeout.connect, tycho.timeout.read) == (7.0, 7.0)


def test_timeouts_mean_what_they_mean_in_httpx(face: Face) -> None:
    with face(timeout=httpx.Timeout(None, read=10.0)) as tycho:
        assert tycho.timeout.read == 10.0
        assert tycho.timeout.connect is None  # unset: no timeout for that phase
        assert tycho.deadline is None  # nothing to derive it from
    for bad in (0, -1.0, float("inf"), "10"):
        with pytest.raises(TychoValidationError, match="timeout"):
            face(timeout=bad)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"url": "ftp://host"}, {"url": "localhost:5000"}, {"token": "a\nb"}],
)
def test_bad_options_are_rejected(face: Face, kwargs: dict[str, Any]) -> None:
    with pytest.raises(TychoValidationError):
        face(**kwargs)


def test_token_and_extra_headers_are_sent(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"))
    with face(loopback.url, token="t0ken", headers={"X-Team": "blue"}) as tycho:
        tycho.status()
        assert "t0ken" not in repr(tycho)
    headers = loopback.requests[0].headers
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["x-team"] == "blue"
    assert headers["user-agent"].startswith("tycho-client/")


def test_with_options_copies_and_shares_the_pool(face: Face, loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"), Reply.recorded("03"))
    with face(loopback.url, token="t0ken", max_retries=2) as tycho:
        copy_ = tycho.with_options(max_retries=0, timeout=3.0, username="bob")
        assert copy_.http_client is tycho.http_client
        assert (copy_.max_retries, copy_.timeout.read, copy_.username) == (0, 3.0, "bob")
        assert (tycho.max_retries, tycho.timeout.read, tycho.username) == (2, 30.0, None)
        copy_.close()  # a copy does not close the pool it shares
        copy_.status()
        tycho.status()
        separate = tycho.with_options(verify=False)
        assert separate.http_client is not tycho.http_client
        separate.close()
    assert tycho.http_client.is_closed
    assert all(r.headers["authorization"] == "Bearer t0ken" for r in loopback.requests)


def test_a_given_http_client_is_used_and_left_open(loopback: LoopbackServer) -> None:
    """Sync only: it is about an httpx.Client (the httpx.AsyncClient twin: test_client_async)."""
    loopback.add(Reply.recorded("03"))
    with httpx.Client() as http:
        with TychoClient(loopback.url, http_client=http) as tycho:
            tycho.status()
        assert not http.is_closed
        with pytest.raises(ValueError, match="http_client"):
            TychoClient(loopback.url, http_client=http, verify=False)
    assert len(loopback.requests) == 1


def test_client_is_exported_lazily(face: Face) -> None:
    assert getattr(tycho_client, face.cls.__name__) is face.cls


# ------------------------------------------------------------------------------------- TLS


def test_tls_verify_takes_a_ca_bundle_or_false(
    face: Face, tls_server: tuple[LoopbackServer, Path], sleeps: list[float]
) -> None:
    server, cert = tls_server
    with face(server.url, verify=str(cert)) as tycho:
        assert len(tycho.status().result) == 2
    with face(server.url, verify=False) as tycho:
        assert len(tycho.status().result) == 2
    with face(server.url) as tycho, pytest.raises(TychoConnectionError) as caught:
        tycho.status()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert sleeps == []  # a certificate failure is not retried
    assert len(server.requests) == 2


def test_verify_with_a_missing_ca_bundle(face: Face, tmp_path: Path) -> None:
    with pytest.raises(TychoValidationError, match="CA bundle"):
        face(verify=str(tmp_path / "missing.pem"))
