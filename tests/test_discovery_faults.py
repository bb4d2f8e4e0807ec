"""Discovery against a Kubernetes API (or a kubeconfig) that misbehaves: it must end in time,
in bounded memory, and with a :class:`TychoDiscoveryError`, never another exception.

Every case talks to the loopback fake Kubernetes API of ``k8s_fake`` through a real kubeconfig.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from k8s_fake import FakeKubeAPI, make_node, make_service, service_port, write_kubeconfig
from test_cli import base_env, one_error_line, tycho
from test_discovery import clean_environment, discovery_error, fake, kubeconfig

from tycho_client.discovery import TychoClientFactory
from tycho_client.errors import TychoDiscoveryError, TychoValidationError
from tycho_client.kube import api, config

FIXTURES = (clean_environment, fake, kubeconfig)  # test_discovery's, used here by name

# -- deadlines ------------------------------------------------------------------------------


def test_a_trickling_api_server_is_cut_off_at_the_timeout(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    # A byte every 50 ms never lets a per-read timeout fire: the answer would take ~15 s.
    fake.trickle = 0.05

    started = time.monotonic()
    error = discovery_error(TychoClientFactory(), timeout=1.0)
    elapsed = time.monotonic() - started

    assert 0.9 < elapsed < 2.0
    assert error.reason == "unreachable"
    assert "discovery deadline of 1s" in str(error)
    assert 0 < fake.sent < 100  # it was trickling, and the client stopped listening


def test_get_client_timeout_bounds_the_discovery(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.trickle = 0.05

    started = time.monotonic()
    with pytest.raises(TychoDiscoveryError, match=r"deadline of 0\.5s"):
        TychoClientFactory().get_client(timeout=0.5)

    assert time.monotonic() - started < 1.5


def test_the_deadline_covers_both_calls(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    """Each call answers within the per-call timeouts, but the two together overrun."""
    fake.add_service(
        make_service(type="NodePort", ports=[service_port(8099, name="http", node_port=30080)])
    )
    fake.nodes = [make_node("node-1", [("ExternalIP", "198.51.100.4")])]
    fake.delay = 0.6

    started = time.monotonic()
    error = discovery_error(TychoClientFactory(), timeout=1.0)

    assert time.monotonic() - started < 1.6
    assert "discovery deadline of 1s" in str(error)
    assert fake.paths()[-1] == "/api/v1/nodes"


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_a_bad_timeout_is_a_validation_error(kubeconfig: Path, timeout: float) -> None:
    with pytest.raises(TychoValidationError, match="timeout"):
        TychoClientFactory().get_url(timeout=timeout)


def test_cli_reports_a_non_json_reply_on_one_line_exit_3(fake: FakeKubeAPI, tmp_path: Path) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.raw_body = b"<html>gateway</html>"
    path = write_kubeconfig(tmp_path / "kc", {"fake": fake.url}, current="fake")

    done = tycho("status", env={**base_env(), "KUBECONFIG": str(path)}, check=3)

    line = one_error_line(done.stderr)
    assert "not a JSON object" in line
    assert "<html>gateway</html>" in line


# -- bounds ---------------------------------------------------------------------------------


def test_an_oversized_reply_is_refused_after_the_limit(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    import resource

    fake.oversize = 300 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert "larger than 8 MiB" in str(error)
    assert fake.sent < 80 * 1024 * 1024  # the client hung up early
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100


def test_a_declared_oversized_reply_is_refused_before_reading(
    fake: FakeKubeAPI, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    monkeypatch.setattr(api, "MAX_RESPONSE_BYTES", 100)

    error = discovery_error(TychoClientFactory())

    assert "larger than" in str(error)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b"[1, 2]", b"\xff\xfe"])
def test_a_reply_that_is_not_a_json_object(
    fake: FakeKubeAPI, kubeconfig: Path, body: bytes
) -> None:
    fake.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
    fake.raw_body = body

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert "not a JSON object" in str(error)


# -- a Service that is not what the API promises -------------------------------------------------


def broken_service(**spec_changes: Any) -> dict[str, Any]:
    service = make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}])
    service["spec"].update(spec_changes)
    return service


@pytest.mark.parametrize(
    ("port", "shown"),
    [("abc", '"abc"'), (None, "null"), (10**30, str(10**30)), (0, "0"), (True, "true")],
    ids=["text", "null", "huge", "zero", "bool"],
)
def test_an_invalid_port_is_named(
    fake: FakeKubeAPI, kubeconfig: Path, port: Any, shown: str
) -> None:
    fake.add_service(broken_service(ports=[{"name": "http", "port": port}]))

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert f"invalid spec.ports[0].port: {shown}" in str(error)


def test_an_invalid_node_port_is_named(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(broken_service(type="NodePort", ports=[{"port": 80, "nodePort": "x"}]))

    error = discovery_error(TychoClientFactory())

    assert "invalid spec.ports[0].nodePort" in str(error)


@pytest.mark.parametrize(
    "service",
    [
        {"kind": "Service", "spec": ["ports"]},
        {"kind": "Service", "spec": None},
        {"kind": "Service"},
        {"kind": "Service", "spec": {"ports": {"http": 80}}},
        {"kind": "Service", "spec": {"ports": ["http"]}},
        {"kind": "Service", "spec": {"type": 7, "ports": [{"port": 80}]}},
    ],
    ids=["spec-list", "spec-null", "no-spec", "ports-mapping", "port-text", "type-number"],
)
def test_a_malformed_service_is_a_discovery_error(
    fake: FakeKubeAPI, kubeconfig: Path, service: dict[str, Any]
) -> None:
    fake.services[("default", "tycho-api")] = service

    error = discovery_error(TychoClientFactory())

    assert error.reason == "error"
    assert "the Service 'tycho-api' in namespace 'default' has an invalid spec" in str(error)


def test_entries_that_name_nothing_are_passed_over(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    """Entries that are not objects, or give no address, name nothing to use; an address that
    is given but invalid is an error (tests/test_discovery_values.py)."""
    service = make_service(
        type="LoadBalancer",
        ports=[service_port(8099, name="http", node_port=30080)],
        ingress=[{"ip": "", "hostname": ""}],  # no address: the node port is used
    )
    service["status"]["loadBalancer"]["ingress"].append("not-a-mapping")
    fake.add_service(service)
    fake.nodes = [
        "junk",  # type: ignore[list-item]
        {"status": {"addresses": "nope"}},
        {"status": {"addresses": [{"type": "ExternalIP", "address": "198.51.100.9"}]}},
    ]

    assert TychoClientFactory().get_url() == "http://198.51.100.9:30080"


def test_a_node_list_that_is_not_a_list_finds_no_address(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(broken_service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    fake.nodes = {"items": "x"}  # type: ignore[assignment]

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-external-address"


# -- terminal control characters ----------------------------------------------------------------


def test_control_characters_from_the_api_are_escaped(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.forbidden = {"services"}
    fake.raw_body = json.dumps(
        {"kind": "Status", "code": 403, "message": "denied \x1b]0;pwned\x07\x1b[2J by policy"}
    ).encode()

    error = discovery_error(TychoClientFactory())

    assert error.reason == "forbidden"
    assert "\x1b" not in str(error)
    assert "\x07" not in str(error)
    assert "denied \\x1b]0;pwned\\x07\\x1b[2J by policy" in str(error)


def test_control_characters_in_a_bad_port_are_escaped(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_service(broken_service(ports=[{"name": "http", "port": "\x1b[31mred"}]))

    message = str(discovery_error(TychoClientFactory()))

    assert "\x1b" not in message
    assert "\\u001b[31mred" in message


def test_control_characters_in_a_non_json_body_are_escaped(
    fake: FakeKubeAPI, kubeconfig: Path
) -> None:
    fake.add_service(make_service())
    fake.raw_body = b"\x1b[2Jgone\x9b31m"

    message = str(discovery_error(TychoClientFactory()))

    assert "\x1b" not in message
    assert "\x9b" not in message
    assert "\\x1b[2Jgone" in message


def test_cli_prints_the_escaped_api_message_on_one_line(fake: FakeKubeAPI, tmp_path: Path) -> None:
    fake.raw_body = json.dumps({"message": "no\x1b[2J\nservice\rhere"}).encode()
    path = write_kubeconfig(tmp_path / "kc", {"fake": fake.url}, current="fake")

    done = tycho("status", env={**base_env(), "KUBECONFIG": str(path)}, check=3)

    line = one_error_line(done.stderr)
    assert "\x1b" not in line
    assert "\r" not in line
    # Line breaks become spaces and other controls escapes, as in every quoted server text.
    assert "no\\x1b[2J service here" in line


# -- kubeconfigs that are not what kubectl writes --------------------------------------------------


def kubeconfig_error(path: Path, monkeypatch: pytest.MonkeyPatch) -> TychoDiscoveryError:
    monkeypatch.setenv("KUBECONFIG", str(path))
    error = discovery_error(TychoClientFactory())
    assert error.reason == "no-config"
    assert str(path) in str(error)
    return error


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\xff\xfe\x00token: s3cret", "is binary, not text (it holds NUL bytes)"),
        (b"users: [{token: s3cret\xff\xfe}]", "is not UTF-8 text (byte 22)"),
    ],
    ids=["nul", "latin"],
)
def test_a_binary_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, problem: str
) -> None:
    path = tmp_path / "kc"
    path.write_bytes(data)

    error = kubeconfig_error(path, monkeypatch)

    assert f"the file {path} {problem}" in str(error)
    assert "s3cret" not in str(error)


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (["a", "list"], "the top level is not a mapping"),
        ("just text", "the top level is not a mapping"),
        ({"contexts": "ctx"}, "contexts is not a list"),
        ({"contexts": [7]}, "contexts[0] is not a mapping"),
        ({"contexts": [{"name": 7, "context": {}}]}, "contexts[0].name is not a string"),
        ({"contexts": [{"name": "c", "context": []}]}, "contexts[0].context is not a mapping"),
        ({"current-context": ["c"]}, "current-context is not a string"),
        (
            {
                "contexts": [{"name": "c", "context": {"cluster": 5}}],
                "current-context": "c",
            },
            "cluster of the context 'c' is not a string",
        ),
        (
            {
                "clusters": [{"name": "k", "cluster": {"server": ["x"]}}],
                "contexts": [{"name": "c", "context": {"cluster": "k"}}],
                "current-context": "c",
            },
            "server of the cluster 'k' is not a string",
        ),
        (
            {
                "clusters": [{"name": "k", "cluster": {"server": "ftp://x"}}],
                "contexts": [{"name": "c", "context": {"cluster": "k"}}],
                "current-context": "c",
            },
            "is not an http(s) URL",
        ),
        (
            {
                "clusters": [{"name": "k", "cluster": {"server": "http://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": {"secret": "s3cret"}}}],
                "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                "current-context": "c",
            },
            "token of the user 'u' is not a string",
        ),
        (
            {
                "clusters": [{"name": "k", "cluster": {}}],
                "contexts": [{"name": "c", "context": {"cluster": "k"}}],
                "current-context": "c",
            },
            "the cluster 'k' has no server",
        ),
        (
            {"contexts": [{"name": "c", "context": {"cluster": "gone"}}], "current-context": "c"},
            "names the cluster 'gone', which is not in the kubeconfig",
        ),
    ],
    ids=[
        "list",
        "text",
        "contexts-text",
        "context-number",
        "name-number",
        "context-list",
        "current-list",
        "cluster-number",
        "server-list",
        "server-ftp",
        "token-mapping",
        "no-server",
        "missing-cluster",
    ],
)
def test_a_kubeconfig_with_wrong_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Any, problem: str
) -> None:
    path = tmp_path / "kc"
    path.write_text(json.dumps(config), encoding="utf-8")

    error = kubeconfig_error(path, monkeypatch)

    assert problem in str(error)
    assert "s3cret" not in str(error)


def test_an_oversized_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "MAX_KUBECONFIG_BYTES", 1000)
    path = tmp_path / "kc"
    path.write_text("# " + "x" * 2000 + "\n", encoding="utf-8")

    assert "larger than 1000 bytes" in str(kubeconfig_error(path, monkeypatch))


def test_a_token_with_control_characters_is_refused_unquoted(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_kubeconfig(
        tmp_path / "kc", {"fake": fake.url}, current="fake", token="s3cret\r\nX-Evil: 1"
    )

    error = kubeconfig_error(path, monkeypatch)

    assert "characters an HTTP header cannot carry" in str(error)
    assert "s3cret" not in str(error)
    assert fake.requests == []
