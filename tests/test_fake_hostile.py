"""The fake under hostile input: bounded work, an answer for every request.

Over loopback sockets, against ``tycho mock``'s server in a process of its own where memory is
measured: quantities of thousands of digits and deeply nested principals get error envelopes
(no 500, no traceback), bodies over the limit a 413 before they are read, memory stays bounded
over many large requests, slow clients do not stop others from being served, and a large start
request does not hold up other clients' calls. Malformed HTTP: ``test_fake_http.py``.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tycho_client.testing import FakeTycho, handlers
from tycho_client.testing.server import MAX_BODY_BYTES

RUN_MOCK = (
    "import sys\n"
    "from tycho_client.testing import FakeTycho\n"
    "FakeTycho().run_forever('127.0.0.1', 0, lambda url: print(url, flush=True))\n"
)


def start_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "web",
        "system": {"services": {"web": {"image": "nginx:1.25", "ports": ["80"]}}},
        "principal": json.dumps({"username": "alice"}),
        "services": {"web": {"port": "80", "clients": []}},
    }
    body.update(changes)
    return body


@pytest.fixture
def mock() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_MOCK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), process
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert "Traceback" not in stderr, stderr


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_cpu_quantity_of_thousands_of_digits_is_an_error_envelope(
    mock: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = mock
    body = start_body()
    body["system"]["services"]["web"]["deploy"] = {
        "resources": {"limits": {"cpus": "9" * 5000, "memory": "1G"}}
    }
    answer = httpx.post(f"{url}/system/start", json=body, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "error"
    assert "limits.cpus" in answer.json()["message"]


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_deeply_nested_principal_is_an_error_envelope(
    mock: tuple[str, subprocess.Popen[str]], depth: int
) -> None:
    url, _ = mock
    nested = '{"username": "alice", "x": ' + "[" * depth + "]" * depth + "}"
    answer = httpx.post(f"{url}/system/start", json=start_body(principal=nested), timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "error"
    assert "principal" in answer.json()["message"]


def test_a_deeply_nested_body_is_answered(mock: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = mock
    content = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = httpx.post(
        f"{url}/system/status", content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (200, 500)
    assert answer.json()  # an envelope or the framework's JSON error, never a hang or a reset


def test_bodies_over_the_limit_are_refused_before_they_are_read(
    mock: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = mock
    port = int(url.rsplit(":", 1)[1])
    before = rss_mb(process.pid)
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /system/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {30 * 1024 * 1024}\r\n\r\n".encode()
                + b"{" * 65536
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 413")
    chunked = httpx.post(
        f"{url}/system/start",
        content=iter([b" " * 65536] * (MAX_BODY_BYTES // 65536 + 2)),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 413
    assert rss_mb(process.pid) - before < 20


def test_memory_is_released_after_large_requests(mock: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = mock
    # Large, schema-valid and under the limit: an extra key the document lets through.
    padding = "x" * (MAX_BODY_BYTES - 4096)
    with httpx.Client(timeout=30) as http:
        http.post(f"{url}/system/status", json={})
        before = rss_mb(process.pid)
        for _ in range(60):
            answer = http.post(f"{url}/system/status", json={"padding": padding})
            assert answer.json()["status"] == "success"
    # 60 MB were sent; keeping them would show.
    assert rss_mb(process.pid) - before < 25, "the fake holds on to what it was sent"


def test_slow_clients_do_not_stop_others(mock: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = mock
    port = int(url.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /system/status HTTP/1.1\r\nHost: x\r\nContent-Le")  # and stops
            slow.append(sock)
        began = time.monotonic()
        answer = httpx.post(f"{url}/system/status", json={}, timeout=5)
        assert answer.json()["status"] == "success"
        assert time.monotonic() - began < 2
    finally:
        for sock in slow:
            sock.close()


def test_the_fake_checks_its_answers_without_assert(monkeypatch: pytest.MonkeyPatch) -> None:
    # `python -O` removes asserts: the fake's checks of its own answers must not be asserts.
    source = (Path(__file__).parents[1] / "tycho_client" / "testing" / "fake.py").read_text()
    assert not [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assert)]
    fake = FakeTycho()
    monkeypatch.setattr(handlers, "report", lambda system, release: {"name": system.name})
    fake.handle(
        "POST",
        "/system/start",
        {"content-type": "application/json"},
        json.dumps(start_body()).encode(),
    )
    from tycho_client.testing.fake import FakeTychoBug

    with pytest.raises(FakeTychoBug):
        fake.handle("POST", "/system/status", {"content-type": "application/json"}, b"{}")


def test_the_server_reports_each_answer_to_a_callback() -> None:
    from tycho_client.testing.server import FakeTychoServer

    seen: list[tuple[str, str, int]] = []
    server = FakeTychoServer(FakeTycho(), on_request=lambda m, p, s, t: seen.append((m, p, s)))
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        httpx.post(f"{server.url}/system/status", json={}, timeout=5)
        httpx.post(f"{server.url}/system/modify", json={}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [("POST", "/system/status", 200), ("POST", "/system/modify", 404)]


def test_the_fake_keeps_only_its_last_requests_and_no_large_bodies() -> None:
    from tycho_client.testing.state import MAX_RECORDED_BODY_BYTES, MAX_RECORDED_REQUESTS

    fake = FakeTycho()
    headers = {"content-type": "application/json"}
    for index in range(MAX_RECORDED_REQUESTS + 5):
        fake.handle("POST", "/system/status", headers, json.dumps({"n": index}).encode())
    assert len(fake.requests) == MAX_RECORDED_REQUESTS
    assert fake.requests[0].body == {"n": 5}
    big = json.dumps({"padding": "x" * MAX_RECORDED_BODY_BYTES}).encode()
    fake.handle("POST", "/system/status", headers, big)
    assert fake.requests[-1].body is None
    assert fake.requests[-1].status_code == 200


# ---------------------------------------------------------------- one large request, other clients
def large_start_body() -> bytes:
    """A valid start request of just under ``MAX_BODY_BYTES``: thousands of compose services."""
    services: dict[str, Any] = {}
    body = b""
    while True:
        for _ in range(100):
            services[f"svc{len(services):05d}"] = {
                "image": "nginx:1.25",
                "ports": ["80"],
                "environment": [f"KEY{j}=value" for j in range(10)],
            }
        candidate = json.dumps(
            start_body(system={"services": services}, principal=json.dumps({"username": "bob"}))
            | {"services": {"svc00000": {"port": "80", "clients": []}}}
        ).encode()
        if len(candidate) > MAX_BODY_BYTES - 16 * 1024:
            return body
        body = candidate


@pytest.mark.slow
def test_a_large_start_request_does_not_hold_up_other_clients(
    mock: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = mock
    port = int(url.rsplit(":", 1)[1])
    body = large_start_body()
    started: list[Any] = []

    def start_large() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/system/start", body, {"Content-Type": "application/json"})
            started.append(json.loads(connection.getresponse().read()))
        finally:
            connection.close()

    # Alice's status answer stays small while Bob's thousands of services are started.
    status = json.dumps({"username": "alice"}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    try:
        for _ in range(10):  # warm: the connection and the fake's validators
            connection.request(
                "POST", "/system/status", status, {"Content-Type": "application/json"}
            )
            connection.getresponse().read()
        large = threading.Thread(target=start_large)
        large.start()
        while large.is_alive():
            began = time.perf_counter()
            connection.request(
                "POST", "/system/status", status, {"Content-Type": "application/json"}
            )
            answer = json.loads(connection.getresponse().read())
            latencies.append(time.perf_counter() - began)
            assert answer == {
                "status": "success",
                "result": [],
                "message": "Get status for system None",
            }
        large.join()
    finally:
        connection.close()
    assert len(body) > MAX_BODY_BYTES * 0.95
    assert [answer["status"] for answer in started] == ["success"]
    assert len(latencies) >= 20  # the large one took long: the calls overlapped it
    assert max(latencies) < 0.1, f"worst {max(latencies) * 1000:.0f} ms of {len(latencies)} calls"
