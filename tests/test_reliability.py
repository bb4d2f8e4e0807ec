"""The client against servers that misbehave on purpose (tests/faults.py): deadlines, bounded
memory, strict answers, typed failures. Every test is bounded in time by the deadline it checks
and by the fault server's own lifetime."""

from __future__ import annotations

import base64
import json
import logging
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from faults import (
    FaultServer,
    control_characters,
    duplicate_status,
    gzip_bomb,
    huge_content_length,
    json_reply,
    raw_reply,
    reset_every_other,
    retry_after,
    trickle_body,
    trickle_headers,
)
from loopback import LoopbackServer, Reply, closed_port, recorded_exchange

from tycho_client import AsyncTychoClient, TychoClient
from tycho_client._limits import MAX_RESPONSE_BYTES
from tycho_client.errors import (
    TychoAPIError,
    TychoConnectionError,
    TychoDownError,
    TychoHTTPError,
    TychoResponseError,
    TychoTimeoutError,
    TychoValidationError,
)

GUID = "e483439d77be44d791466e05d9cc5ecc"
# How late past its deadline a call may end: scheduling, not waiting.
SLACK = 0.6


def elapsed_since(started: float) -> float:
    return time.monotonic() - started


# ------------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize("behaviour", [trickle_body(0.05), trickle_headers(0.05)])
def test_a_trickling_server_ends_in_a_timeout_at_the_deadline(behaviour: Any) -> None:
    # Each read gets a byte well within the 2 s timeout: only a deadline can end this.
    with FaultServer(behaviour) as server, TychoClient(server.url, timeout=2, deadline=1) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError, match="1 s deadline"):
            tycho.status()
    assert 0.9 <= elapsed_since(started) < 1 + SLACK


def test_the_default_deadline_is_connect_plus_read_timeout() -> None:
    with FaultServer(trickle_body(0.05)) as server, TychoClient(server.url, timeout=0.5) as tycho:
        assert tycho.deadline == 1.0
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError):
            tycho.status()
    assert elapsed_since(started) < 1 + SLACK


def test_a_per_call_deadline_overrides_the_clients() -> None:
    with FaultServer(trickle_body(0.05)) as server, TychoClient(server.url, deadline=30) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError, match=r"0\.5 s deadline"):
            tycho.status(deadline=0.5)
    assert elapsed_since(started) < 0.5 + SLACK


@pytest.mark.anyio
@pytest.mark.parametrize("behaviour", [trickle_body(0.05), trickle_headers(0.05)])
async def test_async_a_trickling_server_ends_in_a_timeout_at_the_deadline(behaviour: Any) -> None:
    with FaultServer(behaviour) as server:
        async with AsyncTychoClient(server.url, timeout=2, deadline=1) as tycho:
            started = time.monotonic()
            with pytest.raises(TychoTimeoutError, match="deadline"):
                await tycho.status()
    assert elapsed_since(started) < 1 + SLACK


class _NeverAnswers(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(60)
        raise AssertionError("the deadline should have cancelled this")


@pytest.mark.anyio
async def test_async_deadline_cancels_a_transport_it_did_not_make() -> None:
    async with AsyncTychoClient("http://tycho.test", transport=_NeverAnswers(), deadline=0.5) as t:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError, match=r"0\.5 s deadline"):
            await t.status()
    assert elapsed_since(started) < 0.5 + SLACK


class _SlowStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.05)
            yield b" "


class _SlowBody(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_SlowStream())


def test_sync_body_reading_checks_the_deadline_with_any_transport() -> None:
    with TychoClient("http://tycho.test", transport=_SlowBody(), deadline=0.5) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError, match="deadline"):
            tycho.status()
    assert elapsed_since(started) < 0.5 + SLACK


def test_a_retry_after_beyond_the_deadline_fails_at_once_saying_what_was_asked() -> None:
    with FaultServer(retry_after("99999999")) as server, TychoClient(server.url) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError, match="asked to retry after 99999999 s"):
            tycho.status()
        assert server.requests == 1
    assert elapsed_since(started) < 1


@pytest.mark.anyio
async def test_async_a_retry_after_beyond_the_deadline_fails_at_once() -> None:
    with FaultServer(retry_after("99999999")) as server:
        async with AsyncTychoClient(server.url, deadline=2) as tycho:
            with pytest.raises(TychoTimeoutError, match="retry after 99999999 s"):
                await tycho.status()


def test_a_retry_after_within_the_deadline_is_waited_for() -> None:
    answers = [Reply(503, b"", {"Retry-After": "0.3"}), Reply.recorded("03")]
    with LoopbackServer(*answers) as server, TychoClient(server.url, deadline=5) as tycho:
        started = time.monotonic()
        tycho.status()
    assert 0.3 <= elapsed_since(started) < 2


def test_down_shares_one_deadline_across_its_deletes() -> None:
    guids = [f"{index:032x}" for index in range(5)]
    with FaultServer(trickle_body(0.05)) as server, TychoClient(server.url) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoDownError) as caught:
            tycho.down(guids, deadline=1)
    assert elapsed_since(started) < 1 + SLACK
    assert set(caught.value.failed) == set(guids)
    assert all(isinstance(e, TychoTimeoutError) for e in caught.value.failed.values())


def test_wait_ready_polls_end_with_the_wait() -> None:
    with FaultServer(trickle_body(0.05)) as server, TychoClient(server.url) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoTimeoutError):
            tycho.wait_ready(GUID, deadline=0.8, interval=0.1)
    assert elapsed_since(started) < 0.8 + SLACK


def test_start_past_its_deadline_says_it_may_have_been_carried_out() -> None:
    request = recorded_exchange("01")["request"]["json"]
    with FaultServer(trickle_body(0.05)) as server, TychoClient(server.url, deadline=0.5) as t:
        with pytest.raises(TychoTimeoutError, match="may have carried out the start"):
            t.start(request)
        assert server.requests == 1  # never sent twice


# ---------------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "token", ["s3cr3t-token ", " s3cr3t-token", "s3cr3t\f", "s3cr3t\v", "s3cr3t\0", "s3cr3t-é"]
)
def test_a_token_httpx_cannot_send_is_refused_by_name_before_sending(token: str) -> None:
    with LoopbackServer() as server:
        with pytest.raises(TychoValidationError, match="token") as caught:
            TychoClient(server.url, token=token)
        assert server.requests == []
    assert "s3cr3t" not in str(caught.value)
    assert caught.value.paths == ["token"]


def test_a_header_value_httpx_cannot_send_is_refused_by_name() -> None:
    with pytest.raises(TychoValidationError, match="X-Api-Key") as caught:
        TychoClient("http://127.0.0.1:1", headers={"X-Api-Key": "s3cr3t\n"})
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(TychoValidationError, match="header name"):
        TychoClient("http://127.0.0.1:1", headers={"Bad Name": "x"})


def test_url_credentials_go_in_a_basic_header_and_are_masked_everywhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with LoopbackServer(Reply.recorded("03")) as server:
        url = server.url.replace("http://", "http://alice:PASS%2Fword@")
        with TychoClient(url) as tycho:
            tycho.status()
            assert "PASS" not in repr(tycho)
            assert "alice:***@" in repr(tycho)
        sent = server.requests[0]
    expected = base64.b64encode(b"alice:PASS/word").decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert caplog.records  # httpx's own "HTTP Request: POST ..." line among them
    assert "PASS" not in caplog.text


def test_a_transport_error_masks_the_url_password_keeping_the_user() -> None:
    url = f"http://alice:PASSWORD@127.0.0.1:{closed_port()}"
    with TychoClient(url, max_retries=0) as tycho, pytest.raises(TychoConnectionError) as caught:
        tycho.status()
    assert "PASSWORD" not in str(caught.value)
    assert "http://alice:***@127.0.0.1" in str(caught.value)


def test_a_token_and_url_credentials_together_are_refused() -> None:
    with pytest.raises(TychoValidationError, match="either a token or user:password"):
        TychoClient("http://a:b@127.0.0.1:1", token="t")


def test_repr_of_the_compose_document_masks_env_values() -> None:
    from tycho_client.build import up_request

    compose = {
        "services": {"web": {"image": "nginx", "ports": ["80"], "environment": ["PW=${PW}"]}}
    }
    request = up_request("app", compose, "PW=hunter2-secret\n")
    assert "hunter2-secret" not in repr(request.system)
    assert "hunter2-secret" not in repr(request)
    assert request.system.services["web"].environment == ["PW=hunter2-secret"]  # sent as is


# --------------------------------------------------------------------- control characters


def test_api_error_messages_escape_control_characters_keeping_the_raw_text() -> None:
    text = control_characters()["error"]
    body = json.dumps({"status": "error", "message": "failed", "result": {"error": text}})
    with (
        LoopbackServer(Reply(200, body.encode())) as server,
        TychoClient(server.url) as tycho,
        pytest.raises(TychoAPIError) as caught,
    ):
        tycho.status()
    assert "\x1b" not in str(caught.value)
    assert "\x07" not in str(caught.value)
    assert "\\x1b" in str(caught.value)
    assert caught.value.error == text


@pytest.mark.parametrize("part", ["reason", "title"])
def test_http_error_messages_escape_control_characters(part: str) -> None:
    texts = control_characters()
    reason = texts["reason"] if part == "reason" else "500 Oops"
    body = texts["title"].encode() if part == "title" else b"plain"
    answer = (
        f"HTTP/1.1 {reason}\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1") + body
    with (
        FaultServer(raw_reply(answer)) as server,
        TychoClient(server.url, max_retries=0) as tycho,
        pytest.raises(TychoHTTPError) as caught,
    ):
        tycho.status()
    message = str(caught.value)
    assert "\x1b" not in message
    assert "\x07" not in message
    assert "\\x1b" in message
    if part == "title":
        assert "\x1b" in caught.value.body  # the raw text stays available


def test_response_error_messages_escape_control_characters() -> None:
    body = b'{"status": "success", "result": "\x1b[31m"}'
    with (
        LoopbackServer(Reply(200, body)) as server,
        TychoClient(server.url) as tycho,
        pytest.raises(TychoResponseError) as caught,
    ):
        tycho.status()
    assert "\x1b" not in str(caught.value)


# -------------------------------------------------------------------------------- memory


def test_a_gzip_bomb_is_refused_within_the_limit_of_memory() -> None:
    with FaultServer(gzip_bomb(1 << 30)) as server, TychoClient(server.url) as tycho:
        tracemalloc.start()
        try:
            with pytest.raises(TychoResponseError, match="max_response_bytes"):
                tycho.status()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The limit (64 MiB of decoded body) and a little more; never the 1 GiB it inflates to.
    assert peak < MAX_RESPONSE_BYTES + 16 * 1024 * 1024


def test_a_huge_content_length_is_refused_before_reading() -> None:
    with FaultServer(huge_content_length()) as server, TychoClient(server.url) as tycho:
        started = time.monotonic()
        with pytest.raises(TychoResponseError, match="announces 2147483648 bytes"):
            tycho.status()
    assert elapsed_since(started) < 1


def test_a_body_over_the_limit_without_a_length_is_cut_off() -> None:
    def chunks() -> Iterator[bytes]:
        yield from (b" " * 65536 for _ in range(64))  # 4 MiB, no Content-Length

    class Chunked(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=chunks())

    limit = 1 << 20
    with (
        TychoClient("http://tycho.test", transport=Chunked(), max_response_bytes=limit) as tycho,
        pytest.raises(TychoResponseError, match=f"{limit} bytes allowed"),
    ):
        tycho.status()


def test_a_ten_thousand_system_status_fits_the_default_limit() -> None:
    body = recorded_exchange("03")["response"]["json"]
    body["result"] = body["result"][:1] * 10_000
    payload = json.dumps(body).encode()
    assert len(payload) * 10 < MAX_RESPONSE_BYTES
    with FaultServer(json_reply(payload)) as server, TychoClient(server.url) as tycho:
        assert len(tycho.status().result) == 10_000


@pytest.mark.anyio
async def test_async_a_gzip_bomb_is_refused() -> None:
    with FaultServer(gzip_bomb(256 << 20)) as server:
        async with AsyncTychoClient(server.url, max_response_bytes=1 << 20) as tycho:
            with pytest.raises(TychoResponseError, match="max_response_bytes"):
                await tycho.status()


# ---------------------------------------------------------------------------- typed errors


def test_a_port_of_five_thousand_digits_is_a_compose_error_naming_the_field() -> None:
    from tycho_client.compose import load_compose
    from tycho_client.errors import TychoComposeError

    text = "services:\n  web:\n    image: nginx\n    ports: [" + "9" * 5000 + "]\n"
    with pytest.raises(TychoComposeError) as caught:
        load_compose(text)
    assert caught.value.paths == ["system.services.web.ports[0]"]
    mapping = {"services": {"web": {"image": "nginx", "ports": [10**5000]}}}
    with TychoClient("http://127.0.0.1:1") as tycho, pytest.raises(TychoComposeError) as caught:
        tycho.up("app", mapping)
    assert "system.services.web.ports[0]" in caught.value.paths


@pytest.mark.parametrize("url", ["http://xn--a.com", "http://\u2488.com"])
def test_an_invalid_host_is_a_validation_error(url: str) -> None:
    with pytest.raises(TychoValidationError, match="valid host"):
        TychoClient(url)


def test_deep_json_is_a_response_error() -> None:
    body = b"[" * 100_000
    with LoopbackServer(Reply(200, body), Reply(200, body)) as server, TychoClient(server.url) as t:
        with pytest.raises(TychoResponseError, match="nested too deeply"):
            t.request("status")
        with pytest.raises(TychoResponseError):
            t.status()


# --------------------------------------------------------------------------- strict JSON


def test_a_key_twice_is_an_ambiguous_answer() -> None:
    with FaultServer(duplicate_status()) as server, TychoClient(server.url) as tycho:
        with pytest.raises(TychoResponseError, match="'status' appears twice"):
            tycho.status()
        with pytest.raises(TychoResponseError, match="appears twice"):
            tycho.request("status")


def test_nan_is_not_json() -> None:
    body = b'{"status": "success", "message": "ok", "result": NaN}'
    with (
        LoopbackServer(Reply(200, body)) as server,
        TychoClient(server.url) as tycho,
        pytest.raises(TychoResponseError, match="not JSON"),
    ):
        tycho.request("status")


# ---------------------------------------------------------------------------- small items


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/?x=1", "http://127.0.0.1:5000/#top"])
def test_a_query_string_or_fragment_in_the_url_is_refused(url: str) -> None:
    with pytest.raises(TychoValidationError, match="query string or fragment"):
        TychoClient(url)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_resources_are_refused(value: str) -> None:
    from tycho_client.compose import load_compose, normalize_compose
    from tycho_client.errors import TychoComposeError

    text = (
        "services:\n  web:\n    image: nginx\n    ports: ['80']\n"
        f"    deploy: {{resources: {{limits: {{cpus: {value}}}}}}}\n"
    )
    with pytest.raises(TychoComposeError, match="finite") as caught:
        normalize_compose(load_compose(text))
    assert caught.value.paths == ["system.services.web.deploy.resources.limits.cpus"]


def test_nul_characters_are_refused_with_the_field_named() -> None:
    from tycho_client.compose import load_compose, normalize_compose
    from tycho_client.envfile import parse_env
    from tycho_client.errors import TychoComposeError, TychoEnvError

    text = 'services:\n  web:\n    image: "nginx\\0"\n    ports: ["80"]\n'
    with pytest.raises(TychoComposeError, match="NUL") as compose_error:
        normalize_compose(load_compose(text))
    assert compose_error.value.paths == ["system.services.web.image"]
    with pytest.raises(TychoEnvError, match="value of B contains a NUL") as env_error:
        parse_env("A=1\nB=x\0y\n")
    assert env_error.value.line == 2
    with TychoClient("http://127.0.0.1:1") as tycho, pytest.raises(TychoValidationError):
        tycho.up("app", {"services": {"w": {"image": "x", "ports": ["80"]}}}, {"A": "x\0"})


def test_too_many_services_say_so() -> None:
    from tycho_client.compose import load_compose, normalize_compose
    from tycho_client.errors import TychoComposeError

    # 40,000 services are 160,000 YAML values: once reported as an alias expansion.
    text = "services:\n" + "".join(f"  s{i}: {{image: x}}\n" for i in range(40_000))
    with pytest.raises(TychoComposeError, match="too many services"):
        load_compose(text)
    services = {f"s{i}": {"image": "x"} for i in range(100_000)}
    with pytest.raises(TychoComposeError, match="too many services"):
        normalize_compose({"services": services})


# ------------------------------------------------------------------- async under faults


async def _gather_status(url: str, calls: int, **options: Any) -> tuple[int, list[float]]:
    durations: list[float] = []
    successes = 0

    async with AsyncTychoClient(url, **options) as tycho:

        async def one() -> None:
            nonlocal successes
            started = time.monotonic()
            try:
                await tycho.status()
                successes += 1
            except (TychoConnectionError, TychoTimeoutError, TychoResponseError):
                pass
            durations.append(elapsed_since(started))

        async with anyio.create_task_group() as group:
            for _ in range(calls):
                group.start_soon(one)
    return successes, durations


@pytest.mark.anyio
async def test_a_thousand_calls_against_a_flaky_server_mostly_succeed_within_the_deadline() -> None:
    with FaultServer(reset_every_other()) as server:
        successes, durations = await _gather_status(server.url, 1000, deadline=10)
        # Connections are kept and reused: only the first use of each can be reset.
        assert server.connections <= 30
    assert successes >= 950
    assert max(durations) < 10 + SLACK


@pytest.mark.anyio
async def test_a_thousand_calls_reuse_the_pool() -> None:
    with FaultServer(json_reply()) as server:
        successes, _ = await _gather_status(server.url, 1000, max_concurrency=8)
        assert server.connections <= 8 + 2
    assert successes == 1000


def test_max_concurrency_is_validated_and_shown() -> None:
    with pytest.raises(TychoValidationError, match="max_concurrency"):
        TychoClient("http://127.0.0.1:1", max_concurrency=0)
    with pytest.raises(TychoValidationError, match="max_response_bytes"):
        TychoClient("http://127.0.0.1:1", max_response_bytes=0)
    with pytest.raises(TychoValidationError, match="deadline"):
        TychoClient("http://127.0.0.1:1", deadline=float("inf"))
    tycho = TychoClient("http://127.0.0.1:1", max_concurrency=3, deadline=7)
    assert (tycho.max_concurrency, tycho.deadline) == (3, 7)
    assert tycho.with_options(max_retries=0).deadline == 7


def test_threads_share_the_pool_without_more_connections_than_it_holds() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with (
        FaultServer(json_reply()) as server,
        TychoClient(server.url, max_concurrency=4) as tycho,
        ThreadPoolExecutor(32) as threads,
    ):
        answers = list(threads.map(lambda _: tycho.status(), range(200)))
        assert server.connections <= 4
    assert len(answers) == 200


@pytest.mark.parametrize("second_key", ['"status"', '"st\\u0061tus"'])
def test_a_key_twice_is_found_in_a_large_answer_too(second_key: str) -> None:
    # Over 16 KiB only the envelope is checked, as text: a repeat, even one spelled with
    # escapes, sends it to the exact check.
    result = json.dumps(recorded_exchange("03")["response"]["json"]["result"][:1] * 2_000)
    body = f'{{"status": "error", "message": "x", "result": {result}, {second_key}: "success"}}'
    assert len(body) > 256 * 1024
    with (
        LoopbackServer(Reply(200, body.encode())) as server,
        TychoClient(server.url) as tycho,
        pytest.raises(TychoResponseError, match="appears twice"),
    ):
        tycho.status()


class _CountsInFlight(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        await anyio.sleep(0.001)
        self.now -= 1
        return httpx.Response(200, content=recorded_exchange("03")["response"]["text"].encode())


@pytest.mark.anyio
async def test_requests_in_flight_are_bounded_by_max_concurrency() -> None:
    # httpcore's pool does work for every queued request whenever a connection frees up: the
    # client keeps that queue no longer than the pool.
    transport = _CountsInFlight()
    async with AsyncTychoClient("http://tycho.test", transport=transport, max_concurrency=5) as t:
        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(t.status)
        copy = t.with_options(max_retries=0)  # a copy shares the bound
        async with anyio.create_task_group() as group:
            for client in (t, copy) * 50:
                group.start_soon(client.status)
    assert transport.most == 5
