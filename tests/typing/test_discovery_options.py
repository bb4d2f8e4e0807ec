"""Static proof, checked by ``mypy --strict tests/typing``, that discovery's client options are
typed: the same names and types as the client constructor, so a misspelled or mistyped option
is an error. ``--strict`` warns about unused ``type: ignore`` comments, so each ignore below
fails the check if the line it is on stops being an error.

Nothing here runs under pytest (no ``test_`` functions).
"""

from __future__ import annotations

import httpx
from typing_extensions import assert_type

from tycho_client._config import AsyncClientKwargs, ClientKwargs
from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient
from tycho_client.discovery import TychoClientFactory


def check_sync(factory: TychoClientFactory) -> None:
    assert_type(factory.get_client(timeout=5, token="x", max_retries=2), TychoClient)
    assert_type(
        factory.get_client(
            "tycho",
            "apps",
            timeout=httpx.Timeout(10.0),
            headers={"X-Team": "a"},
            verify="/etc/ssl/ca.pem",
            username="ann",
            transport=httpx.HTTPTransport(),
            retry_policy=None,
        ),
        TychoClient,
    )
    assert_type(factory.get_url(timeout=3.0), str)

    factory.get_client(timout=5)  # type: ignore[call-arg]
    factory.get_client(tokn="x")  # type: ignore[call-arg]
    factory.get_client(timeout="5")  # type: ignore[arg-type]
    factory.get_client(max_retries=1.5)  # type: ignore[arg-type]
    # The sync client takes a sync transport only.
    factory.get_client(transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]


async def check_async(factory: TychoClientFactory) -> None:
    client = await factory.get_async_client(timeout=5, token="x")
    assert_type(client, AsyncTychoClient)
    assert_type(await factory.get_url_async("tycho", timeout=2), str)
    await factory.get_async_client(http_client=httpx.AsyncClient())

    await factory.get_async_client(timout=5)  # type: ignore[call-arg]
    await factory.get_async_client(http_client=httpx.Client())  # type: ignore[arg-type]


def check_typed_dicts() -> None:
    options: ClientKwargs = {"timeout": 1.0, "token": "t"}
    bad: ClientKwargs = {"tokn": "t"}  # type: ignore[typeddict-unknown-key]
    async_options: AsyncClientKwargs = {"transport": httpx.AsyncHTTPTransport()}
    del options, bad, async_options
