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
