"""``tycho mock``: serves until signalled, logs one line per request (never bodies) and one per
client that breaks off or sends garbage (never a traceback; nothing with -q), and has the fake's
knobs: --ready-after, --latency, --modify/--no-modify, --fail-next/--fail-status."""

from __future__ import annotations

import re
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from test_cli_support import CANARY, TIMEOUT, TYCHO, Lines, base_env, one_error_line, tycho

from tycho_client.client import TychoClient

LOG_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms")


@dataclass
class Mock:
    url: str
    process: subprocess.Popen[str]

    def stop(self, how: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        """Stop it; its exit code and everything it wrote on stderr."""
        self.process.send_signal(how)
        code = self.process.wait(timeout=TIMEOUT)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@contextmanager
def mock(*args: str) -> Iterator[Mock]:
    process = subprocess.Popen(
        [str(TYCHO), "mock", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    try:
        assert process.stdout is not None
        url = Lines(process.stdout).next().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        yield Mock(url, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def up(url: str, name: str = "smoke") -> str:
    with TychoClient(url, timeout=10) as client:
        system = {"services": {"web": {"image": "x", "ports": ["80"]}}}
        return client.up(name, system, f"TOKEN={CANARY}").result.sid


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_mock_serves_until_signalled_and_logs_each_request(stop: signal.Signals) -> None:
    with mock() as served:
        sid = up(served.url)
        with TychoClient(served.url, timeout=10) as client:
            assert client.list(terse=True) == [sid]
        code, stderr = served.stop(stop)
    assert code == 0
    lines = stderr.splitlines()
    assert [LOG_LINE.fullmatch(line) is not None for line in lines] == [True, True], lines
    assert [line.split()[:3] for line in lines] == [
        ["POST", "/system/start", "200"],
        ["POST", "/system/status", "200"],
    ]
    assert CANARY not in stderr  # bodies carry .env values: never logged


def test_mock_quiet_logs_nothing() -> None:
    with mock("-q") as served:
        up(served.url)
        code, stderr = served.stop()
    assert (code, stderr) == (0, "")


def test_mock_ready_after_makes_systems_slow_to_be_ready() -> None:
    with mock("--ready-after", "2") as served:
        guid = up(served.url)
        env = {**base_env(), "TYCHO_URL": served.url}
        ready = [tycho("status", "--no-headers", env=env).stdout.split()[2] for _ in range(3)]
        assert ready == ["0/1", "0/1", "1/1"]
        done = tycho("up", "--image", "x", "-p", "80", "--wait", "-q", env=env)
        assert "is ready after" in done.stderr
        assert guid not in done.stdout
        served.stop()


def test_mock_latency_delays_every_answer() -> None:
    with mock("--latency", "0.3") as served:
        up(served.url)
        _, stderr = served.stop()
    match = LOG_LINE.fullmatch(stderr.splitlines()[0])
    assert match is not None
    assert float(match["ms"]) >= 300


def test_mock_does_not_route_modify_unless_asked() -> None:
    with mock() as served:
        guid = up(served.url)
        done = tycho("modify", guid, "--cpu", "1", "--url", served.url, check=1)
        assert "does not support" in one_error_line(done.stderr)
        served.stop()
    with mock("--modify") as served:
        guid = up(served.url)
        done = tycho("modify", guid, "--cpu", "1", "--url", served.url)
        assert f"{guid} modified" in done.stdout
        served.stop()


def test_mock_fail_next_answers_with_the_status_given() -> None:
    with mock("--fail-next", "1", "--fail-status", "200") as served:
        first = tycho("status", "--url", served.url, check=1)
        assert "injected failure" in one_error_line(first.stderr)
        tycho("status", "--url", served.url)  # only the first one failed
        _, stderr = served.stop()
    assert [line.split()[2] for line in stderr.splitlines()] == ["200", "200"]


def test_mock_fail_next_with_an_http_status_is_logged() -> None:
    with mock("--fail-next", "1", "--fail-status", "503") as served:
        tycho("status", "--url", served.url)  # retried after the 503
        _, stderr = served.stop()
    assert [line.split()[2] for line in stderr.splitlines()] == ["503", "200"]


@pytest.mark.parametrize(
    "args", [["--fail-status", "42"], ["--ready-after", "-1"], ["--latency", "soon"]]
)
def test_mock_option_mistakes_are_usage_errors(args: list[str]) -> None:
    done = tycho("mock", "--port", "0", *args, check=2, timeout=20)
    one_error_line(done.stderr)
    assert done.stdout == ""


def test_mock_port_in_use_is_a_usage_error() -> None:
    with mock() as served:
        port = served.url.rsplit(":", 1)[1]
        done = tycho("mock", "--port", port, check=2, timeout=20)
        assert "cannot listen" in one_error_line(done.stderr)
        served.stop()


def reset_mid_request(url: str) -> int:
    """Send half a request, reset the connection (RST) while the server reads its body; the
    client's port."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(
            b"POST /system/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n"
        )
        # The server answers 100 once it has read the head: it is now reading the body.
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b'{"name": "half')
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client_port: int = sock.getsockname()[1]
    return client_port


def send_garbage(url: str) -> int:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x16\x03\x01 hello\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 400 ")
        client_port: int = sock.getsockname()[1]
    return client_port


def only_lines(served: Mock, log: Lines, expected: str) -> None:
    """The next line of the mock's stderr is ``expected``; then, once stopped, nothing more."""
    assert log.next() == expected + "\n"
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=TIMEOUT) == 0
    assert log.next() == ""  # end of file: no traceback, no second line


def test_mock_a_client_reset_mid_request_is_one_line() -> None:
    with mock() as served:
        assert served.process.stderr is not None
        log = Lines(served.process.stderr)
        client_port = reset_mid_request(served.url)
        expected = f"tycho mock: 127.0.0.1:{client_port} closed the connection mid-request"
        only_lines(served, log, expected)


def test_mock_a_client_sending_garbage_is_one_line() -> None:
    with mock() as served:
        assert served.process.stderr is not None
        log = Lines(served.process.stderr)
        client_port = send_garbage(served.url)
        expected = f"tycho mock: 127.0.0.1:{client_port} sent no valid request line; answered 400"
        only_lines(served, log, expected)


def test_mock_quiet_logs_no_broken_clients_either() -> None:
    with mock("-q") as served:
        reset_mid_request(served.url)
        send_garbage(served.url)
        up(served.url)
        time.sleep(0.2)  # time for the reset's thread to write, were it to write anything
        code, stderr = served.stop()
    assert (code, stderr) == (0, "")
