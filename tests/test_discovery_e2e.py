"""End to end: `tycho status` with no --url finds a fake Tycho through a fake Kubernetes API.

The installed console script runs in a subprocess with KUBECONFIG pointing at a loopback fake
Kubernetes API; the Service it reads points (LoadBalancer ip, or a node's address and NodePort)
at a loopback FakeTycho holding one system.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from k8s_fake import FakeKubeAPI, make_node, make_service, service_port, write_kubeconfig
from test_cli import base_env, one_error_line, tycho

from tycho_client.client import TychoClient
from tycho_client.testing.fake import FakeTycho


@pytest.fixture(scope="module")
def tycho_server() -> Iterator[tuple[FakeTycho, int]]:
    fake = FakeTycho()
    with fake.serve() as url:
        port = urlsplit(url).port
        assert port is not None
        yield fake, port


@pytest.fixture
def kube() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api


def env_for(kube: FakeKubeAPI, tmp_path: Path) -> dict[str, str]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"fake": kube.url}, current="fake")
    return {**base_env(), "KUBECONFIG": str(kubeconfig)}


def started(fake: FakeTycho) -> str:
    fake.reset()
    system = {"services": {"web": {"image": "nginx", "ports": ["80"]}}}
    with TychoClient("http://fake.test", transport=fake) as client:
        return client.up("found-by-discovery", system).result.sid


def test_status_finds_tycho_through_a_load_balancer(
    tycho_server: tuple[FakeTycho, int], kube: FakeKubeAPI, tmp_path: Path
) -> None:
    fake, port = tycho_server
    guid = started(fake)
    ports = [service_port(port, name="http")]
    kube.add_service(make_service(type="LoadBalancer", ports=ports, ingress=[{"ip": "127.0.0.1"}]))
    done = tycho("status", "-o", "json", env=env_for(kube, tmp_path))
    assert [s["sid"] for s in json.loads(done.stdout)["result"]] == [guid]
    assert "/api/v1/namespaces/default/services/tycho-api" in kube.paths()


def test_status_finds_tycho_through_a_node_port(
    tycho_server: tuple[FakeTycho, int], kube: FakeKubeAPI, tmp_path: Path
) -> None:
    fake, port = tycho_server
    guid = started(fake)
    kube.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=port)])
    )
    kube.nodes = [make_node("node-1", [("InternalIP", "127.0.0.1")])]
    done = tycho("status", "--terse", env=env_for(kube, tmp_path))
    assert done.stdout.split() == [guid]
    assert "/api/v1/nodes" in kube.paths()


def test_missing_service_is_exit_3_naming_it(kube: FakeKubeAPI, tmp_path: Path) -> None:
    done = tycho("status", "--namespace", "apps", env=env_for(kube, tmp_path), check=3)
    line = one_error_line(done.stderr)
    assert "tycho-api" in line
    assert "apps" in line


def test_status_through_discovery_imports_no_kubernetes(
    tycho_server: tuple[FakeTycho, int], kube: FakeKubeAPI, tmp_path: Path
) -> None:
    """The kubeconfig's token and the two GETs need no kubernetes package (its CoreV1Api and
    generated models alone cost 0.7 s)."""
    fake, port = tycho_server
    guid = started(fake)
    ports = [service_port(port, name="http")]
    kube.add_service(make_service(type="LoadBalancer", ports=ports, ingress=[{"ip": "127.0.0.1"}]))
    code = (
        "import sys\n"
        "from tycho_client.cli import main\n"
        "code = main(['status', '--terse'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
        "print('kubernetes.client.api.core_v1_api' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env_for(kube, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [guid, "[]", "False"]
    assert "/api/v1/namespaces/default/services/tycho-api" in kube.paths()


def test_cli_timeout_bounds_a_trickling_kubernetes_api(kube: FakeKubeAPI, tmp_path: Path) -> None:
    kube.add_service(make_service(type="LoadBalancer", ports=[service_port(80, name="http")]))
    kube.trickle = 0.5  # one byte every half second: a whole answer would take minutes
    started_at = time.monotonic()
    done = tycho("status", "--timeout", "1", env=env_for(kube, tmp_path), check=3)
    elapsed = time.monotonic() - started_at
    assert elapsed < 10, elapsed  # 1 s of discovery plus interpreter start-up, not minutes
    assert one_error_line(done.stderr)
