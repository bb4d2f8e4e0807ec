"""Issue 19, "Interrupts and orphans", in the CLI: Ctrl-C (SIGINT, sent to the subprocess at the
moment that matters) on ``tycho up`` exits 130 and, once the start was sent, says in one line
which system may be left behind and how to remove it; ``--wait`` running out says so too. Before
anything was sent, Ctrl-C says nothing. Never a traceback unless ``--debug``."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_cli_support import TIMEOUT, TYCHO, Lines, base_env, one_error_line, tycho

from tycho_client.testing.fake import FakeTycho

COMPOSE = "services:\n  web:\n    image: nginx:1.25\n    ports: ['80']\n"
WAIT = 20.0  # the longest a test waits for the moment to interrupt


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A compose folder named my-app."""
    folder = tmp_path / "my-app"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    return folder


@dataclass(frozen=True)
class Interrupted:
    returncode: int
    stdout: str
    stderr: str  # what went to stderr: its pipe, or the pseudo-terminal with ``terminal``


def until(condition: Callable[[], bool], what: str) -> None:
    ends = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.01)


class Running:
    """The process being interrupted: ``line()`` waits for its next line on stdout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self._lines = Lines(process.stdout)
        self.seen: list[str] = []

    def line(self) -> str:
        self.seen.append(self._lines.next(timeout=WAIT))
        return self.seen[-1]

    def rest(self) -> str:
        """Every line until the end of stdout (after the process ended)."""
        while self.line():
            pass
        return "".join(self.seen)


def interrupt(
    *args: str,
    when: Callable[[Running], object],
    cwd: Path | None = None,
    terminal: bool = False,
) -> Interrupted:
    """Run ``tycho args``, wait for ``when`` (given the process and its stdout lines) to
    return, then send it SIGINT, as Ctrl-C does; stderr on a pseudo-terminal with ``terminal``.
    Stdin is a pipe kept open (a command reading it blocks)."""
    controller = stderr_end = -1
    if terminal:
        controller, stderr_end = pty.openpty()
    process = subprocess.Popen(
        [str(TYCHO), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_end if terminal else subprocess.PIPE,
        text=True,
        env=base_env(),
        cwd=cwd,
    )
    chunks: list[bytes] = []
    reader = None
    if terminal:
        os.close(stderr_end)

        def drain() -> None:
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the other end is closed
                    return
                if not chunk:
                    return
                chunks.append(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
    try:
        running = Running(process)
        when(running)
        assert process.poll() is None, "it ended before the interruption"
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=TIMEOUT)
        stdout = running.rest()
        stderr = process.stderr.read() if process.stderr is not None else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stderr):
            if stream is not None:
                stream.close()
        if reader is not None:
            reader.join(timeout=5)
            os.close(controller)
    if terminal:
        stderr = b"".join(chunks).decode(errors="replace")
    return Interrupted(returncode, stdout, stderr)


def start_received(fake: FakeTycho) -> Callable[[Running], None]:
    def received(_: Running) -> None:
        until(lambda: any(r.operation == "start" for r in fake.requests), "the start arrive")

    return received


def printed(fake: FakeTycho, polls: int = 1) -> Callable[[Running], None]:
    """Wait for the first line on stdout (the GUID of ``up -q``), then for ``polls`` status
    requests of ``--wait``."""

    def waiting(running: Running) -> None:
        running.line()
        until(lambda: sum(r.operation == "status" for r in fake.requests) >= polls, "a poll")

    return waiting


@pytest.fixture
def slow(fake: FakeTycho) -> Iterator[FakeTycho]:
    """A fake whose answers take 3 s: a start is received, then in flight."""
    fake.latency = 3.0
    yield fake
    fake.latency = 0.0


# ---------------------------------------------------------------------------- the start in flight

SENT = (
    "tycho: interrupted: the start of my-app was sent and may have taken effect: see 'tycho "
    "status my-app', remove it with 'tycho down my-app'"
)


def test_ctrl_c_while_the_start_is_in_flight_says_it_may_have_started(
    slow: FakeTycho, url: str, project: Path
) -> None:
    done = interrupt("up", "--url", url, when=start_received(slow), cwd=project)
    assert done.returncode == 130
    assert done.stdout == ""
    assert done.stderr == SENT + "\n"
    # And so it did: the line sends the person to the system the server made.
    (system,) = slow.systems.values()
    assert system.app_id == "my-app"


def test_the_line_s_advice_works(slow: FakeTycho, url: str, project: Path) -> None:
    interrupt("up", "--url", url, when=start_received(slow), cwd=project)
    slow.latency = 0.0
    (guid,) = slow.systems
    assert tycho("status", "my-app", "--terse", "--url", url).stdout.split() == [guid]
    assert tycho("down", "my-app", "--url", url).stdout.split() == [guid]
    assert slow.systems == {}


def test_with_debug_the_traceback_comes_before_the_line(
    slow: FakeTycho, url: str, project: Path
) -> None:
    done = interrupt("up", "--debug", "--url", url, when=start_received(slow), cwd=project)
    assert done.returncode == 130
    assert "Traceback" in done.stderr
    assert "KeyboardInterrupt" in done.stderr
    assert done.stderr.endswith(SENT + "\n")


# ------------------------------------------------------------------------- the start answered


def test_ctrl_c_during_wait_names_the_system_and_its_removal(
    fake: FakeTycho, url: str, project: Path
) -> None:
    fake.ready_after = 1000
    done = interrupt("up", "--wait", "-q", "--url", url, when=printed(fake), cwd=project)
    (guid,) = fake.systems
    assert done.returncode == 130
    assert done.stdout == f"{guid}\n"  # the GUID came first, as --wait waited
    assert done.stderr == (
        f"tycho: interrupted: my-app-{guid} was started and is left running: remove it with "
        f"'tycho down {guid}'\n"
    )


def test_ctrl_c_during_wait_on_a_terminal_erases_the_progress_first(
    fake: FakeTycho, url: str, project: Path
) -> None:
    fake.ready_after = 1000
    # A second poll: a second after the first, the progress line has been drawn.
    waited = printed(fake, polls=2)
    done = interrupt("up", "--wait", "-q", "--url", url, when=waited, cwd=project, terminal=True)
    (guid,) = fake.systems
    assert done.returncode == 130
    progress, _, last = done.stderr.rpartition("\x1b[K")
    assert "waiting for my-app-" in progress
    assert last.strip() == (
        f"tycho: interrupted: my-app-{guid} was started and is left running: remove it with "
        f"'tycho down {guid}'"
    )
    assert "Traceback" not in done.stderr


def test_wait_running_out_names_the_system_and_its_removal(
    fake: FakeTycho, url: str, project: Path
) -> None:
    fake.ready_after = 1000
    done = tycho("up", "--wait", "--wait-timeout", "0.5", "-q", "--url", url, cwd=project,
                 check=1)  # fmt: skip
    (guid,) = fake.systems
    assert one_error_line(done.stderr) == (
        f"tycho: error: my-app-{guid} not ready within 0.5 s: 0/1 deployments ready; it is left "
        f"running: remove it with 'tycho down {guid}'"
    )


# ----------------------------------------------------------------------- nothing sent yet


def test_ctrl_c_before_anything_was_sent_says_nothing(fake: FakeTycho, url: str) -> None:
    def reading_stdin(_: Running) -> None:
        time.sleep(1.0)  # `up -f -` waits for the compose file on the open pipe

    done = interrupt("up", "-f", "-", "--url", url, when=reading_stdin)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")
    assert fake.requests == []


def test_ctrl_c_of_a_status_says_nothing(slow: FakeTycho, url: str) -> None:
    def asked(_: Running) -> None:
        until(lambda: any(r.operation == "status" for r in slow.requests), "the status arrive")

    done = interrupt("status", "--url", url, when=asked)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")
