"""Build the virtual environments in which real Tycho servers (PyPI ``tycho-api``) run.

    python tests/realserver/setup_server.py                      # tycho-api 1.17.3, once
    python tests/realserver/setup_server.py --release 1.16.1     # another release
    python tests/realserver/setup_server.py --release all        # every release of RELEASES
    python tests/realserver/setup_server.py --check              # exit 0 if built and current
    python tests/realserver/setup_server.py --run [pytest args]  # build if needed, run the suite
    python tests/realserver/setup_server.py --list               # the releases and their state

The release comes from ``--release``, else from ``TYCHO_RELEASE`` (which also selects the server
of a test session), else 1.17.3. Each release gets its own environment,
``.realserver-venvs/<release>/``, with a stamp of what it was built with; it is rebuilt only when
that changes.

tycho-api pins packages that no longer install together (and an old PyYAML that does not build on
current Python), so its dependencies are installed by hand, with the oldest pins that still work,
and tycho-api and docker-compose (imported by tycho-api at start-up) without theirs. Every release
from 1.12.0 on declares the same dependencies, and installs with the same recipe.

tycho-api does not run on Python 3.12 and later as it is (its flasgger imports ``imp``, its
docker-compose ``distutils`` and, from 3.13, ``pipes``). The server's environment is therefore built
with Python 3.10 or 3.11 when one is found, whatever Python runs this script or the tests
(``--python`` or ``TYCHO_SERVER_PYTHON`` name another); failing that, with this Python plus
setuptools (``distutils``) and small stand-ins (``SHIMS``) written into that environment only. An
environment stays current when another Python runs the tests; naming a Python rebuilds it if it
was built with another one.

After building, the server is started once over a fake Kubernetes API and asked for a status:
an environment is stamped as built only if that works. Whatever fails (the package index, the
build, the start) is said in one line, with exit status 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server_process import launch, log_tail, read_port, server_environment, stop
from shims import SHIMS

from tycho_client.releases import DEFAULT_RELEASE, versions

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENVS = ROOT / ".realserver-venvs"
STAMP_NAME = "tycho-client-realserver.stamp"
RELEASE_VARIABLE = "TYCHO_RELEASE"
PYTHON_VARIABLE = "TYCHO_SERVER_PYTHON"
# Bump when the way an environment is built changes (the shim, the smoke check).
RECIPE = "2"

PIP_TIMEOUT = 900.0
SMOKE_TIMEOUT = 30.0
RUN_TIMEOUT = 3600.0

# What tycho-api imports at start-up, pinned to versions that work with its code.
COMMON_DEPENDENCIES = (
    "kubernetes==25.3.0",
    "urllib3<2",
    "Flask==2.0.3",
    "Werkzeug<2.1",
    "Jinja2==3.0.3",
    "MarkupSafe<2.1",
    "jsonschema<4",
    "flask-restful==0.3.9",
    "flasgger==0.9.5",
    "flask-cors==3.0.10",
    "PyYAML>=6,<7",
    "requests<3",
    "requests-cache==0.9.2",
    "deepmerge==1.0.1",
    "netifaces==0.11.0",
    "cryptography",
    "GitPython<4",
    # docker-compose's own imports (it is installed without its dependencies)
    "docker<7",
    "dockerpty",
    "texttable",
    "docopt",
    "python-dotenv",
    "distro",
    "websocket-client",
)
# On Python 3.12 and later: distutils (docker-compose imports it) comes with setuptools.
NEW_PYTHON_DEPENDENCIES = ("setuptools<81",)


@dataclass(frozen=True)
class Release:
    """One tycho-api release: the pins it runs with."""

    version: str
    dependencies: tuple[str, ...] = COMMON_DEPENDENCIES
    docker_compose: str = "docker-compose==1.29.2"

    @property
    def without_dependencies(self) -> tuple[str, ...]:
        return (f"tycho-api=={self.version}", self.docker_compose)


# The releases the suite knows how to run: every release of tycho_client.releases (the one table,
# which docs/internals/releases.md explains); all install with the same recipe.
RELEASES: dict[str, Release] = {version: Release(version) for version in versions()}


class SetupError(Exception):
    """What went wrong, in one line."""


# -- where things are ---------------------------------------------------------------------


def selected_release(environ: Mapping[str, str] | None = None) -> str:
    """The release a test session runs against: ``TYCHO_RELEASE``, else 1.17.3."""
    value = (os.environ if environ is None else environ).get(RELEASE_VARIABLE, "").strip()
    return value or DEFAULT_RELEASE


def release_of(version: str) -> Release:
    try:
        return RELEASES[version]
    except KeyError:
        known = ", ".join(RELEASES)
        raise SetupError(f"unknown tycho-api release {version!r} (known: {known})") from None


def venv_dir(version: str = DEFAULT_RELEASE) -> Path:
    return VENVS / version


def python_path(version: str = DEFAULT_RELEASE) -> Path:
    return venv_dir(version) / "bin" / "python"


def _stamp_path(version: str) -> Path:
    return venv_dir(version) / STAMP_NAME


def _fingerprint(release: Release) -> str:
    text = "\n".join([RECIPE, *release.dependencies, "--no-deps", *release.without_dependencies])
    return hashlib.sha256(text.encode()).hexdigest()


def read_stamp(version: str) -> dict[str, Any] | None:
    try:
        data = json.loads(_stamp_path(version).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_current(version: str = DEFAULT_RELEASE) -> bool:
    """Whether the release's environment is built with its pins and passed its smoke check."""
    if version not in RELEASES:
        return False
    stamp = read_stamp(version)
    return (
        stamp is not None
        and python_path(version).exists()
        and stamp.get("fingerprint") == _fingerprint(RELEASES[version])
    )


# -- the server's interpreter -------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: tuple[int, int, int]

    @property
    def needs_shims(self) -> bool:
        return self.version >= (3, 12)

    @property
    def dotted(self) -> str:
        return ".".join(map(str, self.version))


def _probe(path: str) -> Interpreter | None:
    try:
        result = subprocess.run(
            [path, "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 3:
        return None
    major, minor, micro = (int(part) for part in parts)
    return Interpreter(path, (major, minor, micro))


def _candidates() -> list[str]:
    found: list[str] = []
    for name in ("python3.11", "python3.10"):
        path = shutil.which(name)
        if path:
            found.append(path)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.11", "3.10"):
        found.extend(
            str(p / "bin" / "python")
            for p in sorted(pyenv.glob(f"{minor}.*"), reverse=True)
            if (p / "bin" / "python").exists()
        )
    return found


def choose_interpreter(explicit: str | None = None) -> Interpreter:
    """The Python the server runs on: the one named (``--python``, ``TYCHO_SERVER_PYTHON``),
    else this one if older than 3.12, else a 3.11 or 3.10 found on PATH or under pyenv, else
    this one (with the shims)."""
    named = explicit or os.environ.get(PYTHON_VARIABLE, "").strip() or None
    if named is not None:
        chosen = _probe(shutil.which(named) or named)
        if chosen is None:
            raise SetupError(f"the Python named for the server does not run: {named}")
        if chosen.version < (3, 8):
            raise SetupError(f"tycho-api needs Python 3.8 or later, not {chosen.dotted}: {named}")
        return chosen
    this = Interpreter(sys.executable, tuple(sys.version_info[:3]))  # type: ignore[arg-type]
    if not this.needs_shims:
        return this
    for path in _candidates():
        older = _probe(path)
        if older is not None and (3, 10) <= older.version < (3, 12):
            return older
    return this


# -- building -----------------------------------------------------------------------------


def _last_line(text: str, fallback: str) -> str:
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and "is ignored" not in line and not line.startswith("WARNING: Location")
    ]
    return lines[-1] if lines else fallback


def _pip(version: str, *args: str) -> None:
    command = [str(python_path(version)), "-m", "pip", "install", "--quiet", *args]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=PIP_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise SetupError(f"pip took over {PIP_TIMEOUT:.0f} s to install {' '.join(args)}") from None
    if result.returncode != 0:
        detail = _last_line(result.stderr + result.stdout, f"pip exited {result.returncode}")
        raise SetupError(
            "the package index could not provide the real Tycho server's packages"
            f" ({' '.join(args)}): {detail}"
        )


def _site_packages(version: str) -> Path:
    result = subprocess.run(
        [
            str(python_path(version)),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return Path(result.stdout.strip())


def build(version: str = DEFAULT_RELEASE, python: str | None = None) -> bool:
    """Build (or rebuild) a release's environment unless it is current; smoke-check it.
    Returns whether it was built now. Raises :class:`SetupError`."""
    release = release_of(version)
    interpreter = choose_interpreter(python)
    stamp = read_stamp(version)
    named = python or os.environ.get(PYTHON_VARIABLE)
    if is_current(version) and (
        not named or (stamp is not None and stamp.get("python") == interpreter.dotted)
    ):
        return False
    started = time.monotonic()
    target = venv_dir(version)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        made = subprocess.run(
            [interpreter.path, "-m", "venv", "--clear", str(target)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        raise SetupError(f"python -m venv took over 300 s ({interpreter.path})") from None
    if made.returncode != 0 or not python_path(version).exists():
        detail = _last_line(made.stderr + made.stdout, f"exit {made.returncode}")
        raise SetupError(f"could not create {target} with {interpreter.path}: {detail}")
    extra = NEW_PYTHON_DEPENDENCIES if interpreter.needs_shims else ()
    _pip(version, *release.dependencies, *extra)
    _pip(version, "--no-deps", *release.without_dependencies)
    for module, removed_in, text in SHIMS:
        if interpreter.version[:2] >= removed_in:
            (_site_packages(version) / f"{module}.py").write_text(text)
    smoke(version)
    _stamp_path(version).write_text(
        json.dumps(
            {
                "fingerprint": _fingerprint(release),
                "release": version,
                "python": interpreter.dotted,
                "interpreter": interpreter.path,
                "shims": interpreter.needs_shims,
                "built_seconds": round(time.monotonic() - started, 1),
            },
            indent=2,
        )
        + "\n"
    )
    return True


# -- the smoke check ------------------------------------------------------------------


def smoke(version: str) -> None:
    """Start the release's server over a fake Kubernetes API and ask it for a status."""
    sys.path.insert(0, str(HERE.parent))
    from k8s_cluster import FakeKubeCluster
    from k8s_fake import write_kubeconfig

    with tempfile.TemporaryDirectory(prefix="tycho-smoke-") as folder, FakeKubeCluster() as cluster:
        work = Path(folder)
        kubeconfig = write_kubeconfig(work / "kubeconfig", {"fake": cluster.url}, current="fake")
        log_path = work / "tycho-api.log"
        with log_path.open("w", encoding="utf-8") as log:
            environment = server_environment(kubeconfig, work / "bin")
            process = launch(python_path(version), environment, work, log)
        try:
            try:
                port = read_port(process)
            except RuntimeError as exc:
                raise SetupError(
                    f"tycho-api {version} does not start in {venv_dir(version)}: {exc}: "
                    f"{log_tail(log_path)}"
                ) from None
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/system/status",
                data=b"{}",
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=SMOKE_TIMEOUT) as answer:
                    body = json.loads(answer.read())
            except (OSError, ValueError) as exc:
                raise SetupError(
                    f"tycho-api {version} started but did not answer a status: {exc}: "
                    f"{log_tail(log_path)}"
                ) from None
            if not isinstance(body, dict) or body.get("status") != "success":
                raise SetupError(f"tycho-api {version} answered a status with {body!r:.300}")
        finally:
            stop(process)


# -- the command --------------------------------------------------------------------------


def _versions(requested: Sequence[str]) -> list[str]:
    versions: list[str] = []
    for item in requested:
        for version in item.split(","):
            version = version.strip()
            if version == "all":
                versions.extend(RELEASES)
            elif version:
                versions.append(release_of(version).version)
    return list(dict.fromkeys(versions))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--release",
        action="append",
        default=[],
        help=f"tycho-api release(s), comma-separated or 'all' (default: ${RELEASE_VARIABLE},"
        f" else {DEFAULT_RELEASE})",
    )
    parser.add_argument(
        "--python", help=f"the Python the server runs on (default: ${PYTHON_VARIABLE}, or found)"
    )
    parser.add_argument("--check", action="store_true", help="only say whether they are built")
    parser.add_argument("--list", action="store_true", help="list the releases and their state")
    parser.add_argument(
        "--run", action="store_true", help="then run the real-server suite (more args: pytest's)"
    )
    args, pytest_args = parser.parse_known_args(argv)
    try:
        versions = _versions(args.release or [selected_release()])
        if args.list:
            for version in RELEASES:
                stamp = read_stamp(version) if is_current(version) else None
                state = (
                    f"built, Python {stamp['python']}, {stamp['built_seconds']} s"
                    if stamp
                    else "not built"
                )
                print(f"{version:28} {state}")
            return
        if args.check:
            raise SystemExit(0 if all(is_current(v) for v in versions) else 1)
        for version in versions:
            built = build(version, args.python)
            stamp = read_stamp(version) or {}
            where = venv_dir(version).relative_to(ROOT)
            if built:
                print(
                    f"setup_server: built {where} (tycho-api {version}, Python"
                    f" {stamp.get('python')}, {stamp.get('built_seconds')} s), and it starts"
                )
            else:
                print(f"setup_server: {where} is current (tycho-api {version})")
    except SetupError as exc:
        raise SystemExit(f"setup_server: {exc}") from None
    if args.run:
        if len(versions) != 1:
            raise SystemExit("setup_server: --run takes one release")
        env = {**os.environ, RELEASE_VARIABLE: versions[0]}
        suite = [sys.executable, "-m", "pytest", str(HERE), *pytest_args]
        try:
            done = subprocess.run(suite, cwd=ROOT, env=env, check=False, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"setup_server: the suite ran over {RUN_TIMEOUT:.0f} s") from None
        raise SystemExit(done.returncode)


if __name__ == "__main__":
    main()
