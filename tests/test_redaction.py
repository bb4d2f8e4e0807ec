"""Secrets (.env values, tokens) never reach logs, reprs or error messages.

Each test first proves the secret really travelled (the loopback server received it), so its
absence everywhere else means something.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loopback import LoopbackServer, Reply

from tycho_client.aio import AsyncTychoClient
from tycho_client.build import up_request
from tycho_client.client import TychoClient
from tycho_client.errors import TychoError, TychoValidationError
from tycho_client.models import StartRequest

CANARY = "canary-7f3a9c-s3cr3t"
TOKEN = "tok-9d8e7f-s3cr3t"
SYSTEM = {"services": {"web": {"image": "nginx", "ports": ["8080:80"]}}}
ENV_TEXT = f"PLAIN=visible\nAPI_KEY={CANARY}\nQUOTED='{CANARY}'\n"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG (ours, httpx's, httpcore's)."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def assert_clean(text: str) -> None:
    assert CANARY not in text
    assert TOKEN not in text


def error_texts(error: BaseException) -> str:
    parts = [str(error), repr(error)]
    if isinstance(error, TychoValidationError):
        parts += [repr(item) for item in error.errors]
    return "\n".join(parts)


def failing_calls() -> list[tuple[Reply, Callable[[TychoClient], Any]]]:
    """Calls that send the canary and fail in each way the server can make them fail."""
    start = {"name": "web", "system": SYSTEM, "env": ENV_TEXT}
    slow = dataclasses.replace(Reply.recorded("22"), delay=1.0)
    return [
        (Reply.recorded("20-start-env-int-value"), lambda t: t.start(start)),
        (Reply.recorded("21-start-with-clients"), lambda t: t.up("web", SYSTEM, ENV_TEXT)),
        (Reply.recorded("10-start-invalid-json"), lambda t: t.start(start)),
        (Reply.text("<html>bad gateway</html>", 200, "text/html"), lambda t: t.start(start)),
        (Reply.json({"status": "success"}), lambda t: t.start(start)),
        (Reply(429, b"", {"Retry-After": "1"}), lambda t: t.start(start)),
        (slow, lambda t: t.start(start, timeout=0.2)),
    ]


@pytest.mark.parametrize(("reply", "call"), failing_calls())
def test_server_side_failures_never_echo_the_canary(
    loopback: LoopbackServer,
    debug_logs: pytest.LogCaptureFixture,
    reply: Reply,
    call: Callable[[TychoClient], Any],
) -> None:
    loopback.add(reply)
    with TychoClient(loopback.url, token=TOKEN, username="renci") as tycho:
        with pytest.raises(TychoError) as caught:
            call(tycho)
        assert_clean(repr(tycho))
    assert CANARY.encode() in loopback.requests[0].body  # it was sent ...
    assert loopback.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert_clean(error_texts(caught.value))  # ... and is nowhere else
    assert_clean(debug_logs.text)
    ours = [r.message for r in debug_logs.records if r.name == "tycho_client"]
    assert any("/system/start" in message for message in ours)


@pytest.mark.parametrize(
    "env",
    [
        f"API_KEY={CANARY}\nbroken line without equals",
        f"API_KEY={CANARY}\nQUOTED='{CANARY}",
        f"{CANARY}",
        {"API_KEY": [CANARY]},
        {"API_KEY": {"nested": CANARY}},
    ],
)
def test_validation_errors_never_echo_env_values(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture, env: Any
) -> None:
    with TychoClient(loopback.url, username="renci") as tycho:
        with pytest.raises(TychoValidationError) as caught:
            tycho.start({"name": "web", "system": SYSTEM, "env": env})
        with pytest.raises(TychoValidationError) as caught_up:
            tycho.up("web", SYSTEM, env)
    assert loopback.requests == []
    assert "env" in caught.value.message
    for error in (caught.value, caught_up.value):
        assert_clean(error_texts(error))
        # Nor in the traceback, with whatever exception it chains.
        assert_clean("".join(traceback.format_exception(error)))
    assert_clean(debug_logs.text)


def test_compose_environment_values_are_not_echoed(loopback: LoopbackServer) -> None:
    system = {
        "services": {
            "web": {
                "image": "nginx",
                "ports": ["80"],
                "environment": [f'TOKEN="{CANARY}"', f"PAIR={CANARY}=x"],
            }
        }
    }
    with (
        TychoClient(loopback.url, username="renci") as tycho,
        pytest.raises(TychoValidationError) as caught,
    ):
        tycho.start({"name": "web", "system": system})
    assert len(caught.value.errors) == 2
    assert_clean(error_texts(caught.value))


def test_repr_of_a_start_request_hides_env_values() -> None:
    request = StartRequest.model_validate(
        {"name": "web", "system": SYSTEM, "env": ENV_TEXT, "principal": '{"username": "a"}'}
    )
    assert request.env is not None
    assert request.env["API_KEY"] == CANARY
    assert_clean(repr(request))
    assert_clean(str(request))
    assert "API_KEY" in repr(request)
    assert_clean(str(request.redacted()))


def test_env_values_interpolated_into_the_compose_document_are_masked(
    loopback: LoopbackServer,
) -> None:
    system = {
        "services": {
            "web": {"image": "nginx", "ports": ["${PORT}"], "environment": ["KEY=${API_KEY}"]}
        }
    }
    request = up_request("web", system, ENV_TEXT + "PORT=80\n", username="renci")
    assert request.system.services["web"].environment == [f"KEY={CANARY}"]  # interpolated ...
    assert_clean(repr(request))  # ... but not shown
    assert_clean(str(request.redacted()))
    assert "KEY=***" in repr(request)
    assert request.redacted()["system"]["services"]["web"]["ports"] == ["80"]  # short: kept


def test_successful_calls_log_method_path_status_and_duration_only(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    loopback.add(Reply.recorded("22"), Reply.recorded("03"))
    with TychoClient(loopback.url, token=TOKEN, username="renci") as tycho:
        tycho.up("web", SYSTEM, ENV_TEXT)
        tycho.status()
    ours = [r for r in debug_logs.records if r.name == "tycho_client"]
    assert [r.levelno for r in ours] == [logging.DEBUG, logging.DEBUG]
    assert "POST" in ours[0].message
    assert "/system/start -> 200 in" in ours[0].message
    assert ours[0].message.endswith(" ms")
    assert "/system/status -> 200" in ours[1].message
    assert_clean(debug_logs.text)
    assert "visible" not in debug_logs.text  # no body at all, not even plain values


def test_a_password_in_the_url_is_masked(loopback: LoopbackServer) -> None:
    url = loopback.url.replace("http://", f"http://user:{TOKEN}@")
    with TychoClient(url, max_retries=0) as tycho:
        assert_clean(repr(tycho))
        loopback.add(Reply.recorded("10"))
        with pytest.raises(TychoError) as caught:
            tycho.status()
    assert "***" in repr(tycho)
    assert_clean(error_texts(caught.value))


@pytest.mark.anyio
async def test_async_face_is_as_discreet(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    loopback.add(Reply.recorded("20"))
    async with AsyncTychoClient(loopback.url, token=TOKEN, username="renci") as tycho:
        assert_clean(repr(tycho))
        with pytest.raises(TychoError) as caught:
            await tycho.up("web", SYSTEM, ENV_TEXT)
    assert CANARY.encode() in loopback.requests[0].body
    assert_clean(error_texts(caught.value))
    assert_clean(debug_logs.text)
