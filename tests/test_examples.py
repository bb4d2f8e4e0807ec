"""Every runnable example in examples/, run as a user would, against a fake Tycho on loopback.

The scripts take ``--url``: each runs in a subprocess against ``FakeTycho().serve()`` of this
process, so the fake's state shows what the example did. The pytest files (``test_*.py``) run in
a pytest subprocess, where the plugin arrives through its entry point.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tycho_client.testing import FakeTycho

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TIMEOUT = 60
GUID = r"[0-9a-f]{32}"


@pytest.fixture
def fake() -> FakeTycho:
    return FakeTycho(ready_after=2)  # each system is unready in its first two status answers


@pytest.fixture
def url(fake: FakeTycho) -> Iterator[str]:
    with fake.serve() as served:
        yield served


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TYCHO_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True, text=True, timeout=TIMEOUT, env={**environment, **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def operations(fake: FakeTycho) -> list[str | None]:
    return [r.operation for r in fake.requests]


def test_the_service_starts_waits_lists_and_stops(fake: FakeTycho, url: str) -> None:
    lines = run("service.py", "--url", url, "--user", "Alice").stdout.splitlines()

    started = re.fullmatch(rf"started ({GUID}) at None:30000", lines[0])
    assert started, lines
    guid = started.group(1)
    assert lines[1:] == [
        f"ready: notebook-alice-{guid}",
        f"running: {guid}",
        f"stopped {guid}; running now: 0",
    ]
    # start; status polls until ready (the third); list; delete; list
    assert operations(fake) == ["start", *["status"] * 3, "status", "delete", "status"]
    assert all(r.problems == () for r in fake.requests)
    start = fake.requests[0].body
    token = start["env"]["JUPYTER_TOKEN"]  # ${JUPYTER_TOKEN} substituted from the .env text
    assert start["system"]["services"]["jupyter"]["environment"] == [f"JUPYTER_TOKEN={token}"]
    assert len(token) >= 16
    assert fake.systems == {}


def test_the_async_service_starts_several_at_once(fake: FakeTycho, url: str) -> None:
    lines = run("service_async.py", "--url", url, "ann", "ben", "cy").stdout.splitlines()

    ready = [re.fullmatch(rf"ready: (\w+) ({GUID})", line) for line in lines[:3]]
    assert [m.group(1) for m in ready if m] == ["ann", "ben", "cy"]
    assert lines[3:] == ["running: 3", "stopped: 3; running now: 0"]
    assert operations(fake).count("start") == 3
    assert operations(fake).count("delete") == 3
    assert fake.systems == {}


def test_logging_shows_each_request_and_never_the_token(url: str) -> None:
    done = run("logging_setup.py", "--url", url, TYCHO_TOKEN="tok-3f9a1c")

    lines = done.stderr.splitlines()
    assert re.fullmatch(
        rf"DEBUG tycho_client: POST {re.escape(url)}/system/status -> 200 in [0-9.]+ ms", lines[0]
    ), lines
    assert lines[-1] == "INFO example: 0 systems running"
    assert "tok-3f9a1c" not in done.stderr + done.stdout


def spans(text: str) -> list[dict[str, Any]]:
    """The JSON objects ConsoleSpanExporter printed, one after another."""
    decoder, found, at = json.JSONDecoder(), [], 0
    text = text.strip()
    while at < len(text) and text[at] == "{":
        span, at = decoder.raw_decode(text, at)
        found.append(span)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def test_opentelemetry_traces_requests_through_the_callers_client(
    fake: FakeTycho, url: str
) -> None:
    done = run("opentelemetry_tracing.py", "--url", url)

    found = spans(done.stdout)
    assert done.stdout.rstrip().endswith("0 systems running")
    parent = next(s for s in found if s["name"] == "list-notebooks")
    (request,) = (s for s in found if s["kind"] == "SpanKind.CLIENT")
    attributes = request["attributes"]
    assert attributes.get("http.url", attributes.get("url.full")) == f"{url}/system/status"
    assert attributes.get("http.status_code", attributes.get("http.response.status_code")) == 200
    assert request["parent_id"] == parent["context"]["span_id"]
    assert operations(fake) == ["status"]


PYTEST_EXAMPLES = {"test_client_options.py": 5, "test_service.py": 6, "test_with_respx.py": 3}


def test_the_pytest_examples_pass() -> None:
    # Every test_*.py is listed with its count, so a new one is not left out unnoticed.
    assert sorted(PYTEST_EXAMPLES) == sorted(p.name for p in EXAMPLES.glob("test_*.py"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
         *(str(EXAMPLES / name) for name in PYTEST_EXAMPLES)],
        capture_output=True, text=True, timeout=TIMEOUT * 2, cwd=EXAMPLES,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.findall(r"^PASSED (test_\w+\.py)::", done.stdout, re.MULTILINE)
    assert {name: passed.count(name) for name in PYTEST_EXAMPLES} == PYTEST_EXAMPLES, done.stdout
