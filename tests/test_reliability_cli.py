"""``tycho --timeout`` bounds a whole command, and hostile answers end in the documented exit codes.

The installed console script in a subprocess against tests/faults.py servers.
"""

from __future__ import annotations

import time

from faults import FaultServer, duplicate_status, gzip_bomb, retry_after, trickle_body
from test_cli import one_error_line, tycho

EXIT_SERVER_ERROR = 1
EXIT_NO_SERVER = 3
# Starting Python and importing httpx and pydantic, on a busy machine.
STARTUP = 2.0


def test_timeout_bounds_a_trickling_status_as_a_whole() -> None:
    with FaultServer(trickle_body(0.05)) as server:
        started = time.monotonic()
        done = tycho("status", "--url", server.url, "--timeout", "1", check=EXIT_NO_SERVER)
    assert time.monotonic() - started < 1 + STARTUP
    assert "deadline" in one_error_line(done.stderr)


def test_timeout_bounds_down_with_a_huge_retry_after() -> None:
    guids = [f"{index:032x}" for index in range(3)]
    with FaultServer(retry_after("99999999")) as server:
        started = time.monotonic()
        done = tycho("down", *guids, "--url", server.url, "--timeout", "2", check=EXIT_NO_SERVER)
    assert time.monotonic() - started < 2 + STARTUP
    assert "99999999" in done.stderr


def test_a_gzip_bomb_is_a_server_error_not_a_crash() -> None:
    with FaultServer(gzip_bomb(1 << 30)) as server:
        done = tycho("status", "--url", server.url, check=EXIT_SERVER_ERROR)
    assert "max_response_bytes" in one_error_line(done.stderr)


def test_an_ambiguous_answer_is_a_server_error() -> None:
    with FaultServer(duplicate_status()) as server:
        done = tycho("status", "--url", server.url, check=EXIT_SERVER_ERROR)
    assert "appears twice" in one_error_line(done.stderr)


def test_a_token_with_a_trailing_space_is_a_usage_error_that_hides_it() -> None:
    with FaultServer(duplicate_status()) as server:
        done = tycho("status", "--url", server.url, "--token", "s3cr3t-value ", check=2)
        assert server.requests == 0
    line = one_error_line(done.stderr)
    assert "token" in line
    assert "s3cr3t" not in line


def test_a_url_password_never_reaches_the_terminal() -> None:
    from loopback import closed_port

    url = f"http://ops:s3cr3t-PASS@127.0.0.1:{closed_port()}"
    for debug in ([], ["--debug"]):
        done = tycho("status", "--url", url, *debug, check=EXIT_NO_SERVER)
        assert "s3cr3t-PASS" not in done.stdout + done.stderr
        assert "ops:***@127.0.0.1" in done.stderr
