"""Values from the Kubernetes API (and the pod's environment) are checked whole before use.

An address goes into the Tycho URL, so it must be exactly an IP literal or a DNS name: one with
whitespace around it, a newline after it (which ``re.match`` with ``$`` lets through) or a zone
is a :class:`TychoDiscoveryError` naming the object and the field, with the value escaped --
and from the CLI exit 3, never a usage error about a URL the user never typed. Ports are
integers in range, not booleans or text. Runs against the loopback fake Kubernetes API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from k8s_fake import FakeKubeAPI, make_node, make_service, service_port, write_kubeconfig
from test_cli import base_env, one_error_line, tycho
from test_discovery import clean_environment, discovery_error, fake, kubeconfig

from tycho_client.discovery import TychoClientFactory
from tycho_client.errors import escape_controls
from tycho_client.kube import is_dns_name, is_host, is_ip

FIXTURES = (clean_environment, fake, kubeconfig)  # test_discovery's, used here by name

SERVICE = "the Service 'tycho-api' in namespace 'default'"


def shown(value: Any) -> str:
    """How a message shows a value: as JSON, control characters escaped."""
    return escape_controls(" ".join(json.dumps(value).split()))


def assert_invalid(message: str, where: str, field: str, value: Any) -> None:
    assert f"{where} has an invalid {field}: {shown(value)}" in message
    assert "\n" not in message
    assert "pass the Tycho API URL instead (--url)" in message


# -- load balancer addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ip", " 127.0.0.1 "),
        ("ip", "127.0.0.1\n"),
        ("ip", "\t10.0.0.1"),
        ("ip", "fe80::1%eth0"),  # a zone may hold anything, spaces included
        ("ip", "lb.example.com"),  # a name where an IP is promised
        ("ip", 2130706433),
        ("hostname", "lb.example.com\n"),
        ("hostname", " lb.example.com"),
        ("hostname", "lb.example.com/evil"),
        ("hostname", "lb.ex\u0430mple.com"),  # a Cyrillic a
        ("hostname", ["lb.example.com"]),
    ],
    ids=[
        "ip-spaces",
        "ip-newline",
        "ip-tab",
        "ip-zone",
        "ip-name",
        "ip-number",
        "name-newline",
        "name-space",
        "name-path",
        "name-homoglyph",
        "name-list",
    ],
)
def test_an_invalid_load_balancer_address_is_named(
    fake: FakeKubeAPI, kubeconfig: Path, key: str, value: Any
) -> None:
    service = make_service(type="LoadBalancer")
    service["status"]["loadBalancer"]["ingress"] = [{key: value}]
    fake.add_service(service)

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert_invalid(str(error), SERVICE, f"status.loadBalancer.ingress[0].{key}", value)


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ({"ip": "203.0.113.10"}, "http://203.0.113.10:8099"),
        ({"ip": "2001:db8::7"}, "http://[2001:db8::7]:8099"),
        ({"hostname": "lb-1.example.com"}, "http://lb-1.example.com:8099"),
        ({"hostname": "lb-1.example.com."}, "http://lb-1.example.com.:8099"),
        ({"ip": "", "hostname": "lb.example.com"}, "http://lb.example.com:8099"),
    ],
    ids=["ipv4", "ipv6", "name", "rooted-name", "empty-ip"],
)
def test_exact_load_balancer_addresses_are_used(
    fake: FakeKubeAPI, kubeconfig: Path, entry: dict[str, str], url: str
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[entry]))

    assert TychoClientFactory().get_url() == url


# -- node addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [" 198.51.100.9", "198.51.100.9\n", "198.51.100.9 ", "node_1!", "", 5, None],
    ids=["lead-space", "newline", "trail-space", "junk", "empty", "number", "null"],
)
def test_an_invalid_node_address_is_named(fake: FakeKubeAPI, kubeconfig: Path, value: Any) -> None:
    ports = [service_port(8099, name="http", node_port=30080)]
    fake.add_service(make_service(type="NodePort", ports=ports))
    node = make_node("node-1", [("InternalIP", "10.0.0.5")])
    node["status"]["addresses"].append({"type": "ExternalIP", "address": value})
    fake.nodes = [node]

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    where = "the node 'node-1' (items[0] of the node list)"
    assert_invalid(str(error), where, "status.addresses[1].address", value)


def test_a_node_address_is_the_first_candidate_checked(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    """Only the address chosen is used, so only it must be valid: a broken InternalIP of
    another node does not stop an ExternalIP from being found."""
    ports = [service_port(8099, name="http", node_port=30080)]
    fake.add_service(make_service(type="NodePort", ports=ports))
    fake.nodes = [
        make_node("broken", [("InternalIP", "10.0.0.5\n")]),
        make_node("good", [("ExternalIP", "198.51.100.9")], ready=False),
    ]

    assert TychoClientFactory().get_url() == "http://198.51.100.9:30080"


# -- ports -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", "80"),
        ("port", True),
        ("port", 80.0),
        ("port", 65536),
        ("port", -1),
        ("nodePort", "30080"),
        ("nodePort", True),
        ("nodePort", 30080.5),
    ],
    ids=["text", "bool", "float", "too-big", "negative", "np-text", "np-bool", "np-float"],
)
def test_a_port_is_an_integer_in_range(
    fake: FakeKubeAPI, kubeconfig: Path, field: str, value: Any
) -> None:
    port: dict[str, Any] = {"name": "http", "port": 8099, "nodePort": 30080}
    port[field] = value
    fake.add_service(make_service(type="NodePort", ports=[port]))
    fake.nodes = [make_node("node-1", [("ExternalIP", "198.51.100.9")])]

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert_invalid(str(error), SERVICE, f"spec.ports[0].{field}", value)


# -- the pod's own configuration ----------------------------------------------------------------


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from k8s_fake import make_self_signed_cert

    cert, _ = make_self_signed_cert(tmp_path / "tls")
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "token").write_text("sa-token", encoding="utf-8")
    (folder / "ca.crt").write_bytes(cert.read_bytes())
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    return folder


@pytest.mark.parametrize("host", ["10.0.0.1/evil", "kube rnetes", "fe80::1%eth0"])
def test_an_invalid_service_host_variable_is_named(
    account: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)

    error = discovery_error(TychoClientFactory(service_account_dir=str(account)))

    assert error.reason == "no-config"
    assert f"KUBERNETES_SERVICE_HOST is not a host name or IP: {host}" in str(error)


@pytest.mark.parametrize("namespace", ["Tycho", "tycho ns", "tycho.ns", "a" * 64])
def test_a_namespace_file_that_is_no_namespace_is_named(account: Path, namespace: str) -> None:
    """The namespace becomes part of the in-cluster URL's host name."""
    (account / "namespace").write_text(namespace + "\n", encoding="utf-8")

    error = discovery_error(TychoClientFactory(service_account_dir=str(account)))

    assert error.reason == "no-config"
    assert f"{account / 'namespace'} holds no namespace name: {namespace}" in str(error)


# -- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    ["ingress-ip-newline", "node-address-space", "port-text"],
)
def test_cli_reports_an_invalid_api_value_as_exit_3(
    fake: FakeKubeAPI, tmp_path: Path, broken: str
) -> None:
    """Not exit 2: the URL was never typed by the user, so it is no usage error of theirs."""
    ports = [service_port(8099, name="http", node_port=30080)]
    service = make_service(type="LoadBalancer", ports=ports)
    fake.nodes = [make_node("node-1", [("ExternalIP", "127.0.0.1")])]
    if broken == "ingress-ip-newline":
        service["status"]["loadBalancer"]["ingress"] = [{"ip": "127.0.0.1\n"}]
    elif broken == "node-address-space":
        fake.nodes = [make_node("node-1", [("ExternalIP", " 127.0.0.1 ")])]
    else:
        service["spec"]["ports"][0]["port"] = "80"
    fake.add_service(service)
    path = write_kubeconfig(tmp_path / "kc", {"fake": fake.url}, current="fake")

    done = tycho("--timeout", "3", "status", env={**base_env(), "KUBECONFIG": str(path)}, check=3)

    line = one_error_line(done.stderr)
    assert " has an invalid " in line
    assert done.stdout == ""


# -- the checks themselves --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ip", "name"),
    [
        ("127.0.0.1", True, True),  # digits and dots are a valid DNS name too
        ("2001:db8::1", True, False),
        ("::ffff:192.0.2.1", True, False),
        ("fe80::1%eth0", False, False),
        ("example.com", False, True),
        ("example.com.", False, True),
        ("a-b.c", False, True),
        ("-a.com", False, False),
        ("a..com", False, False),
        ("a" * 64 + ".com", False, False),
        (".".join(["a" * 63] * 4), False, False),  # 255 characters
        ("127.0.0.1\n", False, False),
        ("example.com\n", False, False),
        (" example.com", False, False),
        ("", False, False),
        ("ex\u0430mple.com", False, False),
        ("١٢٧.0.0.1", False, False),  # Arabic-Indic digits
        (None, False, False),
        (True, False, False),
    ],
)
def test_hosts_are_matched_whole(value: Any, ip: bool, name: bool) -> None:
    assert is_ip(value) is ip
    assert is_dns_name(value) is name
    assert is_host(value) is (ip or name)
