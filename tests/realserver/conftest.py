"""Fixtures of the real-server suite: tycho-api 1.17.3 itself, on loopback, over a fake Kubernetes.

``real_tycho`` (session) starts :class:`k8s_cluster.FakeKubeCluster`, writes a kubeconfig for it
and runs tycho-api from ``.realserver-venv`` (built by ``setup_server.py``) on a free loopback
port. Each test gets the cluster emptied and the ``ambassador`` Service present (tycho-api then
skips its 3-second sleep per start); ``real_tycho.without_ambassador()`` turns that off.

Without the environment the suite is skipped locally, with the command that builds it; in CI
(``CI=true``) it fails instead: the contract is never silently unproven there.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_cluster import FakeKubeCluster
from k8s_fake import write_kubeconfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import setup_server  # noqa: E402
from realserver import RealTycho  # noqa: E402

START_DEADLINE = 60.0
SETUP_COMMAND = "python tests/realserver/setup_server.py"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realserver: runs against the real tycho-api server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The long runs are for local use: only an explicit `-m slow` selects them.
    if "slow" in (config.option.markexpr or ""):
        return
    for item in items:
        if item.get_closest_marker("slow") and "realserver" in item.nodeid:
            item.add_marker(pytest.mark.skip(reason="long run: select it with -m slow"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"the real Tycho server is not available in CI: {reason}", pytrace=False)
    pytest.skip(
        f"the real Tycho server is not available ({reason}); set it up with: {SETUP_COMMAND}"
    )


def _read_port(process: subprocess.Popen[str], deadline: float) -> int:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith("PORT "):
            return int(line.split()[1])
    raise RuntimeError("tycho-api did not start listening")


@pytest.fixture(scope="session")
def real_tycho_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTycho]:
    if not setup_server.is_current():
        _unavailable(f"{setup_server.VENV.name} is missing or out of date")
    work = tmp_path_factory.mktemp("realserver")
    cluster = FakeKubeCluster().start()
    kubeconfig = write_kubeconfig(work / "kubeconfig", {"fake": cluster.url}, current="fake")
    log_path = work / "tycho-api.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBERNETES_", "TYCHO_", "PYTHON")) and key != "NAMESPACE"
    }
    env.update({"KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1", "NAMESPACE": "default"})
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(setup_server.python_path()), str(HERE / "serve_tycho.py")],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        try:
            port = _read_port(process, time.monotonic() + START_DEADLINE)
        except RuntimeError as exc:
            process.kill()
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            _unavailable(f"{exc}: {' | '.join(tail)}")
        yield RealTycho(f"http://127.0.0.1:{port}", cluster, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        cluster.stop()


@pytest.fixture
def real_tycho(real_tycho_session: RealTycho) -> Iterator[RealTycho]:
    """The real server with an empty cluster (but for the ``ambassador`` Service)."""
    cluster = real_tycho_session.cluster
    cluster.reset()
    cluster.ready = None
    cluster.add_ambassador()
    yield real_tycho_session
    cluster.reset()
