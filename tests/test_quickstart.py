"""The README's first quick-start command: examples/quickstart.sh against `tycho mock`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUID = re.compile(r"\b[0-9a-f]{32}\b")


def test_quickstart_runs_up_status_down_against_the_fake() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TYCHO_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["KUBECONFIG"] = str(ROOT / "no-such-kubeconfig")
    done = subprocess.run(
        ["bash", str(ROOT / "examples" / "quickstart.sh")],
        capture_output=True, text=True, env=env, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("# fake Tycho at http://127.0.0.1:")
    assert lines[1] == "ok: examples/jupyter-ds/docker-compose.yaml"  # tycho validate
    up_header, up_row = lines[2:4]
    assert up_header.split() == ["SERVICE", "GUID", "IP_ADDRESS", "NODE_PORT"]
    (guid,) = GUID.findall(up_row)
    assert up_row.split()[0] == "jupyter-ds"
    status_header, status_row = lines[4:6]
    assert status_header.split()[:2] == ["SYSTEM", "GUID"]
    assert status_row.split()[0] == "jupyter-ds"
    assert GUID.findall(status_row) == [guid]
    assert lines[6:] == [guid]  # `down jupyter-ds` prints the GUID it deleted; then nothing runs:
    assert done.stderr.rstrip().endswith("No systems running.\n+ set +x")
    assert "Traceback" not in done.stderr
