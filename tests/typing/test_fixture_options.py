"""Static proof, checked by ``mypy --strict tests/typing``, that the plugin's client factories
take the client constructors' options with their types: a misspelt or mistyped option is an error.
``--strict`` warns about unused ``type: ignore`` comments, so each ignore below fails the check
if the line it is on stops being an error.

Nothing here runs under pytest (no ``test_`` functions).
"""

from __future__ import annotations

import httpx
from typing_extensions import assert_type

from tycho_client import RetryPolicy
from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient
from tycho_client.testing import NO_BACKOFF, MakeAsyncTychoClient, MakeTychoClient


def check_sync(make: MakeTychoClient) -> None:
    assert_type(make(), TychoClient)
    assert_type(make(max_retries=0, deadline=2, retry_policy=RetryPolicy()), TychoClient)
    assert_type(
        make(timeout=httpx.Timeout(1.0), token="t", transport=httpx.HTTPTransport()),
        TychoClient,
    )
    assert_type(NO_BACKOFF, RetryPolicy)

    make(max_retry=0)  # type: ignore[call-arg]
    make(deadline="2")  # type: ignore[arg-type]
    # The sync client takes a sync transport only.
    make(transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]


def check_async(make: MakeAsyncTychoClient) -> None:
    assert_type(make(max_retries=0, username="ann"), AsyncTychoClient)

    make(max_retries=1.5)  # type: ignore[arg-type]
    make(http_client=httpx.Client())  # type: ignore[arg-type]
