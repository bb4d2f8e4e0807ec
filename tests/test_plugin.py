"""The pytest plugin as a user meets it: loaded by entry point, fixtures usable in three lines."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

COMPOSE = '{"services": {"web": {"image": "nginx:1.25", "ports": ["8080:80"]}}}'


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    # No -p: the plugin must arrive through its entry point, as in a user's project.
    return pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", *args)


def test_the_plugin_is_registered_as_an_entry_point() -> None:
    plugins = {e.name: e.value for e in importlib.metadata.entry_points(group="pytest11")}
    assert plugins["tycho_client"] == "tycho_client.testing.plugin"


def test_a_users_three_line_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
def test_my_app_starts_a_system(tycho_client, tycho_fake):
    started = tycho_client.up("my app", {COMPOSE})
    assert tycho_fake.systems[started.result.sid].app_id == "my-app"

def test_a_wrong_expectation_fails(tycho_client, tycho_fake):
    started = tycho_client.up("my app", {COMPOSE})
    assert tycho_fake.systems[started.result.sid].app_id == "someone-else"
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: assert 'my-app' == 'someone-else'*"])


def test_each_test_gets_a_fresh_fake(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
import pytest

@pytest.mark.parametrize("round", [1, 2])
def test_starts_one(tycho_client, tycho_fake, round):
    assert tycho_fake.systems == {{}}
    tycho_client.up("app", {COMPOSE})
    assert len(tycho_client.list()) == 1
""",
    )
    result.assert_outcomes(passed=2)


def test_async_client_in_anyio_tests(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
import pytest

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_async(async_tycho_client, tycho_fake):
    started = await async_tycho_client.up("async app", {COMPOSE})
    listed = await async_tycho_client.list(terse=True)
    assert listed == [started.result.sid] == list(tycho_fake.systems)
""",
    )
    result.assert_outcomes(passed=2)  # on asyncio and on trio


def test_marker_options_configure_the_fake(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
import pytest
from tycho_client.errors import TychoNotFoundError

@pytest.mark.tycho_fake(modify_supported=True, ready_after=1)
def test_options(tycho_client, tycho_fake):
    sid = tycho_client.up("app", {COMPOSE}).result.sid
    assert [s.is_ready for s in tycho_client.list()] == [False]
    assert [s.is_ready for s in tycho_client.list()] == [True]
    tycho_client.modify({{"tycho-guid": sid, "labels": {{"a": "b"}}}})

def test_defaults(tycho_client):
    # As tycho-api 1.17.3: ready at once, and no modify route.
    sid = tycho_client.up("app", {COMPOSE}).result.sid
    assert [s.is_ready for s in tycho_client.list()] == [True]
    with pytest.raises(TychoNotFoundError):
        tycho_client.modify({{"tycho-guid": sid, "labels": {{"a": "b"}}}})
""",
    )
    result.assert_outcomes(passed=2)


def test_server_url_fixture_serves_the_same_fake(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
from tycho_client.client import TychoClient

def test_over_http(tycho_server_url, tycho_fake):
    assert tycho_server_url.startswith("http://127.0.0.1:")
    with TychoClient(tycho_server_url, timeout=5) as client:
        sid = client.up("app", {COMPOSE}).result.sid
    assert list(tycho_fake.systems) == [sid]
""",
    )
    result.assert_outcomes(passed=1)


def test_fault_injection_from_a_users_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from tycho_client.errors import TychoAPIError

def test_server_failure_is_reported(tycho_client, tycho_fake):
    tycho_fake.fail_next(status=200, body="quota exceeded")
    with pytest.raises(TychoAPIError) as failure:
        tycho_client.status()
    assert failure.value.error == "quota exceeded"
""",
    )
    result.assert_outcomes(passed=1)


# -------------------------------------------------- client options: the factories and the marker


def test_make_tycho_client_passes_its_options_to_the_client(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from tycho_client.errors import TychoServerError

def test_no_retries_makes_one_request(make_tycho_client, tycho_fake):
    client = make_tycho_client(max_retries=0)
    tycho_fake.fail_next(1, status=503)
    with pytest.raises(TychoServerError):
        client.status()
    assert [r.status_code for r in tycho_fake.requests] == [503]

def test_the_default_retries_on_the_same_fake(make_tycho_client, tycho_fake):
    client = make_tycho_client()
    tycho_fake.fail_next(1, status=503)
    assert client.status().result == []
    assert [r.status_code for r in tycho_fake.requests] == [503, 200]

def test_a_bad_option_is_the_clients_own_error(make_tycho_client):
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_retry'"):
        make_tycho_client(max_retry=0)
""",
    )
    result.assert_outcomes(passed=3)


def test_the_marker_gives_options_to_every_client_of_the_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from tycho_client.errors import TychoServerError

@pytest.mark.tycho_client(max_retries=0)
def test_the_fixture(tycho_client, tycho_fake):
    tycho_fake.fail_next(1, status=503)
    with pytest.raises(TychoServerError):
        tycho_client.status()
    assert len(tycho_fake.requests) == 1

@pytest.mark.tycho_client(max_retries=0)
def test_the_factory_overrides_it(make_tycho_client, tycho_fake):
    assert repr(make_tycho_client()).endswith("max_retries=0)")
    tycho_fake.fail_next(1, status=503)
    assert make_tycho_client(max_retries=1).status().result == []
    assert len(tycho_fake.requests) == 2

@pytest.mark.tycho_client(max_retries=0)
class TestOnAClass:
    @pytest.mark.anyio
    async def test_the_async_fixture(self, async_tycho_client, tycho_fake):
        tycho_fake.fail_next(1, status=503)
        with pytest.raises(TychoServerError):
            await async_tycho_client.status()
        assert len(tycho_fake.requests) == 1

@pytest.fixture
def anyio_backend():
    return "asyncio"
""",
    )
    result.assert_outcomes(passed=3)


def test_a_misspelt_marker_option_fails_the_setup_naming_the_marker(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.tycho_client(max_retry=0)
def test_misspelt(make_tycho_client):
    pass

@pytest.mark.tycho_client(0)
def test_positional(tycho_client):
    pass
""",
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.tycho_client got an unexpected keyword argument 'max_retry'",
            "*@pytest.mark.tycho_client takes client options as keywords only",
        ]
    )


def test_make_async_tycho_client_on_asyncio_and_trio(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest
from tycho_client.errors import TychoServerError

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_options(make_async_tycho_client, tycho_fake):
    once = make_async_tycho_client(max_retries=0)
    tycho_fake.fail_next(1, status=503)
    with pytest.raises(TychoServerError):
        await once.status()
    assert await make_async_tycho_client(deadline=5).list() == []
    assert [r.status_code for r in tycho_fake.requests] == [503, 200]
""",
    )
    result.assert_outcomes(passed=2)


def test_the_fixtures_close_their_clients_when_the_test_ends(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

made = []

@pytest.mark.anyio
async def test_makes_clients(
    make_tycho_client, make_async_tycho_client, tycho_client, async_tycho_client
):
    made.extend([make_tycho_client(), make_tycho_client(max_retries=0), tycho_client])
    made.extend([make_async_tycho_client(), async_tycho_client])
    await made[-1].status()
    assert not any(client.http_client.is_closed for client in made)

def test_they_are_closed_after_it():  # runs next: the file's order
    assert len(made) == 5
    assert all(client.http_client.is_closed for client in made)

@pytest.fixture
def anyio_backend():
    return "asyncio"
""",
    )
    result.assert_outcomes(passed=2)


# ------------------------------------------------------------------------------- fast retries

# The client's real backoff before its 2nd and 3rd attempts: 0.25-0.5 s, then 0.5-1 s.
REAL_BACKOFF_AT_LEAST = 0.75


def test_the_fixtures_clients_retry_without_waiting(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
import time
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"

def test_sync(tycho_client, tycho_fake):
    tycho_fake.fail_next(2, status=503)
    started = time.perf_counter()
    assert tycho_client.status().result == []
    took = time.perf_counter() - started
    assert [r.status_code for r in tycho_fake.requests] == [503, 503, 200]
    assert took < {REAL_BACKOFF_AT_LEAST / 3}, took

@pytest.mark.anyio
async def test_async(make_async_tycho_client, tycho_fake):
    tycho_fake.fail_next(2, status=503)
    started = time.perf_counter()
    assert await make_async_tycho_client().status() == await make_async_tycho_client().status()
    took = time.perf_counter() - started
    assert [r.status_code for r in tycho_fake.requests] == [503, 503, 200, 200]
    assert took < {REAL_BACKOFF_AT_LEAST / 3}, took
""",
    )
    result.assert_outcomes(passed=2)


def test_a_retry_after_is_not_waited_out_unless_asked(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import time
import pytest
from tycho_client import RetryPolicy
from tycho_client.testing import NO_BACKOFF

def timed_status(client, fake, retry_after):
    fake.fail_next(2, status=503, headers={"Retry-After": retry_after})
    started = time.perf_counter()
    client.status()
    return time.perf_counter() - started

def test_not_waited_out(tycho_client, tycho_fake):
    # The real policy would wait 10 s twice (within the 35 s deadline).
    assert timed_status(tycho_client, tycho_fake, "10") < 0.25
    assert [r.status_code for r in tycho_fake.requests] == [503, 503, 200]

def test_waited_out_with_the_real_policy(make_tycho_client, tycho_fake):
    client = make_tycho_client(retry_policy=RetryPolicy())
    assert timed_status(client, tycho_fake, "0.1") >= 0.2

@pytest.mark.tycho_client(retry_policy=RetryPolicy())
def test_the_marker_restores_it_too(tycho_client, tycho_fake, make_tycho_client):
    assert timed_status(tycho_client, tycho_fake, "0.1") >= 0.2
    assert timed_status(make_tycho_client(retry_policy=NO_BACKOFF), tycho_fake, "10") < 0.25
""",
    )
    result.assert_outcomes(passed=3)


def test_no_backoff_is_public_and_waits_nothing() -> None:
    import httpx

    from tycho_client import RetryPolicy
    from tycho_client.testing import NO_BACKOFF

    assert isinstance(NO_BACKOFF, RetryPolicy)
    asks = httpx.Response(503, headers={"Retry-After": "30"})
    waits = [NO_BACKOFF.backoff(attempt) for attempt in range(5)]
    assert [*waits, NO_BACKOFF.backoff(0, asks)] == [0.0] * 6
