"""Client options in your tests, and retries that do not wait.

    pip install 'tycho-client[testing]' pytest anyio
    python -m pytest examples/test_client_options.py

The fixtures' clients retry what real clients retry, as often, but without waiting in between
(their retry policy is ``tycho_client.testing.NO_BACKOFF``): a test of how your code copes with a
flaky Tycho takes milliseconds instead of the seconds of a real backoff, or of a ``Retry-After``.

Options reach the clients in two ways:

- ``@pytest.mark.tycho_client(max_retries=0, ...)``: for every client the fixtures make in the
  test (put it on a class, or in ``pytestmark`` for a module);
- the ``make_tycho_client`` fixture (``make_async_tycho_client`` for async code): a new client on
  the test's fake with the options you give it, typed as ``TychoClient``'s keywords, so a type
  checker flags a misspelt option. Its clients are closed when the test ends.
"""

from __future__ import annotations

import pytest
from service import NotebookService  # examples/service.py, the code under test

from tycho_client import RetryPolicy, TychoClient, TychoServerError, TychoTimeoutError
from tycho_client.testing import FakeTycho, MakeAsyncTychoClient, MakeTychoClient


def test_the_service_rides_out_a_flaky_tycho(
    tycho_client: TychoClient, tycho_fake: FakeTycho
) -> None:
    # Two "come back in 10 seconds": the client retries at once, twice (the default allows 2).
    tycho_fake.fail_next(2, status=503, headers={"Retry-After": "10"})
    assert NotebookService(tycho_client).running() == []
    assert [r.status_code for r in tycho_fake.requests] == [503, 503, 200]


@pytest.mark.tycho_client(max_retries=0)
def test_without_retries_the_first_failure_reaches_the_caller(
    tycho_client: TychoClient, tycho_fake: FakeTycho
) -> None:
    tycho_fake.fail_next(1, status=503)
    with pytest.raises(TychoServerError):
        NotebookService(tycho_client).running()


def test_each_client_with_its_own_options(
    make_tycho_client: MakeTychoClient, tycho_fake: FakeTycho
) -> None:
    patient = NotebookService(make_tycho_client(max_retries=5))
    impatient = NotebookService(make_tycho_client(max_retries=0))
    tycho_fake.fail_next(4, status=503)
    with pytest.raises(TychoServerError):
        impatient.running()  # the first failure
    assert patient.running() == []  # the other three, then an answer


def test_a_real_backoff_when_waiting_is_what_you_test(
    make_tycho_client: MakeTychoClient, tycho_fake: FakeTycho
) -> None:
    # A server that asks for more time than the call has left fails it at once, without waiting.
    client = make_tycho_client(retry_policy=RetryPolicy(), deadline=1)
    tycho_fake.fail_next(1, status=503, headers={"Retry-After": "30"})
    with pytest.raises(TychoTimeoutError, match="asked to retry after 30 s"):
        client.status()


@pytest.mark.anyio
async def test_async_code(
    make_async_tycho_client: MakeAsyncTychoClient, tycho_fake: FakeTycho
) -> None:
    client = make_async_tycho_client(deadline=5, username="alice")
    tycho_fake.fail_next(1, status=502)
    compose = {"services": {"nb": {"image": "jupyter/base-notebook", "ports": ["8888"]}}}
    with pytest.raises(TychoServerError):
        await client.up("notebook", compose)  # a start is not retried after an answer
    started = await client.up("notebook", compose)
    assert tycho_fake.systems[started.result.sid].username == "alice"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
