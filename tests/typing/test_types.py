"""Static proof, checked by ``mypy --strict tests/typing``, that results have precise types.

Nothing here runs under pytest (no ``test_`` functions): ``assert_type`` fails type checking if a
type is wider (``Any`` included), and ``reveal_type`` shows it in mypy's output.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type, reveal_type

from tycho_client import RawResponse
from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient
from tycho_client.models import (
    ContainerEndpoint,
    DeleteResponse,
    ModifyResponse,
    StartResponse,
    StatusResponse,
    SystemStatus,
)

SYSTEM: dict[str, Any] = {"services": {"web": {"image": "nginx", "ports": ["80"]}}}
START: dict[str, Any] = {"name": "web", "system": SYSTEM}


def check_sync(client: TychoClient) -> None:
    reveal_type(client.status().result[0].sid)
    assert_type(client.status().result[0].sid, str | None)
    assert_type(client.status(), StatusResponse)
    assert_type(client.status().result[0].is_ready, bool | None)  # None: not reported

    reveal_type(client.start(START).result.containers)
    assert_type(client.start(START).result.containers, dict[str, ContainerEndpoint])
    assert_type(client.start(START).result.containers["web"].port_1, int | None)
    assert_type(client.start(START).result.sid, str)
    assert_type(client.up("web", SYSTEM, "A=1"), StartResponse)

    assert_type(client.delete({"name": "x"}), DeleteResponse)
    assert_type(client.modify({"tycho-guid": "x"}), ModifyResponse)
    assert_type(client.request("status", {}), dict[str, Any])
    assert_type(client.down(["x"]), list[str])
    assert_type(client.wait_ready("x"), list[SystemStatus])

    assert_type(client.list(), list[SystemStatus])
    assert_type(client.list("x"), list[SystemStatus])
    assert_type(client.list(terse=True), list[str])
    assert_type(client.list("x", True), list[str])
    assert_type(client.list(terse=False), list[SystemStatus])
    flag: bool = bool(START)
    assert_type(client.list(terse=flag), list[SystemStatus] | list[str])

    # A precise type is not Any: using it wrongly is an error (the ignore would be unused).
    wrong: int = client.status().result[0].sid  # type: ignore[assignment]
    del wrong


async def check_async(client: AsyncTychoClient) -> None:
    status = await client.status()
    reveal_type(status.result[0].sid)
    assert_type(status.result[0].sid, str | None)

    started = await client.start(START)
    reveal_type(started.result.containers)
    assert_type(started.result.containers, dict[str, ContainerEndpoint])
    assert_type(await client.up("web", SYSTEM), StartResponse)

    assert_type(await client.delete({"name": "x"}), DeleteResponse)
    assert_type(await client.modify({"tycho-guid": "x"}), ModifyResponse)
    assert_type(await client.down(["x"]), list[str])
    assert_type(await client.wait_ready("x"), list[SystemStatus])
    assert_type(await client.list(), list[SystemStatus])
    assert_type(await client.list(terse=True), list[str])

    wrong: int = (await client.status()).result[0].sid  # type: ignore[assignment]
    del wrong


def check_raw_responses(client: TychoClient, aclient: AsyncTychoClient) -> None:
    assert_type(client.with_raw_response.status(), RawResponse[StatusResponse])
    assert_type(client.with_raw_response.status().parse(), StatusResponse)
    assert_type(client.with_raw_response.up("web", SYSTEM).parse(), StartResponse)
    assert_type(client.status(extra_headers={"X-Id": "1"}), StatusResponse)


async def check_async_raw_responses(aclient: AsyncTychoClient) -> None:
    raw = await aclient.with_raw_response.delete({"name": "x"})
    assert_type(raw, RawResponse[DeleteResponse])
    assert_type(raw.parse(), DeleteResponse)
