"""``verify()`` and ``tycho verify``: the verdicts (conformant, not, unreachable), and the clean-up
of ``--write`` on every path: a failure, the deadline, Ctrl-C, a cancelled task, and a server that
will not delete (then it says so, and which GUID to delete).

Servers here are FakeTycho on loopback sockets, some made to misbehave; ``tycho mock`` runs as a
user runs it. The real releases: tests/realserver/test_end_to_end.py.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping

import anyio
import pytest
from loopback import closed_port
from test_cli_support import TYCHO, base_env, tycho

from tycho_client import AsyncTychoClient, TychoClient
from tycho_client.errors import TychoConnectionError
from tycho_client.testing import FakeTycho
from tycho_client.testing.fake import FakeResponse
from tycho_client.verify import PROBE_USER

_JSON = (("Content-Type", "application/json"),)


class Scripted(FakeTycho):
    """A FakeTycho with a say in some answers: a slow start (the system exists before the answer
    leaves), deletes that fail, a status whose entries break the document."""

    def __init__(self) -> None:
        self._delays = threading.local()
        super().__init__()
        self.start_delay = 0.0
        self.failing_deletes = 0  # -1: every one
        self.malformed_status = False
        self.slow_listings = 0  # status answers by GUID delayed by listing_delay
        self.listing_delay = 0.0
        self.started = threading.Event()

    # The server sleeps `latency` after the fake answered, outside its lock: a slow start delays
    # only its own answer.
    @property  # type: ignore[override]
    def latency(self) -> float:
        delay: float = getattr(self._delays, "delay", 0.0)
        return delay

    @latency.setter
    def latency(self, value: float) -> None:
        self._delays.delay = value

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], content: bytes
    ) -> FakeResponse:
        self._delays.delay = 0.0
        if path == "/system/delete" and self.failing_deletes:
            body = json.loads(content or b"{}")
            if isinstance(body, dict) and body.get("name"):
                self.failing_deletes -= 1
                text = b'{"status": "error", "result": {"error": "busy"}, "message": "busy"}\n'
                return FakeResponse(200, _JSON, text)
        if path == "/system/status" and content == b"{}" and self.malformed_status:
            text = b'{"status": "success", "result": [{"name": 5}], "message": "m"}\n'
            return FakeResponse(200, _JSON, text)
        answer = super().handle(method, path, headers, content)
        if path == "/system/start" and b"tycho-verify-" in content:
            self.started.set()
            self._delays.delay = self.start_delay
        by_guid = path == "/system/status" and self.slow_listings and self.systems
        if by_guid and json.loads(content or b"{}").get("name") in self.systems:
            self.slow_listings -= 1
            self._delays.delay = self.listing_delay
        return answer


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    fake = Scripted()
    with fake.serve() as url:
        yield fake, url


def _outcomes(checks: object) -> dict[str, str]:
    return {check.name: check.outcome for check in checks}  # type: ignore[attr-defined]


def test_read_only_verify_sends_nothing_that_changes_the_server(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    with TychoClient(url) as client:
        report = client.verify()
    assert report.conformant
    assert not report.wrote
    assert report.probe_system is None
    # (the fake records the routed paths only: not the modify it answers 404)
    assert [r.operation for r in fake.requests] == ["status", "status", "start", "delete"]
    assert fake.systems == {}
    assert _outcomes(report.checks)["cleanup"] == "skipped"


def test_a_server_that_breaks_the_document_is_not_conformant(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.malformed_status = True
    done = tycho("verify", "--url", url, check=1)
    assert "not conformant: 2 failed (envelopes, status)" in done.stdout
    assert re.search(
        r"^status +fail +POST /system/status \{\}: result\[0\]\.name: ", done.stdout, re.M
    )
    assert "behaves like no known tycho-api release" in done.stdout


def test_an_unreachable_server_is_exit_3() -> None:
    done = tycho("verify", "--url", f"http://127.0.0.1:{closed_port()}", check=3)
    assert "could not connect" in done.stderr
    assert done.stdout == ""
    with (
        pytest.raises(TychoConnectionError),
        TychoClient(f"http://127.0.0.1:{closed_port()}", max_retries=0) as client,
    ):
        client.verify()


def test_a_failed_delete_is_a_failed_check_and_the_clean_up_deletes_it(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.failing_deletes = 1
    with TychoClient(url) as client:
        report = client.verify(write=True)
    outcomes = _outcomes(report.checks)
    assert (outcomes["delete"], outcomes["cleanup"]) == ("fail", "pass")
    assert not report.conformant
    assert fake.systems == {}
    cleanup = next(check for check in report.checks if check.name == "cleanup")
    assert cleanup.detail.startswith(f"deleted the probe system {report.probe_system[:21]}")


def test_a_start_that_times_out_is_found_by_name_and_deleted(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.start_delay = 3.0  # the system exists; its answer comes too late
    with TychoClient(url, timeout=1.0) as client:
        report = client.verify(write=True)
    outcomes = _outcomes(report.checks)
    assert outcomes["start"] == "fail"
    assert "no answer within" in report.checks[8].detail
    assert outcomes["cleanup"] == "pass", report.checks[-1]
    assert fake.systems == {}
    statuses = [r.body for r in fake.requests if r.operation == "status"]
    assert {"username": PROBE_USER} in statuses


def test_the_deadline_running_out_after_the_start_still_deletes_the_probe_system(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.slow_listings, fake.listing_delay = 1, 6.0  # the listing outlives the whole run's 3 s
    done = tycho("verify", "--url", url, "--write", "--timeout", "3", check=1, timeout=120)
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in done.stdout.splitlines()[1:-1]}
    assert rows["start"][0] == "pass"
    assert rows["listed"][0] == "fail", done.stdout
    assert "no complete answer within" in rows["listed"][1]
    assert rows["cleanup"][0] == "pass", done.stdout
    assert rows["cleanup"][1].startswith("deleted the probe system tycho-verify-")
    assert fake.systems == {}
    assert "not conformant" in done.stdout.splitlines()[-1]


def test_a_server_that_will_not_delete_is_named_with_the_guid_to_delete(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.failing_deletes = -1
    began = time.monotonic()
    done = tycho("verify", "--url", url, "--write", "--timeout", "5", check=1, timeout=120)
    (guid,) = fake.systems
    said = (
        rf"cleanup +fail +could not delete the probe system tycho-verify-[0-9a-f]{{8}} "
        rf"\(GUID {guid}\) within 30 s: delete it with tycho down {guid}"
    )
    assert re.search(said, done.stdout), done.stdout
    assert time.monotonic() - began < 90, "the clean-up is bounded"


def test_ctrl_c_during_the_start_still_deletes_the_probe_system(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.start_delay = 5.0
    process = subprocess.Popen(
        [str(TYCHO), "verify", "--write", "--url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    assert fake.started.wait(30), "the probe start never came"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, (stdout, stderr)
    assert "tycho: interrupted; deleted the probe system tycho-verify-" in stderr, stderr
    assert "Traceback" not in stderr
    assert fake.systems == {}


def test_a_cancelled_async_verify_still_deletes_the_probe_system(
    scripted: tuple[Scripted, str],
) -> None:
    fake, url = scripted
    fake.start_delay = 5.0

    async def main() -> None:
        async with AsyncTychoClient(url) as client, anyio.create_task_group() as group:

            async def verify() -> None:
                await client.verify(write=True)

            group.start_soon(verify)
            await anyio.to_thread.run_sync(fake.started.wait, 30)
            group.cancel_scope.cancel()

    anyio.run(main)
    assert fake.systems == {}
    assert any(r.operation == "delete" and r.body.get("name") for r in fake.requests)


@pytest.mark.parametrize(
    ("release", "behaves_like"),
    [(None, "1.17.2 and later"), ("1.12.0", "1.12.0 - 1.13.0"), ("1.16.1", "1.16.1 - 1.17.1")],
)
def test_tycho_verify_against_tycho_mock(release: str | None, behaves_like: str) -> None:
    mock = subprocess.Popen(
        [str(TYCHO), "mock", "--port", "0", "-q", *(["--release", release] if release else [])],
        stdout=subprocess.PIPE,
        text=True,
        env=base_env(),
    )
    try:
        assert mock.stdout is not None
        url = mock.stdout.readline().strip()
        done = tycho("verify", "--write", "--url", url, "-o", "json", check=0)
        report = json.loads(done.stdout)
        assert report["conformant"]
        assert report["behaves_like"] == behaves_like
        table = tycho("verify", "--url", url, check=0)
        assert table.stdout.splitlines()[0].split() == ["CHECK", "RESULT", "DETAIL"]
        assert table.stdout.splitlines()[-1].startswith("conformant; http://127.0.0.1:")
    finally:
        mock.send_signal(signal.SIGINT)
        mock.wait(timeout=30)
