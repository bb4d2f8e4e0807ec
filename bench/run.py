"""The performance suite of tycho-client: every figure beside its floor, measured in one run.

    python bench/run.py [--runs N] [--quick] [--only P1,P3]

- P1 start-up of the ``tycho`` command (wall time, peak RSS), beside ``python -c pass`` and a
  minimal script doing the same job (bench/minimal_client.py).
- P2 one ``TychoClient.status()`` call, beside raw ``httpx.Client.post(...).json()``.
- P3 parsing a 10,000-system status answer, beside ``json.loads`` and a minimal pydantic model.
- P4 1,000 ``asyncio.gather``-ed ``AsyncTychoClient.status()`` calls, beside raw
  ``httpx.AsyncClient`` with the same limits.

Figures are medians of interleaved runs (each round runs every variant once, in a shuffled
order), so that a change in the machine's load moves a figure and its floor together. Writes
bench/results.json and prints a markdown table and the targets, met or missed. The method is
described in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.json"
PARTS = ("P1", "P2", "P3", "P4")

# Settings of the developer's shell that must not reach a measured command. Without
# PYTHONDONTWRITEBYTECODE the runs use bytecode caches, as an installed package does.
DROPPED_ENV = ("TYCHO_URL", "TYCHO_TOKEN", "KUBERNETES_SERVICE_HOST", "PYTHONDONTWRITEBYTECODE")
COMMAND_TIMEOUT = 60.0  # seconds one measured command may take before it counts as failed
P4_CALLS = 1000
P4_TIMEOUT = 300.0  # seconds one P4 trial may take
RAW_TIMEOUT = 120.0  # raw httpx's timeouts in P4: long enough that its queue does not fail calls


# ---------------------------------------------------------------------------------- results


@dataclass
class Row:
    """One figure beside its floor(s)."""

    part: str
    case: str
    unit: str
    value: float | None
    floors: dict[str, float | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    # figure / floor, the median of the ratios within each round (robust to load that drifts)
    ratios: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Target:
    part: str
    what: str
    figure: float | None
    limit: float
    kind: str  # "<=" or ">="

    @property
    def met(self) -> bool | None:
        if self.figure is None:
            return None
        return self.figure <= self.limit if self.kind == "<=" else self.figure >= self.limit


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or floor is None or floor == 0:
        return None
    return value / floor


Samples = list[float | None]  # one per round; None where that round's run failed


def median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def paired(values: Samples, floors: Samples) -> float | None:
    """The median over rounds of value / floor, both from the same round."""
    return median(
        [v / f if v is not None and f else None for v, f in zip(values, floors, strict=True)]
    )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def rounded(samples: dict[str, Samples], scale: float = 1.0) -> dict[str, list[float | None]]:
    """Samples as stored in results.json: scaled, 4 significant digits, None for failures."""
    return {
        name: [None if v is None else float(f"{v * scale:.4g}") for v in values]
        for name, values in samples.items()
    }


def interleaved(variants: dict[str, Callable[[], float | None]], rounds: int) -> dict[str, Samples]:
    """Call each variant once per round, in an order shuffled per round; its samples by name.

    A variant returns one sample, or None when it failed."""
    samples: dict[str, Samples] = {name: [] for name in variants}
    order = list(variants)
    shuffle = random.Random(1)
    for _ in range(rounds):
        shuffle.shuffle(order)
        for name in order:
            samples[name].append(variants[name]())
    return samples


# --------------------------------------------------------------------------- shared fixtures


def compose(index: int) -> dict[str, Any]:
    """A small real-shaped compose app; every third has resource limits (utilization)."""
    web: dict[str, Any] = {"image": "nginx:1.25", "ports": ["8080:80"]}
    if index % 3 == 0:
        web["deploy"] = {"resources": {"limits": {"cpus": "0.5", "memory": "1G"}}}
    services: dict[str, Any] = {"web": web}
    if index % 4 == 0:
        services["db"] = {"image": "postgres:16", "ports": ["5432"]}
    return {"services": services}


def populated_fake(systems: int) -> Any:
    """A FakeTycho running ``systems`` systems, started through the public client."""
    from tycho_client import TychoClient
    from tycho_client.testing import FakeTycho

    fake = FakeTycho()
    with TychoClient("http://tycho.test", transport=fake, username="bench") as client:
        for index in range(systems):
            client.up(f"app{index}", compose(index))
    return fake


def status_body(systems: int) -> bytes:
    """A status answer with ``systems`` systems, as FakeTycho gives it (document-valid).

    Up to 100 systems FakeTycho runs them all; a larger answer repeats its 100 entries with
    fresh names and GUIDs (starting 10,000 systems in the fake takes half a minute)."""
    fake = populated_fake(min(systems, 100))
    with httpx.Client(transport=fake) as raw:
        answer = raw.post("http://tycho.test/system/status", json={}).json()
    entries = answer["result"]
    result = []
    for index in range(systems):
        entry = dict(entries[index % len(entries)])
        sid = f"{index:032x}"
        entry["name"] = f"{entry['app_id']}-{index}-{sid}"
        entry["sid"] = sid
        result.append(entry)
    answer["result"] = result
    return json.dumps(answer).encode("utf-8")


@contextlib.contextmanager
def replay_server(bodies: dict[str, bytes]) -> Iterator[str]:
    """bench/replay_server.py in its own process; yields its base URL (http://127.0.0.1:port)."""
    with tempfile.TemporaryDirectory(prefix="tycho-bench-") as directory:
        for key, body in bodies.items():
            (Path(directory) / f"{key}.json").write_bytes(body)
        server = subprocess.Popen(
            [sys.executable, str(BENCH / "replay_server.py"), directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            yield f"http://127.0.0.1:{port}"
        finally:
            assert server.stdin is not None
            server.stdin.close()  # the server stops when its stdin closes
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def server_stats(base: str, reset: bool = False) -> dict[str, int]:
    with httpx.Client(timeout=10.0) as control:
        if reset:
            control.post(f"{base}/_reset")
            return {}
        stats: dict[str, int] = control.get(f"{base}/_stats").json()
        return stats


# ------------------------------------------------------------------------------ P1 start-up

# Peak RSS is read with os.wait4 in a minimal launcher process (python -S -I, only os/sys/time),
# not in this one: a child's ru_maxrss includes the memory of the process it was forked from
# (kept across exec), and this process holds FakeTycho with pydantic loaded.
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


@dataclass
class Command:
    argv: list[str]
    env: dict[str, str]
    # arguments that differ from run to run (the GUID `down` deletes), appended to argv
    more: Callable[[], list[str]] | None = None
    seconds: list[float] = field(default_factory=list)
    megabytes: list[float] = field(default_factory=list)
    failure: str = ""

    def measure(self) -> float | None:
        """Run once; record wall seconds and peak RSS, or the failure."""
        argv = [*self.argv, *(self.more() if self.more else [])]
        try:
            launched = subprocess.run(
                [sys.executable, "-S", "-I", "-c", LAUNCHER, *argv],
                capture_output=True,
                text=True,
                env=self.env,
                timeout=COMMAND_TIMEOUT,
            )
            seconds, maxrss, code = launched.stdout.split()
        except (subprocess.TimeoutExpired, ValueError) as exc:
            self.failure = f"no result: {exc}"
            return None
        if int(code) != 0:
            lines = launched.stderr.strip().splitlines() or [""]
            self.failure = f"exit {code}: {lines[-1][:200]}"
            return None
        # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
        rss = int(maxrss) if sys.platform == "darwin" else int(maxrss) * 1024
        self.seconds.append(float(seconds))
        self.megabytes.append(rss / 1e6)
        return float(seconds)


def base_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env["KUBECONFIG"] = str(Path(tempfile.gettempdir()) / "tycho-bench-no-kubeconfig")
    env["TYCHO_USERNAME"] = "bench"
    return env


def tycho_script() -> str:
    script = Path(sys.executable).parent / "tycho"
    if not script.is_file():
        sys.exit(f"no tycho script at {script}: pip install -e . first")
    return str(script)


@contextlib.contextmanager
def discovery_env(tycho_url: str, directory: Path) -> Iterator[tuple[dict[str, str] | None, str]]:
    """An environment whose kubeconfig points at a loopback fake Kubernetes API, in which the
    ``tycho-api`` Service is a LoadBalancer at ``tycho_url``; or None and why not."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from k8s_fake import FakeKubeAPI, make_service, service_port, write_kubeconfig
    except ImportError as exc:
        yield None, f"no tests/k8s_fake.py ({exc})"
        return
    finally:
        sys.path.remove(str(ROOT / "tests"))
    port = int(tycho_url.rsplit(":", 1)[1])
    with FakeKubeAPI() as kube:
        kube.add_service(
            make_service(
                type="LoadBalancer",
                ports=[service_port(port, name="http")],
                ingress=[{"ip": "127.0.0.1"}],
            )
        )
        env = base_env()
        env["KUBECONFIG"] = str(
            write_kubeconfig(directory / "kubeconfig", {"bench": kube.url}, current="bench")
        )
        yield env, ""


def part1(report: Report, runs: int) -> None:
    from tycho_client.testing import FakeTycho

    tycho = tycho_script()
    minimal = str(BENCH / "minimal_client.py")
    python = sys.executable
    env = base_env()
    with contextlib.ExitStack() as stack:
        url0 = stack.enter_context(FakeTycho().serve())
        url100 = stack.enter_context(populated_fake(100).serve())
        # Each `down` (and each minimal delete) deletes a system that exists: one per run.
        down_fake = populated_fake(2 * (runs + 1))
        guids = iter(list(down_fake.systems))
        url_down = stack.enter_context(down_fake.serve())
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tycho-bench-")))
        kube_env, kube_problem = stack.enter_context(discovery_env(url0, directory))

        commands = {
            "python -c pass": Command([python, "-c", "pass"], env),
            "tycho --help": Command([tycho, "--help"], env),
            "minimal status (0 systems)": Command([python, minimal, "status", url0], env),
            "tycho status --url (0 systems)": Command([tycho, "status", "--url", url0], env),
            "minimal status (100 systems)": Command([python, minimal, "status", url100], env),
            "tycho status --url (100 systems)": Command([tycho, "status", "--url", url100], env),
            "minimal delete": Command(
                [python, minimal, "delete", url_down], env, lambda: [next(guids)]
            ),
            "tycho down GUID": Command(
                [tycho, "down", "--url", url_down], env, lambda: [next(guids)]
            ),
        }
        if kube_env is not None:
            commands["tycho status (discovery)"] = Command([tycho, "status"], kube_env)
        for command in commands.values():
            command.measure()  # warm-up: bytecode caches, page cache
            command.seconds.clear()
            command.megabytes.clear()
        samples = interleaved({name: c.measure for name, c in commands.items()}, runs)

    def seconds(name: str) -> float | None:
        return median(samples[name]) if name in samples else None

    def megabytes(name: str) -> float | None:
        command = commands.get(name)
        return max(command.megabytes) if command and command.megabytes else None

    def over(name: str, floor: str) -> float | None:
        return paired(samples[name], samples[floor]) if name in samples else None

    floors = {
        "tycho --help": None,
        "tycho status --url (0 systems)": "minimal status (0 systems)",
        "tycho status --url (100 systems)": "minimal status (100 systems)",
        "tycho down GUID": "minimal delete",
        "tycho status (discovery)": "minimal status (0 systems)",
    }
    for name in ("python -c pass", "minimal status (0 systems)", "minimal status (100 systems)"):
        report.rows.append(
            Row("P1", name, "s", seconds(name), extra={"peak_rss_mb": megabytes(name)})
        )
    for name, floor in floors.items():
        command = commands.get(name)
        names = ["python -c pass", *([floor] if floor else [])]
        note = command.failure if command and not command.seconds else ""
        if command is None:
            note = f"not run: {kube_problem}"
        report.rows.append(
            Row(
                "P1",
                name,
                "s",
                seconds(name),
                {n: seconds(n) for n in names},
                {
                    "peak_rss_mb": megabytes(name),
                    "runs": len(command.seconds) if command else 0,
                    "samples_s": rounded({n: samples[n] for n in [name, *names] if n in samples}),
                },
                note,
                {n: over(name, n) for n in names},
            )
        )

    for systems in (0, 100):
        report.targets.append(
            Target(
                "P1",
                f"`tycho status --url` ({systems} systems) / minimal script",
                over(
                    f"tycho status --url ({systems} systems)", f"minimal status ({systems} systems)"
                ),
                1.0,
                "<=",
            )
        )
    report.targets.append(
        Target(
            "P1",
            "`tycho --help` / `python -c pass`",
            over("tycho --help", "python -c pass"),
            3.0,
            "<=",
        )
    )
    report.targets.append(
        Target("P1", "`tycho --help` peak RSS (MB)", megabytes("tycho --help"), 20.0, "<=")
    )
    discovery = samples.get("tycho status (discovery)", [])
    by_url = samples["tycho status --url (0 systems)"]
    extra = median(
        [
            d - u if d is not None and u is not None else None
            for d, u in zip(discovery, by_url, strict=False)
        ]
    )
    report.targets.append(
        Target("P1", "`tycho status` through discovery minus `--url` (s)", extra, 0.15, "<=")
    )


# ------------------------------------------------------------------------------ P2 per call


class ReplayTransport(httpx.BaseTransport):
    """An in-process httpx transport answering every request with one recorded body."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=self.body)


def per_call(call: Callable[[], object], calls: int) -> Callable[[], float]:
    def sample() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - started) / calls

    return sample


def part2(report: Report, runs: int, quick: bool, bodies: dict[str, bytes], base: str) -> None:
    from tycho_client import TychoClient

    sizes = {1: 200, 100: 60, 10000: 3}  # systems -> calls per sample
    scale = 4 if quick else 1
    typed = minimal_parse()

    def compare(
        case: str, ours: Any, raw: httpx.Client, url: str, systems: int, calls: int
    ) -> None:
        def raw_call() -> object:
            return raw.post(url + "/system/status", json={}).json()

        def raw_typed_call() -> object:
            return typed(raw.post(url + "/system/status", json={}).content)

        found = len(ours.status().result)
        if found != systems:
            raise AssertionError(f"{case}: status() found {found} systems, not {systems}")
        for _ in range(3):  # warm-up: connections, validators
            ours.status()
            raw_call()
            raw_typed_call()
        variants = {"ours": ours.status, "raw": raw_call, "typed": raw_typed_call}
        samples = interleaved({k: per_call(call, calls) for k, call in variants.items()}, runs)
        ms = {k: None if median(v) is None else median(v) * 1e3 for k, v in samples.items()}
        names = {"raw": "raw httpx `.post().json()`", "typed": "raw + minimal model"}
        report.rows.append(
            Row(
                "P2",
                f"`TychoClient.status()`, {systems} system{'s' if systems != 1 else ''}, {case}",
                "ms",
                ms["ours"],
                {names[k]: ms[k] for k in names},
                {"calls_per_sample": calls, "samples_ms": rounded(samples, 1e3)},
                "",
                {names[k]: paired(samples["ours"], samples[k]) for k in names},
            )
        )
        if systems == 100 and case == "loopback":
            report.targets.append(
                Target(
                    "P2",
                    "`status()` / raw httpx, 100 systems, loopback",
                    paired(samples["ours"], samples["raw"]),
                    1.05,
                    "<=",
                )
            )

    for systems, calls in sizes.items():
        calls = max(1, calls // scale)
        url = f"{base}/n{systems}"
        with TychoClient(url) as ours, httpx.Client() as raw:
            compare("loopback", ours, raw, url, systems, calls)
        transport: Any = ReplayTransport(bodies[f"n{systems}"])
        with (
            TychoClient("http://tycho.test", transport=transport) as ours,
            httpx.Client(transport=transport) as raw,
        ):
            compare("in-process replay", ours, raw, "http://tycho.test", systems, calls)
    # FakeTycho as the transport: its own work (it validates every answer against the
    # document) is most of each call, so the ratio says little about the client.
    for systems, calls in {1: 50, 100: 5}.items():
        fake = populated_fake(systems)
        with (
            TychoClient("http://tycho.test", transport=fake) as ours,
            httpx.Client(transport=fake) as raw,
        ):
            compare("in-process FakeTycho", ours, raw, "http://tycho.test", systems, calls)


# --------------------------------------------------------------------------------- P3 parse


def real_parse() -> tuple[str, Callable[[bytes], object]]:
    """The client's own parser of a status answer (a private entry point), wherever it lives."""
    try:
        from tycho_client._generated.operations import STATUS
        from tycho_client._response import outcome_adapter
    except ImportError:
        pass
    else:
        adapter = outcome_adapter(STATUS)
        return "tycho_client._response.outcome_adapter(STATUS).validate_json", adapter.validate_json
    # Fallback: the public client over an in-process transport (adds httpx's cost).
    from tycho_client import TychoClient

    def parse(body: bytes) -> object:
        transport: Any = ReplayTransport(body)
        with TychoClient("http://tycho.test", transport=transport) as client:
            return client.status()

    return "TychoClient.status() over an in-process transport", parse


def minimal_parse() -> Callable[[bytes], object]:
    """A minimal pydantic model with the status answer's fields and no constraints."""
    from pydantic import BaseModel

    class MinimalSystem(BaseModel):
        name: str
        app_id: str | None
        sid: str | None
        ip_address: str
        port: str
        creation_time: str
        username: str | None
        utilization: dict[str, dict[str, str] | None]
        workspace_name: str
        is_ready: bool

    class MinimalAnswer(BaseModel):
        status: str
        message: str
        result: list[MinimalSystem]

    return MinimalAnswer.model_validate_json


def memory(parse: Callable[[bytes], object], body: bytes) -> tuple[float, float]:
    """Peak and retained (kept by the result) memory of one parse, in MB, by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = parse(body)
    peak = tracemalloc.get_traced_memory()[1] - before
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del result
    return peak / 1e6, retained / 1e6


def parse_sample(parse: Callable[[bytes], object], body: bytes) -> Callable[[], float]:
    """One parse, timed from a collected heap; the result is freed after the clock stops."""

    def sample() -> float:
        gc.collect()
        started = time.perf_counter()
        result = parse(body)
        elapsed = time.perf_counter() - started
        del result
        return elapsed

    return sample


def part3(report: Report, runs: int, body: bytes) -> None:
    entry, ours = real_parse()
    parsers = {"ours": ours, "json.loads": json.loads, "minimal model": minimal_parse()}
    for parse in parsers.values():
        parse(body)  # warm-up: builds the validators
    samples = interleaved(
        {name: parse_sample(parse, body) for name, parse in parsers.items()}, max(5 * runs, 25)
    )
    memories = {name: memory(parse, body) for name, parse in parsers.items()}
    ms = {name: None if median(v) is None else median(v) * 1e3 for name, v in samples.items()}
    floors = ("json.loads", "minimal model")
    report.rows.append(
        Row(
            "P3",
            f"parse 10,000 systems ({len(body) / 1e6:.1f} MB): {entry}",
            "ms",
            ms["ours"],
            {name: ms[name] for name in floors},
            {
                "memory_mb": {
                    name: {"peak": m[0], "retained": m[1]} for name, m in memories.items()
                },
                "samples_ms": rounded(samples, 1e3),
            },
            "",
            {name: paired(samples["ours"], samples[name]) for name in floors},
        )
    )
    for index, what in ((1, "memory retained by the result"), (0, "peak memory of the parse")):
        report.rows.append(
            Row(
                "P3",
                f"{what} (tracemalloc)",
                "MB",
                memories["ours"][index],
                {name: memories[name][index] for name in floors},
                ratios={
                    name: ratio(memories["ours"][index], memories[name][index]) for name in floors
                },
            )
        )
    report.targets.append(
        Target(
            "P3",
            "parse / minimal model",
            paired(samples["ours"], samples["minimal model"]),
            1.10,
            "<=",
        )
    )
    report.targets.append(
        Target(
            "P3",
            "memory retained / minimal model",
            ratio(memories["ours"][1], memories["minimal model"][1]),
            1.0,
            "<=",
        )
    )


# --------------------------------------------------------------------------- P4 concurrency


def pool_limits(client: Any) -> tuple[int, int]:
    """The connection limits of the client's pool: ``max_concurrency`` connections, all kept
    alive (what the client gives its own pool)."""
    return client.max_concurrency, client.max_concurrency


@dataclass
class Trial:
    seconds: float
    latencies: list[float]
    failures: int
    connections: int
    first_failure: str = ""


async def gathered(call: Callable[[], Awaitable[object]], calls: int) -> Trial:
    failures: list[BaseException] = []

    async def one() -> float | None:
        started = time.perf_counter()
        try:
            await call()
        except Exception as exc:
            failures.append(exc)
            return None
        return time.perf_counter() - started

    started = time.perf_counter()
    try:
        done = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(calls))), P4_TIMEOUT)
    except asyncio.TimeoutError:
        return Trial(time.perf_counter() - started, [], calls, 0, f"not done in {P4_TIMEOUT} s")
    seconds = time.perf_counter() - started
    latencies = [value for value in done if value is not None]
    first = f"{type(failures[0]).__name__}: {failures[0]}"[:200] if failures else ""
    return Trial(seconds, latencies, len(failures), 0, first)


def part4(report: Report, runs: int, base: str) -> None:
    from tycho_client import AsyncTychoClient

    url = f"{base}/n1"
    runs = max(1, min(runs, 3))

    async def trial(which: str) -> Trial:
        server_stats(base, reset=True)
        if which == "ours":
            async with AsyncTychoClient(url) as ours:
                result = await gathered(ours.status, P4_CALLS)
        else:
            async with httpx.AsyncClient(limits=raw_limits, timeout=RAW_TIMEOUT) as raw:

                async def raw_call() -> object:
                    return (await raw.post(url + "/system/status", json={})).json()

                result = await gathered(raw_call, P4_CALLS)
        result.connections = server_stats(base)["connections"]
        return result

    probe = AsyncTychoClient(url)
    limits = pool_limits(probe)
    asyncio.run(probe.aclose())
    raw_limits = httpx.Limits(max_connections=limits[0], max_keepalive_connections=limits[1])
    trials: dict[str, list[Trial]] = {"ours": [], "raw": []}
    for _ in range(runs):
        for which in ("ours", "raw"):
            trials[which].append(asyncio.run(trial(which)))

    def summary(which: str) -> dict[str, Any]:
        done = trials[which]
        latencies = [value for t in done for value in t.latencies]
        return {
            "throughput": median([(P4_CALLS - t.failures) / t.seconds for t in done]),
            "p50_ms": None if not latencies else percentile(latencies, 0.50) * 1e3,
            "p99_ms": None if not latencies else percentile(latencies, 0.99) * 1e3,
            "failures": sum(t.failures for t in done),
            "calls": P4_CALLS * len(done),
            "connections": max(t.connections for t in done),
            "first_failure": next((t.first_failure for t in done if t.first_failure), ""),
        }

    ours, raw = summary("ours"), summary("raw")
    for which, figures in (("ours", ours), ("raw", raw)):
        name = "AsyncTychoClient.status()" if which == "ours" else "raw httpx.AsyncClient"
        report.rows.append(
            Row(
                "P4",
                f"{P4_CALLS} gathered calls, {name}",
                "calls/s",
                figures["throughput"],
                {} if which == "raw" else {"raw httpx": raw["throughput"]},
                {**figures, "pool": {"max_connections": limits[0], "max_keepalive": limits[1]}},
                figures["first_failure"],
                {}
                if which == "raw"
                else {"raw httpx": ratio(ours["throughput"], raw["throughput"])},
            )
        )
    report.targets.append(
        Target(
            "P4", "throughput / raw httpx", ratio(ours["throughput"], raw["throughput"]), 5.0, ">="
        )
    )
    report.targets.append(
        Target("P4", "failed calls (all trials)", float(ours["failures"]), 0, "<=")
    )
    report.targets.append(
        Target(
            "P4",
            f"connections opened (pool {limits[0]} + 5)",
            float(ours["connections"]),
            limits[0] + 5,
            "<=",
        )
    )


# ---------------------------------------------------------------------------------- output


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 100 else 0
    return f"{value:.{digits}f}{' ' + unit if unit else ''}"


def table(report: Report) -> str:
    lines = ["| part | case | figure | floor(s) | ratio |", "|---|---|---:|---|---:|"]
    for row in report.rows:
        floors = "; ".join(f"{name}: {fmt(v, row.unit)}" for name, v in row.floors.items())
        ratios = " / ".join(fmt(v) + "x" for v in row.ratios.values() if v is not None)
        figure = fmt(row.value, row.unit)
        if "peak_rss_mb" in row.extra:
            figure += f", {fmt(row.extra['peak_rss_mb'], 'MB')}"
        if row.part == "P4":
            x = row.extra
            figure += (
                f"; p50 {fmt(x['p50_ms'], 'ms')}, p99 {fmt(x['p99_ms'], 'ms')}; "
                f"{x['connections']} connections, {x['failures']} of {x['calls']} calls failed"
            )
        if row.note:
            figure += f" ({row.note})"
        lines.append(f"| {row.part} | {row.case} | {figure} | {floors or '—'} | {ratios or '—'} |")
    lines += ["", "| target | figure | limit | |", "|---|---:|---:|---|"]
    for target in report.targets:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target.met]
        limit = f"{target.kind} {fmt(target.limit)}"
        lines.append(
            f"| {target.part} {target.what} | {fmt(target.figure)} | {limit} | {verdict} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import pydantic

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "httpx": httpx.__version__,
        "pydantic": pydantic.VERSION,
        "load_average": list(os.getloadavg()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="rounds of each part (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, fewer calls per sample")
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run, e.g. P1,P3")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON results file")
    options = parser.parse_args(argv)
    parts = {part.strip().upper() for part in options.only.split(",") if part.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--only takes {', '.join(PARTS)}")
    runs = 3 if options.quick else max(1, options.runs)

    started = machine()
    print(
        f"Python {started['python']} on {started['machine']}, {started['cpus']} CPUs, "
        f"httpx {started['httpx']}, pydantic {started['pydantic']}; "
        f"load average {' '.join(f'{x:.2f}' for x in started['load_average'])}; {runs} rounds",
        flush=True,
    )
    report = Report()
    began = time.perf_counter()

    def attempt(part: str, title: str, run_part: Callable[[], None]) -> None:
        # A part that breaks (a changed API, a server that fails) is reported; the others run.
        if part not in parts:
            return
        print(f"{part} {title} ...", flush=True)
        try:
            run_part()
        except Exception as exc:
            report.notes.append(f"{part} failed: {type(exc).__name__}: {exc}"[:500])

    attempt("P1", "start-up", lambda: part1(report, runs))
    if parts & {"P2", "P3", "P4"}:
        bodies = {f"n{n}": status_body(n) for n in (1, 100, 10000)}
        with replay_server(bodies) as base:
            attempt("P2", "per call", lambda: part2(report, runs, options.quick, bodies, base))
            attempt("P3", "parse", lambda: part3(report, runs, bodies["n10000"]))
            attempt("P4", "concurrency", lambda: part4(report, 1 if options.quick else runs, base))
    load_after = list(os.getloadavg())
    print(
        f"load average at the end {' '.join(f'{x:.2f}' for x in load_after)}; "
        f"{time.perf_counter() - began:.0f} s\n"
    )
    print(table(report))
    busiest = max(started["load_average"][0], load_after[0])
    if busiest > (os.cpu_count() or 1):
        report.notes.append(
            f"The load average reached {busiest:.1f} on {os.cpu_count()} CPUs: other work shared "
            "the machine, so figures are stretched and ratios noisier; re-run when it is quiet."
        )
    for note in report.notes:
        print(f"\n{note}")
    results = {
        "machine": {**started, "load_average_end": load_after},
        "rounds": runs,
        "parts": sorted(parts),
        "rows": [row.__dict__ for row in report.rows],
        "targets": [{**t.__dict__, "met": t.met} for t in report.targets],
        "notes": report.notes,
    }
    options.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {options.output}")


if __name__ == "__main__":
    main()
