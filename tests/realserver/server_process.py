"""Run a real Tycho server (tycho-api, in an environment built by ``setup_server.py``): its
environment, its process, the port it listens on. Used by the suite's fixtures, the smoke check
of ``setup_server.py`` and ``probe_releases.py``."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 60.0


def server_environment(
    kubeconfig: Path, bin_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The server's environment: this one less Kubernetes', Tycho's and Python's variables,
    plus ``KUBECONFIG``, ``NAMESPACE=default`` and ``extra``. ``bin_dir`` (first on PATH) gets
    a ``kubectl`` that does nothing: tycho-api up to 1.14.0 runs ``kubectl port-forward`` for
    every start outside an ambassador context, which must not reach anything from a test."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    stub = bin_dir / "kubectl"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBERNETES_", "TYCHO_", "PYTHON", "AMBASSADOR_"))
        and key != "NAMESPACE"
    }
    env.update(
        {
            "KUBECONFIG": str(kubeconfig),
            "PYTHONUNBUFFERED": "1",
            "NAMESPACE": "default",
            "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)]),
        }
    )
    env.update(extra or {})
    return env


def launch(python: Path, env: Mapping[str, str], cwd: Path, log: IO[str]) -> subprocess.Popen[str]:
    """Start ``serve_tycho.py`` with the ``python`` of a release's environment (stdout piped,
    stderr to ``log``)."""
    return subprocess.Popen(
        [str(python), str(HERE / "serve_tycho.py")],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )


def read_port(process: subprocess.Popen[str], timeout: float = START_TIMEOUT) -> int:
    """The port ``serve_tycho.py`` prints once it listens; RuntimeError if it does not."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                raise RuntimeError(f"tycho-api exited ({process.returncode})") from None
            continue
        if line.startswith("PORT "):
            return int(line.split()[1])
    raise RuntimeError(f"tycho-api did not listen within {timeout:.0f} s")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def log_tail(path: Path, lines: int = 1) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    found = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(found[-lines:]) or "(no output)"
