"""For teams that already mock httpx with respx: tycho-client works with it unchanged.

    pip install tycho-client respx pytest
    python -m pytest examples/test_with_respx.py

respx intercepts every httpx client, so routes on the Tycho API's URL answer tycho-client's
requests, and ``route.calls`` shows what was sent. The answers are whatever the test writes, so
they are not checked against the contract: copy them from real exchanges (these are from
``tests/fixtures/wire/``), or prefer the fake Tycho (``examples/test_service.py``), which
validates both sides.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from tycho_client import TychoAPIError, TychoClient, TychoServerError

URL = "http://tycho.test"
GUID = "e483439d77be44d791466e05d9cc5ecc"
STARTED = {
    "status": "success",
    "result": {
        "name": f"jupyter-ds-{GUID}",
        "sid": GUID,
        "containers": {"jupyter-ds": {"ip_address": None, "port-1": 30000}},
        "conn_string": "",
    },
    "message": f"Started system jupyter-ds-{GUID}",
}
REFUSED = {"status": "error", "result": {"error": "name"}, "message": "name"}
COMPOSE = {"services": {"jupyter-ds": {"image": "jupyter/datascience-notebook", "ports": ["8888"]}}}


@pytest.fixture
def tycho() -> TychoClient:
    return TychoClient(URL, max_retries=0)


def test_up_sends_what_real_servers_read(respx_mock: respx.MockRouter, tycho: TychoClient) -> None:
    route = respx_mock.post(f"{URL}/system/start").respond(json=STARTED)

    started = tycho.up("jupyter-ds", COMPOSE, settings="JUPYTER_TOKEN=abc")

    assert started.result.sid == GUID
    sent = json.loads(route.calls.last.request.content)
    assert sent["name"] == "jupyter-ds"
    assert sent["env"] == {"JUPYTER_TOKEN": "abc"}
    assert sent["services"] == {"jupyter-ds": {"port": "8888", "clients": []}}
    assert sent["system"]["services"]["jupyter-ds"]["ports"] == ["8888"]  # strings, as servers read


def test_an_error_envelope_is_a_typed_error(
    respx_mock: respx.MockRouter, tycho: TychoClient
) -> None:
    respx_mock.post(f"{URL}/system/delete").respond(json=REFUSED)  # HTTP 200, "status": "error"
    with pytest.raises(TychoAPIError):
        tycho.delete({"name": GUID})


def test_a_503_is_a_server_error(respx_mock: respx.MockRouter, tycho: TychoClient) -> None:
    respx_mock.post(f"{URL}/system/status").mock(return_value=httpx.Response(503))
    with pytest.raises(TychoServerError):
        tycho.status()
