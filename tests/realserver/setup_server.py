"""Build the virtual environment in which the real Tycho server (PyPI ``tycho-api`` 1.17.3) runs.

    python tests/realserver/setup_server.py          # builds .realserver-venv, once
    python tests/realserver/setup_server.py --check  # exit 0 if it is built and current
    python tests/realserver/setup_server.py --run    # builds it if needed, runs the suite

tycho-api 1.17.3 pins packages that no longer install together (and an old PyYAML that does not
build on current Python), so its dependencies are installed by hand, with the oldest pins that
still work, and tycho-api and docker-compose (imported by tycho-api at start-up) without theirs.
The environment is rebuilt only when the pins below change: a stamp file records them.

Everything comes from the package index through pip; when the index cannot serve a package, this
script says so in one line and exits 1.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".realserver-venv"
STAMP = VENV / "tycho-client-realserver.stamp"
TYCHO_API_VERSION = "1.17.3"

# What tycho-api imports at start-up, pinned to versions that work with its code.
DEPENDENCIES = [
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
]
WITHOUT_DEPENDENCIES = [f"tycho-api=={TYCHO_API_VERSION}", "docker-compose==1.29.2"]


def python_path() -> Path:
    return VENV / "bin" / "python"


def _fingerprint() -> str:
    text = "\n".join([sys.version, *DEPENDENCIES, "--no-deps", *WITHOUT_DEPENDENCIES])
    return hashlib.sha256(text.encode()).hexdigest()


def is_current() -> bool:
    """Whether the environment is built with the pins above."""
    try:
        return python_path().exists() and STAMP.read_text().strip() == _fingerprint()
    except OSError:
        return False


def _pip(*args: str) -> None:
    command = [str(python_path()), "-m", "pip", "install", "--quiet", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [
            line
            for line in (result.stderr + result.stdout).splitlines()
            if line.strip() and "is ignored" not in line
        ]
        detail = lines[-1] if lines else f"pip exited {result.returncode}"
        raise SystemExit(
            "setup_server: the package index could not provide the real Tycho server's packages"
            f" ({' '.join(args)}): {detail}"
        )


def build() -> None:
    """Build (or rebuild) the environment unless it is current."""
    if is_current():
        print(f"setup_server: {VENV.name} is current (tycho-api {TYCHO_API_VERSION})")
        return
    shutil.rmtree(VENV, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    _pip(*DEPENDENCIES)
    _pip("--no-deps", *WITHOUT_DEPENDENCIES)
    check = subprocess.run(
        [str(python_path()), "-c", "import flask, kubernetes, tycho.model, tycho.kube"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        tail = check.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"setup_server: tycho-api does not import: {tail[0]}")
    STAMP.write_text(_fingerprint() + "\n")
    print(f"setup_server: built {VENV.name} (tycho-api {TYCHO_API_VERSION})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is built")
    parser.add_argument(
        "--run", action="store_true", help="then run the real-server suite (more args: pytest's)"
    )
    args, pytest_args = parser.parse_known_args()
    if args.check:
        raise SystemExit(0 if is_current() else 1)
    build()
    if args.run:
        suite = [sys.executable, "-m", "pytest", str(Path(__file__).parent), *pytest_args]
        raise SystemExit(subprocess.run(suite, cwd=ROOT, check=False).returncode)


if __name__ == "__main__":
    main()
