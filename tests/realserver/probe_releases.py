"""Ask every built tycho-api release the same questions; print what each answers, as JSON.

    python tests/realserver/probe_releases.py [--release R ...] [--out probes.json]

The evidence behind docs/internals/releases.md: each probe is one request (or a start and a look
at what it put in the fake Kubernetes), sent to every release built by ``setup_server.py``, in an
ambassador context (an ``ambassador`` Service exists) unless the probe says otherwise. Nothing
here is a test: it records, and the study reads the record.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import setup_server  # noqa: E402
from k8s_cluster import FakeKubeCluster  # noqa: E402
from k8s_fake import write_kubeconfig  # noqa: E402
from server_process import launch, read_port, server_environment, stop  # noqa: E402

Body = dict[str, Any]
_GUID = re.compile(r"[0-9a-f]{32}")

GOOD: Body = {
    "name": "probe",
    "system": {
        "version": "3",
        "services": {
            "web": {
                "image": "nginx:1.25",
                "ports": ["8080:80"],
                "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "256M"}}},
            }
        },
    },
    "env": {},
    "principal": '{"username": "renci"}',
    "serviceaccount": "default",
    "services": {"web": {"port": "80", "clients": []}},
}


def body(change: Callable[[Body], None] | None = None) -> Body:
    out = copy.deepcopy(GOOD)
    if change is not None:
        change(out)
    return out


def resources(limits: Body | None, reservations: Body | None = None) -> Callable[[Body], None]:
    def change(out: Body) -> None:
        res: Body = {}
        if limits is not None:
            res["limits"] = limits
        if reservations is not None:
            res["reservations"] = reservations
        out["system"]["services"]["web"]["deploy"] = {"resources": res}

    return change


def web(**changes: Any) -> Callable[[Body], None]:
    return lambda out: out["system"]["services"]["web"].update(changes)


def no_deploy(out: Body) -> None:
    del out["system"]["services"]["web"]["deploy"]


def both(*changes: Callable[[Body], None]) -> Callable[[Body], None]:
    def change(out: Body) -> None:
        for one in changes:
            one(out)

    return change


LIMITS = {"cpus": "0.5", "memory": "256M"}
STARTS: dict[str, Body] = {
    "gpus absent": body(),
    "no deploy at all": body(no_deploy),
    "gpus 0 in both": body(resources({**LIMITS, "gpus": 0}, {"gpus": 0})),
    "gpus 0 in limits only": body(resources({**LIMITS, "gpus": 0})),
    'gpus "0" in both': body(resources({**LIMITS, "gpus": "0"}, {"gpus": "0"})),
    "gpus 1 in both": body(resources({**LIMITS, "gpus": 1}, {"gpus": 1})),
    'gpus "1" in both': body(resources({**LIMITS, "gpus": "1"}, {"gpus": "1"})),
    "gpus 1.0 in both": body(resources({**LIMITS, "gpus": 1.0}, {"gpus": 1.0})),
    "gpus 0, ephemeralStorage 1G": body(
        resources({**LIMITS, "gpus": 0, "ephemeralStorage": "1G"}, {"gpus": 0})
    ),
    "gpus 0, reservations cpus/memory": body(
        resources({**LIMITS, "gpus": 0}, {"gpus": 0, "cpus": "0.25", "memory": "128M"})
    ),
    "host volume (fingerprint)": body(
        both(resources({**LIMITS, "ephemeralStorage": "1G"}), web(volumes=["/host:/data"]))
    ),
    "host volume, gpus 0": body(
        both(resources({**LIMITS, "gpus": 0}, {"gpus": 0}), web(volumes=["/host:/data"]))
    ),
    "clients with a network, gpus 0": body(
        both(
            resources({**LIMITS, "gpus": 0}, {"gpus": 0}),
            lambda out: out["services"]["web"].update(clients=["10.0.0.0/8"]),
        )
    ),
    "unknown limit key, gpus 0": body(resources({**LIMITS, "gpus": 0, "pids": "1"}, {"gpus": 0})),
    "name not a string": body(both(lambda out: out.update(name=5))),
}
# Starts whose Kubernetes objects are looked at: (label, body, what to pick out).
RENDERS: dict[str, Body] = {
    "proxy_rewrite_rule true": body(
        both(resources({**LIMITS, "gpus": 0}, {"gpus": 0}), web(proxy_rewrite_rule=True))
    ),
    "proxy_rewrite enabled, target": body(
        both(
            resources({**LIMITS, "gpus": 0}, {"gpus": 0}),
            web(proxy_rewrite={"enabled": True, "target": "/x"}),
        )
    ),
    "gitea_integration true": body(
        both(resources({**LIMITS, "gpus": 0}, {"gpus": 0}), web(gitea_integration=True))
    ),
    "security_context runAsUser 1001": body(
        both(
            resources({**LIMITS, "gpus": 0}, {"gpus": 0}),
            lambda out: out["system"].update(security_context={"runAsUser": 1001}),
        )
    ),
    "gpus 0 in both (render)": body(resources({**LIMITS, "gpus": 0}, {"gpus": 0})),
    'gpus "0" in both (render)': body(resources({**LIMITS, "gpus": "0"}, {"gpus": "0"})),
    "gpus 1 in both (render)": body(resources({**LIMITS, "gpus": 1}, {"gpus": 1})),
    "ephemeralStorage 1G, gpus 0 (render)": body(
        resources({**LIMITS, "gpus": 0, "ephemeralStorage": "1G"}, {"gpus": 0})
    ),
}
OTHERS: list[tuple[str, str, str, Any]] = [
    ("status {}", "POST", "/system/status", {}),
    ("status name 5", "POST", "/system/status", {"name": 5}),
    ("status name null", "POST", "/system/status", {"name": None}),
    ("delete name 'a b'", "POST", "/system/delete", {"name": "a b"}),
    ("delete {}", "POST", "/system/delete", {}),
    ("modify", "POST", "/system/modify", {"tycho-guid": "0" * 32}),
    ("GET status", "GET", "/system/status", None),
]


def _short(text: Any, limit: int = 160) -> Any:
    if not isinstance(text, str):
        return text
    text = _GUID.sub("<guid>", text)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1:
        text = f"{lines[0]} ... {lines[-1].strip()}"
    return text if len(text) <= limit else text[:limit] + "..."


def _answer(response: httpx.Response) -> dict[str, Any]:
    out: dict[str, Any] = {"http": response.status_code}
    try:
        data = response.json()
    except ValueError:
        out["text"] = _short(response.text, 80)
        return out
    if isinstance(data, dict) and "status" in data:
        out["status"] = data["status"]
        out["message"] = _short(data.get("message"))
        result = data.get("result")
        if data["status"] == "success" and isinstance(result, dict):
            out["result_keys"] = list(result)
            out["containers"] = {
                name: {k: (v if k.startswith("port") else type(v).__name__) for k, v in c.items()}
                for name, c in (result.get("containers") or {}).items()
            }
        elif data["status"] == "success" and isinstance(result, list):
            out["entries"] = [list(entry) for entry in result]
    else:
        out["body"] = _short(json.dumps(data), 80)
    return out


def _rendered(cluster: FakeKubeCluster) -> dict[str, Any]:
    deployments = cluster.of_kind("Deployment")
    services = cluster.of_kind("Service")
    out: dict[str, Any] = {}
    if deployments:
        pod = deployments[0]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        out["resources"] = container.get("resources")
        out["tolerations"] = pod.get("tolerations")
        out["volumes"] = [v["name"] for v in pod.get("volumes") or []]
        out["pod securityContext"] = pod.get("securityContext")
        out["securityContext"] = container.get("securityContext")
        env = {e["name"]: e.get("value") for e in container.get("env") or []}
        out["NB_PREFIX"] = _short(env.get("NB_PREFIX"))
    for service in services:
        if service["metadata"]["name"] == "ambassador":
            continue
        out["service type"] = service["spec"]["type"]
        mapping = (service["metadata"].get("annotations") or {}).get("getambassador.io/config")
        if mapping:
            out["rewrite"] = _short(
                " | ".join(
                    line.strip()
                    for line in mapping.splitlines()
                    if line.strip().startswith(("rewrite", "X-Original-Path"))
                )
            )
    return out


@contextmanager
def server(release: str, variables: dict[str, str]) -> Iterator[tuple[str, FakeKubeCluster]]:
    with tempfile.TemporaryDirectory(prefix="tycho-probe-") as folder, FakeKubeCluster() as cluster:
        work = Path(folder)
        kubeconfig = write_kubeconfig(work / "kubeconfig", {"fake": cluster.url}, current="fake")
        env = server_environment(kubeconfig, work / "bin", variables)
        with (work / "log").open("w") as log:
            process = launch(setup_server.python_path(release), env, work, log)
        try:
            port = read_port(process)
            yield f"http://127.0.0.1:{port}", cluster
        finally:
            stop(process)


def probe(release: str, variables: dict[str, str], ambassador: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    with server(release, variables) as (url, cluster), httpx.Client(timeout=60) as http:

        def fresh() -> None:
            cluster.reset()
            if ambassador:
                cluster.add_ambassador()
            else:
                cluster.remove_ambassador()

        for label, request in STARTS.items():
            fresh()
            started = time.monotonic()
            found[f"start: {label}"] = _answer(http.post(f"{url}/system/start", json=request))
            found[f"start: {label}"]["seconds"] = round(time.monotonic() - started, 1)
        for label, request in RENDERS.items():
            fresh()
            answer = _answer(http.post(f"{url}/system/start", json=request))
            found[f"render: {label}"] = {**answer, **_rendered(cluster)}
        fresh()
        http.post(f"{url}/system/start", json=STARTS["gpus 0 in both"])
        for label, method, path, request in OTHERS:
            found[label] = _answer(http.request(method, f"{url}{path}", json=request))
        fresh()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--release", action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    releases = args.release or [r for r in setup_server.RELEASES if setup_server.is_current(r)]
    record: dict[str, Any] = {}
    for release in releases:
        runs: list[tuple[str, dict[str, str], bool]] = [
            ("ambassador Service", {}, True),
            ("no ambassador Service", {}, False),
        ]
        if ".dev2024" in release:
            runs.append(
                ("ambassador, AMBASSADOR_SVC_NAME", {"AMBASSADOR_SVC_NAME": "ambassador"}, True)
            )
        for label, variables, ambassador in runs:
            print(f"probing {release} ({label})", file=sys.stderr)
            record[f"{release} | {label}"] = probe(release, variables, ambassador)
    text = json.dumps(record, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
