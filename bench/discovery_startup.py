"""Start-up cost of ``tycho status`` through Kubernetes discovery, against ``tycho status --url``.

Serves a FakeTycho (one system) and the fake Kubernetes API of ``tests/k8s_fake.py`` on loopback
ports; the fake's Service points at the FakeTycho through a LoadBalancer ingress, and a kubeconfig
(bearer token, plain HTTP) points at the fake. Runs the two commands alternately, ``--runs``
times each after one warm-up run, each in a fresh process measured as ``bench/startup.py`` does
(wall time around fork/exec/wait, peak RSS from ``os.wait4``). Prints a markdown table.

    python bench/discovery_startup.py [--runs 15]

Target: discovery costs at most ``MAX_EXTRA_SECONDS`` more than ``--url``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR), str(BENCH_DIR.parent / "tests")]

from k8s_fake import FakeKubeAPI, make_service, service_port, write_kubeconfig  # noqa: E402
from startup import measure, tycho_script  # noqa: E402

MAX_EXTRA_SECONDS = 0.15
URL_ROW = "tycho status --url <fake>"
DISCOVERY_ROW = "tycho status (discovery)"


def run(runs: int) -> dict[str, tuple[float, float]]:
    """``{command: (median seconds, peak MB)}`` of ``--url`` and discovery, interleaved ``runs``
    times; for bench/run.py to call."""
    from tycho_client.client import TychoClient
    from tycho_client.testing.fake import FakeTycho

    tycho = tycho_script()
    fake = FakeTycho()
    with (
        fake.serve() as url,
        FakeKubeAPI() as kube,
        tempfile.TemporaryDirectory() as tmp,
    ):
        with TychoClient(url, transport=fake) as client:
            client.up("bench", {"services": {"web": {"image": "nginx", "ports": ["80"]}}})
        port = urlsplit(url).port
        assert port is not None
        kube.add_service(
            make_service(
                type="LoadBalancer",
                ports=[service_port(port, name="http")],
                ingress=[{"ip": "127.0.0.1"}],
            )
        )
        kubeconfig = write_kubeconfig(
            Path(tmp) / "kubeconfig", {"bench": kube.url}, current="bench"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONDONTWRITEBYTECODE", "TYCHO_URL", "KUBERNETES_SERVICE_HOST")
        }
        env["KUBECONFIG"] = str(kubeconfig)
        commands = {
            URL_ROW: [tycho, "status", "--url", url],
            DISCOVERY_ROW: [tycho, "status"],
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for argv in commands.values():
            measure(argv, env)  # warm-up: bytecode caches, page cache
        # Interleaved, so that a change in the machine's load hits both commands alike.
        for _ in range(runs):
            for name, argv in commands.items():
                samples[name].append(measure(argv, env))
        asked = len(kube.requests)
        assert asked >= runs + 1, f"discovery asked the fake Kubernetes API {asked} times"
    return {
        name: (statistics.median(s[0] for s in taken), max(s[1] for s in taken))
        for name, taken in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    rows = run(options.runs)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; median of {options.runs} interleaved runs, "
        "peak RSS the largest of them.\n"
    )
    print("| command | median wall time | peak RSS |")
    print("|---|---:|---:|")
    for name, (seconds, megabytes) in rows.items():
        print(f"| `{name}` | {seconds:.3f} s | {megabytes:.1f} MB |")
    extra = rows[DISCOVERY_ROW][0] - rows[URL_ROW][0]
    verdict = "met" if extra <= MAX_EXTRA_SECONDS else "MISSED"
    print(f"\ndiscovery costs {extra:+.3f} s (target <= +{MAX_EXTRA_SECONDS:.2f} s: {verdict})")


if __name__ == "__main__":
    main()
