"""TychoClientFactory against a loopback fake Kubernetes API, through the real kubernetes client.

Outside-the-cluster cases use a real kubeconfig file (KUBECONFIG) pointing at the fake over
HTTP; in-cluster cases use KUBERNETES_SERVICE_HOST/PORT and a service-account directory whose
ca.crt is the fake's self-signed certificate, over HTTPS.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from k8s_fake import (
    FakeKubeAPI,
    make_node,
    make_self_signed_cert,
    make_service,
    service_port,
    write_kubeconfig,
)
from loopback import closed_port

from tycho_client import discovery
from tycho_client.discovery import TychoClientFactory, kube_config_available
from tycho_client.errors import TychoDiscoveryError

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_PATH = "/api/v1/namespaces/{ns}/services/{name}"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No cluster, no kubeconfig, no proxy and an empty HOME, whatever this machine has."""
    for name in (
        "KUBERNETES_SERVICE_HOST",
        "KUBERNETES_SERVICE_PORT",
        "KUBECONFIG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def fake() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api


@pytest.fixture
def kubeconfig(fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"test": fake.url}, current="test")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def discovery_error(factory: TychoClientFactory, **kwargs: Any) -> TychoDiscoveryError:
    with pytest.raises(TychoDiscoveryError) as info:
        factory.get_url(**kwargs)
    return info.value


# -- import ---------------------------------------------------------------------------------


def test_importing_discovery_does_not_import_kubernetes() -> None:
    code = (
        "import sys, tycho_client.discovery\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "generated")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- outside the cluster: LoadBalancer, NodePort, ClusterIP -------------------------------------


def test_load_balancer_ip(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    assert TychoClientFactory().get_url() == "http://203.0.113.10:8099"

    [request] = fake.requests
    assert request.path == SERVICE_PATH.format(ns="default", name="tycho-api")
    assert request.headers["authorization"] == "Bearer kubeconfig-token"


def test_load_balancer_hostname(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(
        make_service(
            "tycho",
            "apps",
            type="LoadBalancer",
            ports=[service_port(80, name="http", node_port=31080)],
            ingress=[{"hostname": "tycho.lb.example"}],
        )
    )

    url = TychoClientFactory().get_url("tycho", namespace="apps")

    assert url == "http://tycho.lb.example:80"
    assert fake.paths() == [SERVICE_PATH.format(ns="apps", name="tycho")]


def test_load_balancer_without_ingress_uses_its_node_port(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(
        make_service(type="LoadBalancer", ports=[service_port(8099, name="http", node_port=31099)])
    )
    fake.nodes = [make_node("node-1", [("ExternalIP", "198.51.100.4")])]

    assert TychoClientFactory().get_url() == "http://198.51.100.4:31099"


def test_node_port_prefers_an_external_ip(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=30080)])
    )
    fake.nodes = [
        make_node("node-a", [("InternalIP", "192.0.2.5"), ("Hostname", "node-a")]),
        make_node("node-b", [("InternalIP", "192.0.2.6"), ("ExternalIP", "198.51.100.7")]),
    ]

    assert TychoClientFactory().get_url() == "http://198.51.100.7:30080"
    assert fake.paths() == [SERVICE_PATH.format(ns="default", name="tycho-api"), "/api/v1/nodes"]


def test_node_port_with_only_internal_ips_prefers_a_ready_node(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=30080)])
    )
    fake.nodes = [
        make_node("node-down", [("InternalIP", "192.0.2.9")], ready=False),
        make_node("node-up", [("InternalIP", "192.0.2.5")]),
    ]

    assert TychoClientFactory().get_url() == "http://192.0.2.5:30080"


def test_node_port_without_node_addresses(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=30080)])
    )
    fake.nodes = [make_node("node-a", [("Hostname", "node-a")])]

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-external-address"
    assert "ExternalIP or InternalIP" in str(error)


def test_cluster_ip_from_outside_says_how_to_port_forward(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(make_service(namespace="tycho", ports=[service_port(8099, name="http")]))

    error = discovery_error(TychoClientFactory(), namespace="tycho")

    assert error.reason == "no-external-address"
    assert "kubectl port-forward svc/tycho-api 5000:8099 -n tycho" in str(error)
    assert "--url http://localhost:5000" in str(error)
    assert "/api/v1/nodes" not in fake.paths()


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        pytest.param(
            [service_port(9090, name="metrics"), service_port(8099, name="http")],
            "http://203.0.113.10:8099",
            id="http-named",
        ),
        pytest.param(
            [service_port(9090, name="metrics"), service_port(8443, name="https")],
            "https://203.0.113.10:8443",
            id="https-named",
        ),
        pytest.param(
            [
                service_port(8443, name="https"),
                service_port(9090, name="metrics"),
                service_port(8099, name="http"),
            ],
            "http://203.0.113.10:8099",
            id="http-before-https",
        ),
        pytest.param(
            [service_port(7000, name="grpc"), service_port(9090, name="metrics")],
            "http://203.0.113.10:7000",
            id="first",
        ),
        pytest.param([service_port(7001)], "http://203.0.113.10:7001", id="unnamed"),
    ],
)
def test_port_choice(
    fake: FakeKubeAPI, kubeconfig: Path, ports: list[dict[str, Any]], expected: str
) -> None:
    fake.add_service(
        make_service(type="LoadBalancer", ports=ports, ingress=[{"ip": "203.0.113.10"}])
    )

    assert TychoClientFactory().get_url() == expected


def test_ipv6_ingress_is_bracketed(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "2001:db8::10"}]))

    assert TychoClientFactory().get_url() == "http://[2001:db8::10]:8099"


def test_logs_to_its_logger_and_prints_nothing(
    fake: FakeKubeAPI,
    kubeconfig: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    caplog.set_level(logging.DEBUG, logger="tycho_client.discovery")

    url = TychoClientFactory().get_url()

    ours = [r.getMessage() for r in caplog.records if r.name == "tycho_client.discovery"]
    assert any(url in message for message in ours)
    assert not any("kubeconfig-token" in r.getMessage() for r in caplog.records)
    assert capsys.readouterr() == ("", "")


# -- API errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [None, "staging"])
def test_service_not_found(fake: FakeKubeAPI, kubeconfig: Path, namespace: str | None) -> None:
    fake.add_service(make_service("other-service"))

    error = discovery_error(TychoClientFactory(), namespace=namespace)

    assert error.reason == "not-found"
    assert f"no Service 'tycho-api' in namespace '{namespace or 'default'}'" in str(error)


def test_forbidden_service_read_names_the_permission(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.forbidden = {"services"}

    error = discovery_error(TychoClientFactory())

    assert error.reason == "forbidden"
    assert "get services in namespace 'default'" in str(error)


def test_forbidden_node_list_names_the_permission(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=30080)])
    )
    fake.nodes = [make_node("node-a", [("ExternalIP", "198.51.100.7")])]
    fake.forbidden = {"nodes"}

    error = discovery_error(TychoClientFactory())

    assert error.reason == "forbidden"
    assert "list nodes" in str(error)
    assert "get services" not in str(error)


def test_unreachable_api_fails_fast_with_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    path = write_kubeconfig(tmp_path / "kc", {"gone": f"http://127.0.0.1:{port}"}, current="gone")
    monkeypatch.setenv("KUBECONFIG", str(path))

    started = time.monotonic()
    error = discovery_error(TychoClientFactory())

    assert time.monotonic() - started < 2.0  # no urllib3 retries with backoff
    assert error.reason == "unreachable"
    assert f"http://127.0.0.1:{port}" in str(error)
    assert "refused" in str(error).lower()


def test_api_calls_are_not_retried(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.drop = True

    error = discovery_error(TychoClientFactory())

    assert error.reason == "unreachable"
    assert len(fake.requests) == 1


def test_api_calls_have_a_timeout(
    fake: FakeKubeAPI, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.delay = 5.0
    monkeypatch.setattr(discovery, "API_TIMEOUT", (0.5, 0.3))

    started = time.monotonic()
    error = discovery_error(TychoClientFactory())

    assert time.monotonic() - started < 2.0
    assert error.reason == "unreachable"
    assert fake.url in str(error)
    assert "read 0.3s" in str(error)


# -- configuration --------------------------------------------------------------------------


def test_no_configuration_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    missing = tmp_path / "nowhere" / "config"
    monkeypatch.setenv("KUBECONFIG", str(missing))

    assert not kube_config_available()
    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert str(missing) in str(error)
    assert "KUBERNETES_SERVICE_HOST" in str(error)
    assert "--url" in str(error)


def test_no_kubeconfig_variable_looks_in_home(clean_environment: Path) -> None:
    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert str(clean_environment / ".kube" / "config") in str(error)


def test_home_kubeconfig_is_used(fake: FakeKubeAPI, clean_environment: Path) -> None:
    write_kubeconfig(clean_environment / ".kube" / "config", {"home": fake.url}, current="home")
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    assert kube_config_available()
    assert TychoClientFactory().get_url() == "http://203.0.113.10:8099"


def test_kube_config_available_in_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not kube_config_available()
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert kube_config_available()


def test_environment_is_read_when_called(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    factory = TychoClientFactory()
    path = write_kubeconfig(tmp_path / "late", {"late": fake.url}, current="late")
    monkeypatch.setenv("KUBECONFIG", str(path))

    assert factory.get_url() == "http://203.0.113.10:8099"


def test_kubeconfig_list_skips_missing_files(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    path = write_kubeconfig(tmp_path / "second", {"second": fake.url}, current="second")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "first"), str(path)]))

    assert TychoClientFactory().get_url() == "http://203.0.113.10:8099"


def test_explicit_kubeconfig_wins_over_the_variable(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    dead = write_kubeconfig(
        tmp_path / "dead", {"dead": f"http://127.0.0.1:{closed_port()}"}, current="dead"
    )
    live = write_kubeconfig(tmp_path / "live", {"live": fake.url}, current="live")
    monkeypatch.setenv("KUBECONFIG", str(dead))

    assert TychoClientFactory(kubeconfig=str(live)).get_url() == "http://203.0.113.10:8099"


@pytest.fixture
def two_contexts(fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A kubeconfig whose current context points at a dead port; "live" at the fake."""
    dead_port = closed_port()
    path = write_kubeconfig(
        tmp_path / "kubeconfig",
        {"dead": f"http://127.0.0.1:{dead_port}", "live": fake.url},
        current="dead",
        namespaces={"live": "tycho"},
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    fake.add_service(
        make_service(namespace="tycho", type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}])
    )
    return dead_port


def test_named_context_is_used_with_its_namespace(fake: FakeKubeAPI, two_contexts: int) -> None:
    assert TychoClientFactory(context="live").get_url() == "http://203.0.113.10:8099"
    assert fake.paths() == [SERVICE_PATH.format(ns="tycho", name="tycho-api")]


def test_current_context_is_the_default(fake: FakeKubeAPI, two_contexts: int) -> None:
    error = discovery_error(TychoClientFactory())

    assert error.reason == "unreachable"
    assert f"127.0.0.1:{two_contexts}" in str(error)
    assert "context 'dead'" in str(error)
    assert fake.requests == []


def test_unknown_context(two_contexts: int) -> None:
    error = discovery_error(TychoClientFactory(context="nope"))

    assert error.reason == "no-config"
    assert "no context 'nope'" in str(error)
    assert "dead, live" in str(error)


def test_named_context_needs_no_current_context(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_kubeconfig(tmp_path / "kc", {"live": fake.url}, current="live")
    config = json.loads(path.read_text())
    del config["current-context"]
    path.write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(path))
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    assert TychoClientFactory(context="live").get_url() == "http://203.0.113.10:8099"
    assert discovery_error(TychoClientFactory()).reason == "no-config"


def test_broken_kubeconfig_is_not_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kc"
    path.write_text("users:\n- name: me\n  user: {token: s3cret-t0ken\n: [", encoding="utf-8")
    monkeypatch.setenv("KUBECONFIG", str(path))

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert "not valid YAML" in str(error)
    assert str(path) in str(error)
    assert "s3cret" not in str(error)


# -- inside the cluster ---------------------------------------------------------------------


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return make_self_signed_cert(tmp_path / "tls")


@pytest.fixture
def tls_fake(tls_files: tuple[Path, Path]) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(tls=tls_files) as api:
        yield api


@pytest.fixture
def service_account(
    tmp_path: Path,
    tls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A pod's view: service host/port variables and a service-account directory."""
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token", encoding="utf-8")
    (account / "ca.crt").write_bytes(tls_files[0].read_bytes())
    (account / "namespace").write_text("tycho-ns\n", encoding="utf-8")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(tls_fake.port))
    # A kubeconfig that would fail, to show that the in-cluster configuration comes first.
    dead = write_kubeconfig(
        tmp_path / "dead", {"dead": f"http://127.0.0.1:{closed_port()}"}, current="dead"
    )
    monkeypatch.setenv("KUBECONFIG", str(dead))
    return account


def test_in_cluster_uses_the_service_dns_name(tls_fake: FakeKubeAPI, service_account: Path) -> None:
    tls_fake.add_service(
        make_service(namespace="tycho-ns", type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}])
    )

    url = TychoClientFactory(service_account_dir=str(service_account)).get_url()

    assert url == "http://tycho-api.tycho-ns.svc:8099"
    [request] = tls_fake.requests
    assert request.path == SERVICE_PATH.format(ns="tycho-ns", name="tycho-api")
    assert request.headers["authorization"].lower() == "bearer sa-token"


def test_in_cluster_explicit_namespace_and_https_port(
    tls_fake: FakeKubeAPI, service_account: Path
) -> None:
    tls_fake.add_service(
        make_service(
            "tycho",
            "other",
            ports=[service_port(9090, name="metrics"), service_port(8443, name="https")],
        )
    )

    url = TychoClientFactory(service_account_dir=str(service_account)).get_url("tycho", "other")

    assert url == "https://tycho.other.svc:8443"


def test_in_cluster_without_namespace_file_uses_default(
    tls_fake: FakeKubeAPI, service_account: Path
) -> None:
    (service_account / "namespace").unlink()
    tls_fake.add_service(make_service())

    url = TychoClientFactory(service_account_dir=str(service_account)).get_url()

    assert url == "http://tycho-api.default.svc:8099"


def test_kubeconfig_over_https(
    tls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_kubeconfig(
        tmp_path / "kc", {"tls": tls_fake.url}, current="tls", certificate_authority=tls_files[0]
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    tls_fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    assert TychoClientFactory().get_url() == "http://203.0.113.10:8099"
    assert len(tls_fake.requests) == 1


def test_in_cluster_verifies_the_api_certificate(
    tls_fake: FakeKubeAPI, service_account: Path, tmp_path: Path
) -> None:
    tls_fake.add_service(make_service(namespace="tycho-ns"))
    other_ca, _ = make_self_signed_cert(tmp_path / "other", name="other-ca")
    (service_account / "ca.crt").write_bytes(other_ca.read_bytes())

    error = discovery_error(TychoClientFactory(service_account_dir=str(service_account)))

    assert error.reason == "unreachable"
    assert f"https://127.0.0.1:{tls_fake.port}" in str(error)
    assert "certificate" in str(error).lower()
    assert tls_fake.requests == []


def test_in_cluster_without_token_is_no_config(service_account: Path) -> None:
    (service_account / "token").unlink()

    error = discovery_error(TychoClientFactory(service_account_dir=str(service_account)))

    assert error.reason == "no-config"
    assert str(service_account / "token") in str(error)


def test_forced_in_cluster_outside_a_cluster(tmp_path: Path) -> None:
    error = discovery_error(
        TychoClientFactory(in_cluster=True, service_account_dir=str(tmp_path / "missing"))
    )

    assert error.reason == "no-config"
    assert "KUBERNETES_SERVICE_HOST" in str(error)


# -- clients --------------------------------------------------------------------------------


def test_get_client_points_at_the_discovered_url(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    from tycho_client.client import TychoClient

    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    with TychoClientFactory().get_client(max_retries=5) as client:
        assert isinstance(client, TychoClient)
        assert client.base_url == "http://203.0.113.10:8099"
        assert client.max_retries == 5


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_get_async_client_points_at_the_discovered_url(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    from tycho_client.aio import AsyncTychoClient

    fake.add_service(make_service(type="LoadBalancer", ingress=[{"hostname": "tycho.lb.example"}]))

    async with await TychoClientFactory().get_async_client(max_retries=5) as client:
        assert isinstance(client, AsyncTychoClient)
        assert client.base_url == "http://tycho.lb.example:8099"
        assert client.max_retries == 5


@pytest.mark.anyio
async def test_async_discovery_keeps_the_event_loop_running(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    import anyio

    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.delay = 0.6  # a slow API server
    ticks: list[float] = []
    discovered = anyio.Event()

    async def tick() -> None:
        while not discovered.is_set():
            ticks.append(time.monotonic())
            await anyio.sleep(0.02)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        started = time.monotonic()
        client = await TychoClientFactory().get_async_client()
        finished = time.monotonic()
        discovered.set()

    async with client:
        assert client.base_url == "http://203.0.113.10:8099"
    assert finished - started >= 0.6
    during = [t for t in ticks if started <= t <= finished]
    assert len(during) >= 10  # the loop ran other tasks throughout, not only after


@pytest.mark.anyio
async def test_async_discovery_errors_and_timeout(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.trickle = 0.05
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    started = time.monotonic()
    with pytest.raises(TychoDiscoveryError, match="deadline"):
        await TychoClientFactory().get_async_client(timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_get_client_options_reach_the_client(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))

    with TychoClientFactory().get_client(timeout=7.0, token="t0k", username="ann") as client:
        assert client.timeout.read == 7.0
        assert client.username == "ann"


@pytest.mark.parametrize(
    ("options", "client"),
    [
        ("ClientKwargs", "tycho_client.client:TychoClient"),
        ("AsyncClientKwargs", "tycho_client.aio:AsyncTychoClient"),
    ],
)
def test_typed_options_are_the_constructor_options(options: str, client: str) -> None:
    """The TypedDicts that type get_client's options are what the constructors take."""
    import importlib
    import inspect

    module, name = client.split(":")
    constructor = inspect.signature(getattr(importlib.import_module(module), name))
    (keywords,) = [
        p for p in constructor.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD
    ]
    assert keywords.annotation == f"Unpack[{options}]"
