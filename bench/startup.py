"""Start-up cost of the ``tycho`` command: median wall time and peak RSS per run.

Runs each command ``--runs`` times in a fresh process (after one warm-up run that fills the
bytecode cache) and measures every child on its own: wall time around ``fork``/``exec``/``wait``,
peak RSS from ``os.wait4``'s rusage of that child. ``tycho status`` talks to a FakeTycho (with
one system) on a loopback port served by this process. Prints a markdown table.

    python bench/startup.py [--runs 20]

Targets: ``tycho --help`` <= 0.08 s and <= 20 MB; ``tycho status --url`` <= 0.20 s and <= 45 MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

TARGETS = {"tycho --help": (0.08, 20.0), "tycho status --url <fake>": (0.20, 45.0)}


def tycho_script() -> str:
    """The console script installed beside this interpreter."""
    script = Path(sys.executable).parent / "tycho"
    if not script.is_file():
        sys.exit(f"no tycho script at {script}: pip install -e . first")
    return str(script)


# Peak RSS is read with os.wait4 in a minimal launcher process, not here: a child's ru_maxrss
# includes the memory of the process it was forked from (kept across exec), and this process
# holds a FakeTycho with pydantic loaded. The launcher (python -S -I, only os/sys/time) is
# smaller than any Python program measured, so it does not inflate the figures.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``argv``; it must exit 0."""
    launched = subprocess.run(
        [sys.executable, "-S", "-I", "-c", LAUNCHER, *argv],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    seconds, maxrss, code = launched.stdout.split()
    if int(code) != 0:
        sys.exit(f"{' '.join(argv)} exited {code}: {launched.stderr.strip()}")
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    rss_bytes = int(maxrss) if sys.platform == "darwin" else int(maxrss) * 1024
    return float(seconds), rss_bytes / 1e6


def bench(argv: Sequence[str], runs: int) -> tuple[float, float]:
    # Measure what an installed package gives: cached bytecode (a wheel install compiles it;
    # an editable install writes it on first run, unless PYTHONDONTWRITEBYTECODE forbids it).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    measure(argv, env)  # warm-up: bytecode caches, page cache
    samples = [measure(argv, env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    from tycho_client.client import TychoClient
    from tycho_client.testing.fake import FakeTycho

    tycho = tycho_script()
    fake = FakeTycho()
    with fake.serve() as url:
        # One running system, so that `status` parses and renders a row.
        with TychoClient(url, transport=fake) as client:
            client.up("bench", {"services": {"web": {"image": "nginx", "ports": ["80"]}}})
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            # What a command that talks to the server pays before any of our code runs (httpx's
            # own CLI kept out, as tycho does, in case click and rich are installed).
            "python -c 'import httpx, pydantic.main'": [
                sys.executable,
                "-c",
                "import sys; sys.modules['httpx._main'] = None; import httpx, pydantic.main",
            ],
            "tycho --help": [tycho, "--help"],
            "tycho status --url <fake>": [tycho, "status", "--url", url],
        }
        rows = [(name, *bench(argv, options.runs)) for name, argv in commands.items()]

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"median of {options.runs} runs, peak RSS the largest of them.\n"
    )
    print("| command | median wall time | peak RSS | target |")
    print("|---|---:|---:|---|")
    for name, seconds, megabytes in rows:
        target = TARGETS.get(name)
        if target:
            missed = [
                what
                for what, ok in (("time", seconds <= target[0]), ("memory", megabytes <= target[1]))
                if not ok
            ]
            result = " and ".join(missed) + " MISSED" if missed else "met"
            verdict = f"<= {target[0]:.2f} s, <= {target[1]:.0f} MB: {result}"
        else:
            verdict = "baseline" if name.endswith("pass") else "floor of `status`"
        print(f"| `{name}` | {seconds:.3f} s | {megabytes:.1f} MB | {verdict} |")


if __name__ == "__main__":
    main()
