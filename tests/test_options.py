"""Options given once, overridable per call; a caller's httpx client respected; raw answers.

Every test talks to a loopback server over a real socket and reads what arrived there.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import httpx
import pytest
from loopback import LoopbackServer, Reply

from tycho_client import (
    AsyncTychoClient,
    RawResponse,
    StartRequest,
    StatusResponse,
    TychoAPIError,
    TychoClient,
    TychoNotFoundError,
    TychoTimeoutError,
)
from tycho_client._config import DEFAULT_TIMEOUT, USER_AGENT

EMPTY = Reply.json({"status": "success", "result": [], "message": "Get status for system None"})
FAILED = Reply.json({"status": "error", "result": {"error": "boom"}, "message": "boom"})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        running.always(EMPTY)
        yield running


def test_a_callers_http_client_keeps_its_timeout_user_agent_and_hooks(
    server: LoopbackServer,
) -> None:
    seen: list[str] = []
    own = httpx.Client(
        base_url="http://unused.test",
        timeout=httpx.Timeout(7.0),
        headers={"User-Agent": "my-service/1.0", "X-Team": "data"},
        event_hooks={"request": [lambda request: seen.append(request.url.path)]},
    )
    with own, TychoClient(server.url, http_client=own, token="t0k") as tycho:
        tycho.status()
        assert tycho.timeout == httpx.Timeout(7.0)
    headers = server.requests[0].headers
    assert headers["user-agent"] == "my-service/1.0"  # not replaced by ours
    assert headers["x-team"] == "data"
    assert headers["authorization"] == "Bearer t0k"
    assert headers["content-type"] == "application/json"
    assert seen == ["/system/status"]
    assert own.timeout == httpx.Timeout(7.0)  # the caller's client is not changed


def test_an_option_given_to_tycho_still_overrides_the_callers_client() -> None:
    slow = LoopbackServer(Reply(200, EMPTY.body, EMPTY.headers, delay=1.0)).start()
    own = httpx.Client(timeout=30.0)
    try:
        with own, TychoClient(slow.url, http_client=own, timeout=0.2, max_retries=0) as tycho:
            assert tycho.timeout == httpx.Timeout(0.2)
            with pytest.raises(TychoTimeoutError, match=r"0\.2 s"):
                tycho.status()
    finally:
        slow.stop()


def test_a_client_of_our_own_sets_fixed_headers_once_and_sends_them(
    server: LoopbackServer,
) -> None:
    with TychoClient(server.url, token="abc", headers={"X-A": "1"}) as tycho:
        assert tycho.http_client.headers["user-agent"] == USER_AGENT
        assert tycho.http_client.timeout == DEFAULT_TIMEOUT
        tycho.status()
        copy = tycho.with_options(token=None, headers={"X-B": "2"})
        copy.status()
    first, second = (request.headers for request in server.requests)
    assert (first["authorization"], first["x-a"], first["user-agent"]) == (
        "Bearer abc",
        "1",
        USER_AGENT,
    )
    # The copy shares the pool, yet its changed token and headers are what it sends.
    assert "authorization" not in second
    assert "x-a" not in second
    assert second["x-b"] == "2"


def test_extra_headers_go_with_one_call_only(server: LoopbackServer) -> None:
    with TychoClient(server.url) as tycho:
        tycho.status(extra_headers={"X-Request-Id": "r-1"})
        tycho.status()
    assert server.requests[0].headers["x-request-id"] == "r-1"
    assert "x-request-id" not in server.requests[1].headers


def test_with_raw_response_gives_the_http_answer_and_parses_on_demand(
    server: LoopbackServer,
) -> None:
    server.always(Reply(200, EMPTY.body, {**EMPTY.headers, "X-Served-By": "tycho-7"}))
    with TychoClient(server.url) as tycho:
        raw = tycho.with_raw_response.status({"username": "renci"})
        assert isinstance(raw, RawResponse)
        assert raw.status_code == 200
        assert raw.headers["x-served-by"] == "tycho-7"
        assert raw.http_response.request.url.path == "/system/status"
        parsed = raw.parse()
        assert isinstance(parsed, StatusResponse)
        assert parsed.result == []
        assert raw.parse() is parsed  # parsed once
    assert server.requests[0].json() == {"username": "renci"}


def test_with_raw_response_keeps_the_signatures_and_the_errors(server: LoopbackServer) -> None:
    with TychoClient(server.url) as tycho:
        for name in ("request", "start", "status", "delete", "modify", "up"):
            plain = inspect.signature(getattr(tycho, name))
            raw = inspect.signature(getattr(tycho.with_raw_response, name))
            assert raw.parameters == plain.parameters
        server.always(FAILED)
        raw_failed = tycho.with_raw_response.status()  # a 200: no error until parsed
        assert raw_failed.status_code == 200
        with pytest.raises(TychoAPIError):
            raw_failed.parse()
        server.always(Reply.text("<title>404 Not Found</title>", 404, "text/html"))
        with pytest.raises(TychoNotFoundError):  # non-2xx raises as the plain call does
            tycho.with_raw_response.modify({"tycho-guid": "a" * 32})
        # The plain methods are unaffected by the raw ones.
        server.always(EMPTY)
        assert isinstance(tycho.status(), StatusResponse)


@pytest.mark.anyio
async def test_async_raw_responses_extra_headers_and_a_callers_client(
    server: LoopbackServer,
) -> None:
    own = httpx.AsyncClient(headers={"User-Agent": "svc/2"}, timeout=9.0)
    async with own, AsyncTychoClient(server.url, http_client=own) as tycho:
        raw = await tycho.with_raw_response.status(extra_headers={"X-Id": "7"})
        assert isinstance(raw.parse(), StatusResponse)
        assert tycho.timeout == httpx.Timeout(9.0)
    headers = server.requests[0].headers
    assert (headers["user-agent"], headers["x-id"]) == ("svc/2", "7")


def test_models_show_their_fields_to_inspect() -> None:
    parameters = inspect.signature(StartRequest).parameters
    assert {"name", "system", "env", "services", "principal", "serviceaccount"} <= set(parameters)


def test_field_descriptions_reach_model_fields_and_the_json_schema() -> None:
    from tycho_client import SystemStatus

    assert "GUID" in (SystemStatus.model_fields["sid"].description or "")
    schema = StartRequest.model_json_schema()
    assert schema["properties"]["principal"].get("description")
    assert all(
        "description" in field for field in SystemStatus.model_json_schema()["properties"].values()
    )


def test_the_environments_proxy_is_used_unless_no_proxy_exempts_the_host(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with TychoClient("http://tycho.test:8099", max_retries=0) as tycho:
        tycho.status()
    # Asked as a proxy: the request line carries the whole URL (absolute form).
    assert server.paths() == ["http://tycho.test:8099/system/status"]
    with LoopbackServer() as direct:
        direct.always(EMPTY)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with TychoClient(direct.url, max_retries=0) as tycho:
            tycho.status()
        assert direct.paths() == ["/system/status"]
    assert len(server.requests) == 1
