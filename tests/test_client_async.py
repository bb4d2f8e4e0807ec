"""AsyncTychoClient over a real loopback HTTP server: every method, the errors, the options."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import httpx
import pytest
from loopback import LoopbackServer, Reply, closed_port, recorded_request, status_reply

import tycho_client
from tycho_client.aio import AsyncTychoClient
from tycho_client.errors import (
    TychoAPIError,
    TychoComposeError,
    TychoConnectionError,
    TychoDownError,
    TychoEnvError,
    TychoNotFoundError,
    TychoNotReadyError,
    TychoResponseError,
    TychoServerError,
    TychoTimeoutError,
    TychoValidationError,
)

pytestmark = pytest.mark.anyio

JUPYTER_GUID = "e483439d77be44d791466e05d9cc5ecc"
WEBSTACK_GUID = "b9ffda00e47c4d83b88f97f6fcf7e38e"
MINIMAL_SYSTEM = {"services": {"nginx": {"image": "nginx:1.25", "ports": ["80"]}}}


def tycho_for(server: LoopbackServer, **options: Any) -> AsyncTychoClient:
    return AsyncTychoClient(server.url, username="renci", **options)


async def test_start_sends_the_recorded_request_and_parses_the_answer(
    loopback: LoopbackServer,
) -> None:
    loopback.add(Reply.recorded("02-start-two-service"))
    async with tycho_for(loopback) as tycho:
        response = await tycho.start(recorded_request("02"))
    assert loopback.requests[0].json() == recorded_request("02")
    assert sorted(response.result.containers) == ["db", "web"]
    assert response.result.containers["web"].port_1 == 30002


async def test_start_fills_defaults_and_validates_first(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("22"))
    async with tycho_for(loopback) as tycho:
        await tycho.start({"name": "minimal", "system": MINIMAL_SYSTEM, "env": "A=1"})
        with pytest.raises(TychoEnvError) as caught:
            await tycho.start({"name": "x", "system": MINIMAL_SYSTEM, "env": "A=1\nB"})
    sent = loopback.requests[0].json()
    assert (sent["principal"], sent["serviceaccount"]) == ('{"username": "renci"}', "default")
    assert sent["env"] == {"A": "1"}
    assert caught.value.line == 2
    assert len(loopback.requests) == 1


async def test_status_delete_and_modify(loopback: LoopbackServer) -> None:
    modify_answer = {"status": "success", "message": "ok", "result": {"patches": [{}]}}
    loopback.add(Reply.recorded("03"), Reply.recorded("28"), Reply.json(modify_answer))
    async with tycho_for(loopback) as tycho:
        status = await tycho.status()
        deleted = await tycho.delete({"name": f"webstack-{WEBSTACK_GUID}"})
        modified = await tycho.modify({"tycho-guid": WEBSTACK_GUID, "memory": "1G"})
    assert [s.sid for s in status.result] == [JUPYTER_GUID, WEBSTACK_GUID]
    assert deleted.result == {}
    assert modified.result.patches == [{}]
    assert [(r.path, r.json()) for r in loopback.requests] == [
        ("/system/status", {}),
        ("/system/delete", {"name": WEBSTACK_GUID}),
        ("/system/modify", {"tycho-guid": WEBSTACK_GUID, "memory": "1G"}),
    ]


async def test_modify_on_a_server_without_the_route(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("15"))
    async with tycho_for(loopback) as tycho:
        with pytest.raises(TychoNotFoundError, match="does not support /system/modify"):
            await tycho.modify(recorded_request("15"))


async def test_request_is_the_generic_layer(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("25-status-name-null"))
    async with tycho_for(loopback) as tycho:
        answer = await tycho.request("status", {"name": None})
    assert loopback.requests[0].body == b'{"name": null}'
    assert answer["result"] == {"error": "name 'abort' is not defined"}


async def test_up_builds_the_request(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("01"))
    system = {"services": {"lab": {"image": "jupyter", "ports": ["${PORT}:8888"]}}}
    async with tycho_for(loopback) as tycho:
        response = await tycho.up("My Lab", system, "PORT=30000")
    sent = loopback.requests[0].json()
    assert sent["name"] == "my-lab"
    assert sent["system"]["services"]["lab"]["ports"] == ["30000:8888"]
    assert sent["services"] == {"lab": {"port": "8888", "clients": []}}
    assert json.loads(sent["principal"]) == {"username": "renci"}
    assert response.result.sid == JUPYTER_GUID


async def test_up_rejects_a_system_without_ports(loopback: LoopbackServer) -> None:
    async with tycho_for(loopback) as tycho:
        with pytest.raises(TychoComposeError, match="no service has `ports`"):
            await tycho.up("x", {"services": {"worker": {"image": "busybox"}}})
    assert loopback.requests == []


async def test_list_and_terse_list(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"), Reply.recorded("03"), Reply.recorded("04"))
    async with tycho_for(loopback) as tycho:
        systems = await tycho.list()
        guids = await tycho.list(terse=True)
        one = await tycho.list(JUPYTER_GUID, terse=False)
    assert [s.workspace_name for s in systems] == ["jupyter-ds", "webstack"]
    assert guids == [JUPYTER_GUID, WEBSTACK_GUID]
    assert [s.sid for s in one] == [JUPYTER_GUID]
    assert loopback.requests[2].json() == {"name": JUPYTER_GUID}


async def test_down_returns_deleted_and_raises_for_failures(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("06"), Reply.recorded("31"))
    loopback.add(Reply.recorded("06"), Reply(500, b'{"message": "Internal Server Error"}'))
    async with tycho_for(loopback, max_retries=0) as tycho:
        assert await tycho.down([JUPYTER_GUID, WEBSTACK_GUID]) == [JUPYTER_GUID, WEBSTACK_GUID]
        with pytest.raises(TychoDownError) as caught:
            await tycho.down([JUPYTER_GUID, WEBSTACK_GUID])
    assert caught.value.deleted == [JUPYTER_GUID]
    assert isinstance(caught.value.failed[WEBSTACK_GUID], TychoServerError)
    assert len(loopback.requests) == 4


async def test_wait_ready(loopback: LoopbackServer, sleeps: list[float]) -> None:
    loopback.add(status_reply(False), status_reply(True))
    async with tycho_for(loopback) as tycho:
        systems = await tycho.wait_ready(JUPYTER_GUID, timeout=30, interval=0.5)
    assert [s.is_ready for s in systems] == [True]
    assert sleeps == [0.5]


async def test_wait_ready_times_out(loopback: LoopbackServer) -> None:
    loopback.always(Reply.recorded("14-status-unknown-guid"))
    async with tycho_for(loopback) as tycho:
        with pytest.raises(TychoNotReadyError) as caught:
            await tycho.wait_ready(JUPYTER_GUID, timeout=0.2, interval=0.05)
    assert caught.value.guid == JUPYTER_GUID
    assert JUPYTER_GUID in str(caught.value)
    assert "does not list it" in str(caught.value)


async def test_format_name_and_parse_env(loopback: LoopbackServer) -> None:
    async with tycho_for(loopback) as tycho:
        assert tycho.format_name("Apps/Jupyter") == "apps-jupyter"
        assert tycho.parse_env('A="x\\ny"') == {"A": "x\ny"}


async def test_errors(loopback: LoopbackServer) -> None:
    loopback.add(
        Reply.recorded("18-start-principal-object"),
        Reply.text("<html>gateway</html>", 200, "text/html"),
        Reply.recorded("10"),
    )
    async with tycho_for(loopback, max_retries=0) as tycho:
        with pytest.raises(TychoAPIError) as api_error:
            await tycho.start(recorded_request("22"))
        with pytest.raises(TychoResponseError, match="not JSON"):
            await tycho.status()
        with pytest.raises(TychoServerError):
            await tycho.delete({"name": JUPYTER_GUID})
        with pytest.raises(TychoValidationError):
            await tycho.delete({"name": ""})
    assert api_error.value.hint is not None
    assert "principal" in api_error.value.hint
    assert len(loopback.requests) == 3


async def test_connection_refused(sleeps: list[float]) -> None:
    async with AsyncTychoClient(f"http://127.0.0.1:{closed_port()}") as tycho:
        with pytest.raises(TychoConnectionError):
            await tycho.status()
    assert len(sleeps) == 2


async def test_per_call_timeout(loopback: LoopbackServer) -> None:
    loopback.add(dataclasses.replace(Reply.recorded("03"), delay=2.0))
    started = time.monotonic()
    async with tycho_for(loopback) as tycho:
        with pytest.raises(TychoTimeoutError, match=r"0\.2 s"):
            await tycho.status(timeout=0.2, max_retries=0)
    assert time.monotonic() - started < 1.5


async def test_token_headers_and_options(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"), Reply.recorded("03"))
    async with AsyncTychoClient(
        loopback.url + "/", token="t0ken", headers={"X-Team": "red"}, timeout=7
    ) as tycho:
        assert tycho.base_url == loopback.url
        assert tycho.timeout.read == 7.0
        assert "t0ken" not in repr(tycho)
        await tycho.status()
        quick = tycho.with_options(max_retries=0)
        assert quick.http_client is tycho.http_client
        assert quick.max_retries == 0
        await quick.aclose()  # does not close the shared pool
        await quick.status()
    assert tycho.http_client.is_closed
    for request in loopback.requests:
        assert request.headers["authorization"] == "Bearer t0ken"
        assert request.headers["x-team"] == "red"


async def test_a_given_http_client_is_left_open(loopback: LoopbackServer) -> None:
    loopback.add(Reply.recorded("03"))
    async with httpx.AsyncClient() as http:
        tycho = AsyncTychoClient(loopback.url, http_client=http)
        await tycho.status()
        await tycho.close()
        assert not http.is_closed


async def test_async_client_is_exported_lazily() -> None:
    assert tycho_client.AsyncTychoClient is AsyncTychoClient
