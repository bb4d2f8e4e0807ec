"""Testing your own code against the fake Tycho with the pytest plugin's fixtures.

    pip install 'tycho-client[testing]' pytest anyio
    python -m pytest examples/test_service.py

The plugin is registered by the package (entry point ``pytest11``): no conftest, no import.
Each test gets a fresh fake; ``tycho_fake.requests`` and ``tycho_fake.systems`` show what your
code sent, and every request is checked against the OpenAPI document.
"""

from __future__ import annotations

import secrets

import pytest
from service import NotebookService  # examples/service.py, the code under test

from tycho_client import AsyncTychoClient, TychoAPIError, TychoClient
from tycho_client.testing import FakeTycho


def test_launch_starts_one_valid_system(
    tycho_client: TychoClient, tycho_fake: FakeTycho, notebook_token: str
) -> None:
    notebook = NotebookService(tycho_client).launch("alice", token=notebook_token)

    system = tycho_fake.systems[notebook.guid]
    assert system.name == f"notebook-alice-{notebook.guid}"
    assert [r.operation for r in tycho_fake.requests] == ["start"]
    assert tycho_fake.requests[0].problems == ()  # the document accepts what the code sent


@pytest.mark.tycho_fake(ready_after=2)  # not ready on the first status poll
def test_wait_polls_until_ready(
    tycho_client: TychoClient, tycho_fake: FakeTycho, notebook_token: str
) -> None:
    service = NotebookService(tycho_client)
    notebook = service.launch("bob", token=notebook_token)
    ready = service.wait(notebook, timeout=10)
    assert all(status.is_ready for status in ready)
    assert [r.operation for r in tycho_fake.requests].count("status") >= 2


def test_stop_removes_the_system(
    tycho_client: TychoClient, tycho_fake: FakeTycho, notebook_token: str
) -> None:
    service = NotebookService(tycho_client)
    notebook = service.launch("carol", token=notebook_token)
    assert service.running() == [notebook.guid]
    service.stop(notebook)
    assert service.running() == []
    assert tycho_fake.systems == {}


def test_a_server_refusal_reaches_the_caller(
    tycho_client: TychoClient, tycho_fake: FakeTycho, notebook_token: str
) -> None:
    tycho_fake.fail_next(1, status=200, body="simulated refusal")  # how real Tycho fails
    with pytest.raises(TychoAPIError, match="simulated refusal"):
        NotebookService(tycho_client).launch("dave", token=notebook_token)


@pytest.mark.anyio
async def test_the_async_client(async_tycho_client: AsyncTychoClient) -> None:
    compose = {"services": {"nb": {"image": "jupyter/base-notebook", "ports": ["8888"]}}}
    started = await async_tycho_client.up("notebook", compose)
    assert await async_tycho_client.list(terse=True) == [started.result.sid]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def notebook_token() -> str:
    return secrets.token_hex(8)


def test_code_that_takes_a_url(tycho_server_url: str, tycho_fake: FakeTycho) -> None:
    # tycho_server_url serves the same fake over HTTP on 127.0.0.1, for code that takes a URL.
    with TychoClient(tycho_server_url) as tycho:
        service = NotebookService(tycho)
        notebook = service.launch("erin", token=secrets.token_hex(8))
        assert service.running() == [notebook.guid]
    assert tycho_fake.systems[notebook.guid].app_id == "notebook-erin"
