"""The real-server suite against every release of the CI matrix.

    python tests/realserver/matrix.py --list         # the matrix: each release's runs
    python tests/realserver/matrix.py --build        # build every release the matrix runs
    python tests/realserver/matrix.py --run          # every run but the default release's full one
    python tests/realserver/matrix.py --run --all    # that one too

The matrix is the ``ci`` column of ``tycho_client.releases.RELEASES`` (the one table): 1.17.3 in
full, the others (1.12.0, 1.16.1 for 1.14.0 - 1.17.1, 1.17.2, and the 2024 build with and without
``AMBASSADOR_SVC_NAME``) as the subset (``REALSERVER_SUITE=subset``: fewer property examples).
``.ci/run`` builds them all, runs ``python -m pytest`` (every test, the real-server suite on 1.17.3
in full among them), then ``--run``. Each run is a separate pytest process with its own server;
one line per run says how it went and how long it took; exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import setup_server  # noqa: E402
from realserver import SUITE_VARIABLE  # noqa: E402

from tycho_client.releases import DEFAULT_RELEASE, RELEASES, CiRun  # noqa: E402

RUN_TIMEOUT = 1200.0
"""A run that takes longer is stopped and counted as failed."""


def runs(include_default: bool) -> list[tuple[str, CiRun]]:
    """Every (release, run) of the matrix, the default release's full run only if asked."""
    return [
        (release.version, run)
        for release in RELEASES
        for run in release.ci
        if include_default or not (release.version == DEFAULT_RELEASE and run.suite == "full")
    ]


def _run(version: str, run: CiRun, pytest_args: Sequence[str]) -> tuple[int, float]:
    env = {
        **os.environ,
        setup_server.RELEASE_VARIABLE: version,
        SUITE_VARIABLE: run.suite,
        "TYCHO_SERVER_ENV": " ".join(f"{key}={value}" for key, value in run.environment.items()),
    }
    command = [sys.executable, "-m", "pytest", str(HERE), "-q", *pytest_args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=setup_server.ROOT, env=env, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"matrix: tycho-api {version} ({run.label}) ran over {RUN_TIMEOUT:.0f} s")
        return 124, time.monotonic() - started
    return done.returncode, time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the matrix")
    parser.add_argument("--build", action="store_true", help="build every release it runs")
    parser.add_argument("--run", action="store_true", help="run it (more args: pytest's)")
    parser.add_argument("--all", action="store_true", help="with the default release's full run")
    args, pytest_args = parser.parse_known_args(argv)
    chosen = runs(args.all or args.list)
    if args.list:
        for version, run in chosen:
            print(f"{version:28} {run.label}")
    if args.build:
        for version in dict.fromkeys(version for version, _ in runs(True)):
            try:
                built = setup_server.build(version)
            except setup_server.SetupError as exc:
                print(f"matrix: {exc}")
                return 1
            print(f"matrix: tycho-api {version} {'built' if built else 'is current'}")
    if not args.run:
        return 0
    results = []
    for version, run in chosen:
        print(f"== matrix: tycho-api {version}, {run.label}", flush=True)
        code, seconds = _run(version, run, pytest_args)
        results.append((version, run, code, seconds))
    print("== matrix results")
    for version, run, code, seconds in results:
        verdict = "passed" if code == 0 else f"FAILED (exit {code})"
        print(f"   tycho-api {version:26} {run.label:55} {verdict:18} {seconds:6.0f} s")
    return 0 if all(code == 0 for *_, code, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
