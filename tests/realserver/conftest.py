"""Fixtures of the real-server suite: a real tycho-api, on loopback, over a fake Kubernetes.

The release is ``TYCHO_RELEASE`` (default 1.17.3; ``setup_server.py --release`` builds the others;
how each behaves is ``tycho_client.releases``, the one table the tests read their expectations
from). ``TYCHO_SERVER_ENV`` adds variables to the server's environment, as whitespace-separated
``NAME=value`` words (``AMBASSADOR_SVC_NAME=ambassador`` for the 2024 development builds).
``REALSERVER_SUITE=subset`` (what ``matrix.py`` runs for the releases other than 1.17.3) makes
the property tests draw fewer examples (:func:`examples`); ``REALSERVER_EXAMPLES`` sets the
number outright. The long runs (``slow``) are left out unless ``-m slow`` asks for them.

``real_tycho`` (session) starts :class:`k8s_cluster.FakeKubeCluster`, writes a kubeconfig for it
and runs tycho-api from ``.realserver-venvs/<release>`` (built by ``setup_server.py``) on a free
loopback port. Each test gets the cluster emptied and the ``ambassador`` Service present (tycho-api
then skips its 3-second sleep per start); ``real_tycho.without_ambassador()`` turns that off.

Without the environment the suite is skipped locally, with the command that builds it; in CI
(``CI=true``) it fails instead: the contract is never silently unproven there. An environment
that is built but whose server does not start fails the suite everywhere: the set-up step
checked that it starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_cluster import FakeKubeCluster
from k8s_fake import write_kubeconfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import setup_server  # noqa: E402
from realserver import RealTycho, examples, suite  # noqa: E402
from server_process import launch, log_tail, read_port, server_environment, stop  # noqa: E402

SERVER_ENV_VARIABLE = "TYCHO_SERVER_ENV"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realserver: runs against the real tycho-api server")


def pytest_report_header(config: pytest.Config) -> str:
    extra = os.environ.get(SERVER_ENV_VARIABLE, "").strip()
    return (
        f"real server: tycho-api {setup_server.selected_release()}"
        + (f" with {extra}" if extra else "")
        + f"; {suite()} suite, {examples()} start examples"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The long runs are for local use: only an explicit `-m slow` selects them. Deselected, not
    # skipped: the suite reports no skip for what it does not mean to run.
    if "slow" in (config.option.markexpr or ""):
        return
    long_runs = [i for i in items if i.get_closest_marker("slow") and "realserver" in i.nodeid]
    if long_runs:
        config.hook.pytest_deselected(items=long_runs)
        items[:] = [item for item in items if item not in long_runs]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str, release: str) -> None:
    command = "python tests/realserver/setup_server.py" + (
        "" if release == setup_server.DEFAULT_RELEASE else f" --release {release}"
    )
    if _in_ci():
        pytest.fail(f"the real Tycho server is not available in CI: {reason}", pytrace=False)
    pytest.skip(f"the real Tycho server is not available ({reason}); set it up with: {command}")


def server_variables() -> dict[str, str]:
    """``TYCHO_SERVER_ENV``'s ``NAME=value`` words."""
    variables = {}
    for word in os.environ.get(SERVER_ENV_VARIABLE, "").split():
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise pytest.UsageError(f"{SERVER_ENV_VARIABLE}: {word!r} is not NAME=value")
        variables[name] = value
    return variables


@pytest.fixture(scope="session")
def real_tycho_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTycho]:
    release = setup_server.selected_release()
    if release not in setup_server.RELEASES:
        known = ", ".join(setup_server.RELEASES)
        raise pytest.UsageError(f"{setup_server.RELEASE_VARIABLE}={release}: not one of {known}")
    if not setup_server.is_current(release):
        where = setup_server.venv_dir(release).relative_to(setup_server.ROOT)
        _unavailable(f"{where} is missing or out of date", release)
    variables = server_variables()
    work = tmp_path_factory.mktemp("realserver")
    cluster = FakeKubeCluster().start()
    kubeconfig = write_kubeconfig(work / "kubeconfig", {"fake": cluster.url}, current="fake")
    log_path = work / "tycho-api.log"
    env = server_environment(kubeconfig, work / "bin", variables)
    with log_path.open("w", encoding="utf-8") as log:
        process = launch(setup_server.python_path(release), env, work, log)
    try:
        try:
            port = read_port(process)
        except RuntimeError as exc:
            pytest.fail(
                f"tycho-api {release} did not start: {exc}: {log_tail(log_path, 3)}",
                pytrace=False,
            )
        yield RealTycho(f"http://127.0.0.1:{port}", cluster, log_path, release, variables)
    finally:
        stop(process)
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
