"""FakeTycho on loopback sockets: ``serve()``, ``run_forever()`` (``tycho mock``), concurrency,
and clients that break off: one sentence to ``on_problem`` each, never a traceback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tycho_client.aio import AsyncTychoClient
from tycho_client.client import TychoClient
from tycho_client.errors import TychoServerError
from tycho_client.openapi import spec_text
from tycho_client.testing import FakeResponse, FakeTycho, FakeTychoServer

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = {
    "version": "3",
    "services": {"web": {"image": "nginx:1.25", "ports": ["8080:80"]}},
}


RUN_FOREVER = (
    "import sys\n"
    "from tycho_client.testing import FakeTycho\n"
    "FakeTycho().run_forever('127.0.0.1', int(sys.argv[1]), lambda url: print(url, flush=True))\n"
    "print('returned', flush=True)\n"
)


def start_request(name: str = "web") -> dict[str, Any]:
    return {
        "name": name,
        "system": COMPOSE,
        "principal": json.dumps({"username": "alice"}),
        "services": {"web": {"port": "80", "clients": []}},
    }


def test_serve_answers_a_client_over_loopback_and_stops() -> None:
    fake = FakeTycho()
    with fake.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        with TychoClient(url, timeout=5) as client:
            started = client.up("my web", COMPOSE)
            assert started.result.name == f"my-web-{started.result.sid}"
            assert [s.sid for s in client.status().result] == [started.result.sid]
            assert client.down([started.result.sid]) == [started.result.sid]
        assert fake.systems == {}
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/system/status", json={}, timeout=2)


def test_openapi_document_is_served_as_shipped() -> None:
    with FakeTycho().serve() as url:
        response = httpx.get(f"{url}/openapi.yaml", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    assert response.text == spec_text() == (ROOT / "openapi" / "tycho.yaml").read_text()


def test_keep_alive_and_chunked_bodies() -> None:
    with FakeTycho().serve() as url:
        port = int(url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            answers = []
            sockets = []
            for _ in range(3):
                connection.request(
                    "POST", "/system/status", b"{}", {"Content-Type": "application/json"}
                )
                answers.append(connection.getresponse().read())
                sockets.append(connection.sock)
            assert sockets[0] is not None
            assert all(sock is sockets[0] for sock in sockets)  # one connection, kept alive
            assert {json.loads(a)["status"] for a in answers} == {"success"}
            body = iter([b'{"name": "0123456789abcdef', b'0123456789abcdef"}'])
            connection.request(
                "POST",
                "/system/delete",
                body,
                {"Content-Type": "application/json"},
                encode_chunked=True,
            )
            answer = json.loads(connection.getresponse().read())
        finally:
            connection.close()
    assert answer["message"] == "Deleted system 0123456789abcdef0123456789abcdef"


def test_any_method_reaches_the_fake() -> None:
    with FakeTycho().serve() as url:
        for method in ("GET", "PUT", "DELETE", "PATCH", "PROPFIND"):
            response = httpx.request(method, f"{url}/system/status", timeout=5)
            assert response.status_code == 405, method
            assert response.json() == {
                "message": "The method is not allowed for the requested URL."
            }


@pytest.fixture
def mock_process() -> Iterator[str]:
    """The fake served by ``run_forever`` in a process of its own, as ``tycho mock`` runs it."""
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_FOREVER, "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_thousand_concurrent_requests_keep_state_consistent(mock_process: str) -> None:
    # httpcore's pool bookkeeping costs the client CPU per queued request and pooled connection:
    # 10 connections, and requests queued in a limiter rather than in the pool, keep the 1,000
    # requests to seconds instead of half a minute.
    limits = httpx.Limits(max_connections=10)
    in_flight = anyio.CapacityLimiter(10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http_client:
        client = AsyncTychoClient(mock_process, http_client=http_client, max_retries=0)
        started: list[str] = []
        listed_by_nobody: list[int] = []

        async def start(index: int) -> None:
            async with in_flight:
                answer = await client.start(start_request(f"web-{index}"))
            started.append(answer.result.sid)

        async def status(index: int) -> None:
            async with in_flight:
                answer = await client.status({"username": "nobody"})
            listed_by_nobody.append(len(answer.result))

        async with anyio.create_task_group() as tasks:
            for index in range(1000):
                tasks.start_soon(status if index % 4 == 3 else start, index)
        listed = (await client.status()).result
    assert len(started) == len(set(started)) == 750
    assert listed_by_nobody == [0] * 250
    assert sorted(s.sid or "" for s in listed) == sorted(started)
    assert sorted(s.app_id or "" for s in listed) == sorted(
        f"web-{i}" for i in range(1000) if i % 4 != 3
    )


def test_a_hundred_connections_at_once() -> None:
    fake = FakeTycho()
    failures: list[BaseException] = []

    def one_connection(port: int, index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for attempt in range(5):
                body = json.dumps(start_request(f"c{index}-{attempt}")).encode()
                connection.request(
                    "POST", "/system/start", body, {"Content-Type": "application/json"}
                )
                answer = json.loads(connection.getresponse().read())
                assert answer["status"] == "success"
        except BaseException as exc:  # collected: a thread's failure must fail the test
            failures.append(exc)
        finally:
            connection.close()

    with fake.serve() as url:
        port = int(url.rsplit(":", 1)[1])
        threads = [threading.Thread(target=one_connection, args=(port, i)) for i in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert len(fake.systems) == 500
    assert sorted(s.app_id for s in fake.systems.values()) == sorted(
        f"c{i}-{a}" for i in range(100) for a in range(5)
    )
    ports = [s.containers["web"]["port-1"] for s in fake.systems.values()]
    assert sorted(ports) == list(range(30000, 30500))


def test_injected_failures_reach_the_client_which_retries(sleeps: list[float]) -> None:
    fake = FakeTycho()
    with fake.serve() as url, TychoClient(url, timeout=5) as client:
        fake.fail_next(2, status=503)
        assert client.status().status == "success"
        fake.fail_next(3, status=502)
        with pytest.raises(TychoServerError) as failure:
            client.status()
    assert failure.value.status_code == 502
    assert [r.status_code for r in fake.requests] == [503, 503, 200, 502, 502, 502]
    assert len(sleeps) == 4


def test_latency_applies_over_the_socket() -> None:
    fake = FakeTycho(latency=0.3)
    with fake.serve() as url:
        response = httpx.post(f"{url}/system/status", json={}, timeout=5)
    assert response.elapsed.total_seconds() >= 0.3


def test_a_failing_fake_answers_500_and_keeps_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTycho()
    broken = True
    original = FakeTycho.handle

    def handle(self: FakeTycho, *args: Any) -> Any:
        if broken:
            raise AssertionError("FakeTycho bug: simulated")
        return original(self, *args)

    monkeypatch.setattr(FakeTycho, "handle", handle)
    server = FakeTychoServer(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        first = httpx.post(f"{server.url}/system/status", json={}, timeout=5)
        broken = False
        second = httpx.post(f"{server.url}/system/status", json={}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert (first.status_code, first.json()) == (500, {"message": "Internal Server Error"})
    assert second.status_code == 200
    assert server.errors == ["POST /system/status"]


def test_oversized_bodies_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from tycho_client.testing import server as server_module

    monkeypatch.setattr(server_module, "MAX_BODY_BYTES", 10)
    fake = FakeTycho()
    with fake.serve() as url:
        response = httpx.post(f"{url}/system/status", content=b"{" + b" " * 20 + b"}", timeout=5)
    assert response.status_code == 413
    assert fake.requests == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_forever_serves_in_the_foreground_until_signalled(stop: signal.Signals) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_FOREVER, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        answer = httpx.post(f"{url}/system/status", json={}, timeout=5).json()
        assert answer["status"] == "success"
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out == "returned\n"
    assert err == ""


@pytest.fixture
def problems() -> Iterator[tuple[FakeTychoServer, list[str]]]:
    """An in-process server whose problem sentences are collected."""
    seen: list[str] = []
    server = FakeTychoServer(FakeTycho(), on_problem=seen.append)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _wait_for(seen: list[str], count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while len(seen) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return seen


def test_broken_off_requests_are_one_sentence_each(
    problems: tuple[FakeTychoServer, list[str]], capfd: pytest.CaptureFixture[str]
) -> None:
    server, seen = problems
    port = int(server.url.rsplit(":", 1)[1])
    ports = []
    head = b"POST /system/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
    for ending in (b"\r\n{", b"Cont"):  # closed in the body, and in the headers
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head + ending)
            ports.append(sock.getsockname()[1])
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(1024) == b""  # no answer: the server closes too
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /system/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
        # An idle keep-alive connection that closes between requests is no problem.
    assert _wait_for(seen, 2) == [f"127.0.0.1:{p} closed the connection mid-request" for p in ports]
    time.sleep(0.1)
    assert len(seen) == 2
    assert capfd.readouterr().err == ""


def test_a_connection_failing_outside_the_handler_is_one_sentence(
    problems: tuple[FakeTychoServer, list[str]],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, seen = problems
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError:
        server.handle_error(None, ("127.0.0.1", 40000))
    assert seen == ["127.0.0.1:40000 connection failed: Connection reset by peer"]
    try:
        raise RuntimeError("a bug in the server")
    except RuntimeError:
        server.handle_error(None, ("::1", 40001, 0, 0))
    assert len(seen) == 1  # a bug is no client's doing: it goes to the logger
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [RuntimeError]
    assert capfd.readouterr().err == ""  # socketserver's traceback printout is gone


class Overlaps:
    """An app that records when each of its calls ran; the first takes ``first`` seconds, the
    others ``then``."""

    latency = 0.0

    def __init__(self, first: float, then: float) -> None:
        self.durations = (first, then)
        self.runs: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, headers: Any, content: bytes) -> FakeResponse:
        began = time.monotonic()
        time.sleep(self.durations[1] if self.runs else self.durations[0])
        with self.lock:
            self.runs.append((began, time.monotonic()))
        return FakeResponse(200, (("Content-Type", "application/json"),), b"{}")


def test_requests_run_alone_only_until_the_first_is_answered() -> None:
    # The fake reads its document on first use: a burst of threads each reading it at once took
    # seconds, so the first request runs alone. After it, none waits for another: one that
    # takes long (a large start request) must not hold up the rest.
    app = Overlaps(first=0.3, then=0.1)
    server = FakeTychoServer(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()

    def burst() -> None:
        def one() -> None:
            assert httpx.post(f"{server.url}/x", timeout=30).status_code == 200

        threads = [threading.Thread(target=one) for _ in range(8)]
        for each in threads:
            each.start()
        for each in threads:
            each.join(timeout=30)

    try:
        burst()
        first, *others = sorted(app.runs)
        assert all(began >= first[1] for began, _ in others)  # cold: the first ran alone
        app.runs.clear()
        burst()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    runs = sorted(app.runs)
    assert len(runs) == 8
    assert any(runs[i + 1][0] < runs[i][1] for i in range(7))  # warm: side by side
