"""Helpers of the CLI tests (no tests here): the installed ``tycho`` run in a subprocess, on
pipes or on a pseudo-terminal, against a FakeTycho that this test process serves on 127.0.0.1.

Subprocesses get an environment without TYCHO_URL/TYCHO_TOKEN and with KUBECONFIG pointing at a
missing file, so no test reaches a real cluster or server, and with a state folder that cannot be
made (under /dev/null), so that no test writes to the developer's home and notes shown once per
terminal session are shown every time unless a test gives a folder of its own.
"""

from __future__ import annotations

import os
import pty
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tycho_client.client import TychoClient
from tycho_client.testing.fake import FakeTycho

TYCHO = Path(sys.executable).parent / "tycho"
TIMEOUT = 60
CANARY = "canary-9f3e1d-not-for-output"
GUID_PATTERN = r"[0-9a-f]{32}"

# Settings of the developer's shell that must not reach the CLI under test. Without
# PYTHONDONTWRITEBYTECODE, runs use bytecode caches as an installed package does (~0.2 s less).
DROPPED_ENV = ("TYCHO_URL", "TYCHO_TOKEN", "KUBERNETES_SERVICE_HOST", "PYTHONDONTWRITEBYTECODE")


NO_STATE = "/dev/null/tycho-state"  # a folder that cannot be made, even by root


def base_env(tmp: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env["KUBECONFIG"] = str((tmp or Path("/nonexistent")) / "no-kubeconfig")
    env["TYCHO_USERNAME"] = "cli-tester"
    env["XDG_STATE_HOME"] = NO_STATE
    return env


def tycho(
    *args: str,
    env: Mapping[str, str] | None = None,
    check: int | None = 0,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script on pipes; assert its exit code unless ``check`` is None."""
    done = subprocess.run(
        [str(TYCHO), *args],
        capture_output=True,
        text=True,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        env=dict(env) if env is not None else base_env(),
        timeout=timeout,
        cwd=cwd,
    )
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    stdout: str  # what went to a pipe ("" for the streams on the terminal)
    stderr: str
    terminal: str  # everything written to the pseudo-terminal


def in_terminal(
    *args: str,
    on_terminal: Sequence[str] = ("stderr",),
    typed: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
    new_session: bool = False,
) -> TerminalRun:
    """Run ``tycho`` with the streams named in ``on_terminal`` on a pseudo-terminal (the others
    on pipes; stdin is /dev/null unless on the terminal), after typing ``typed`` into it; in a
    process session of its own with ``new_session`` (else in this process's session)."""
    controller, terminal = pty.openpty()
    streams = {
        name: terminal if name in on_terminal else subprocess.PIPE for name in ("stdout", "stderr")
    }
    stdin = terminal if "stdin" in on_terminal else subprocess.DEVNULL
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    try:
        process = subprocess.Popen(
            [str(TYCHO), *args],
            stdin=stdin,
            text=True,
            env=dict(env) if env is not None else base_env(),
            start_new_session=new_session,
            **streams,  # type: ignore[arg-type]
        )
        os.close(terminal)
        terminal = -1
        reader.start()
        if typed:
            os.write(controller, typed.encode())
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=5)
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    return TerminalRun(
        process.returncode, stdout or "", stderr or "", b"".join(chunks).decode(errors="replace")
    )


class Lines:
    """The lines of a child's text pipe, read by a thread, so that waiting for the next one can
    fail after a timeout instead of hanging (select() would not see lines already buffered)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")  # end of file

    def next(self, timeout: float = 20.0) -> str:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s") from None


def one_error_line(stderr: str) -> str:
    """stderr holds exactly one line, ``tycho: error: ...``, and no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tycho: error: ")
    assert "Traceback" not in stderr
    return lines[0]


def start(fake: FakeTycho, name: str, port: str = "80") -> str:
    """Start a system on the fake directly (no subprocess); its GUID."""
    system = {"services": {name: {"image": "nginx", "ports": [port]}}}
    with TychoClient("http://fake.test", transport=fake) as client:
        return client.up(name, system).result.sid


def serve_fake() -> Iterator[tuple[FakeTycho, str]]:
    """A FakeTycho on a loopback port, for a module-scoped fixture."""
    fake = FakeTycho()
    with fake.serve() as url:
        yield fake, url


def fresh(fake: FakeTycho) -> FakeTycho:
    """``fake`` as a new real server would be: no systems, no modify route, ready at once."""
    fake.reset()
    fake.ready_after = 0
    fake.latency = 0.0
    fake.modify_supported = False
    return fake
