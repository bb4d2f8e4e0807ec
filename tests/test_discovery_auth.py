"""Every way a kubeconfig (or a pod) can authenticate, against the loopback fake Kubernetes API.

Static credentials (client certificates, tokens, token files, basic auth) are read without the
kubernetes package; exec plugins and auth-provider go through it, and without it installed the
error names the extra to install.
"""

from __future__ import annotations

import base64
import json
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
    make_client_cert,
    make_self_signed_cert,
    make_service,
    write_kubeconfig,
)
from loopback import closed_port
from test_discovery import REPO_ROOT, clean_environment, discovery_error, fake

from tycho_client.discovery import TychoClientFactory

FIXTURES = (clean_environment, fake)  # test_discovery's, used here by name
LB_URL = "http://203.0.113.10:8099"


def lb_service() -> dict[str, Any]:
    return make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}])


def write_config(
    path: Path,
    server: str,
    user: dict[str, Any],
    cluster: dict[str, Any] | None = None,
) -> Path:
    """A kubeconfig with one context "test" using ``user`` on ``server`` (plus ``cluster``)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "test",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return make_self_signed_cert(tmp_path / "tls")


@pytest.fixture
def client_cert(tmp_path: Path) -> tuple[Path, Path]:
    return make_client_cert(tmp_path / "client", name="cert-user")


@pytest.fixture
def mtls_fake(
    tls_files: tuple[Path, Path], client_cert: tuple[Path, Path]
) -> Iterator[FakeKubeAPI]:
    """HTTPS that requires a client certificate signed by ``client_cert``."""
    with FakeKubeAPI(tls=tls_files, client_ca=client_cert[0]) as api:
        api.add_service(lb_service())
        yield api


def use(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


# -- client certificates and CAs ----------------------------------------------------------------


def test_client_certificate_data(
    mtls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    client_cert: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = {
        "client-certificate-data": b64(client_cert[0].read_bytes()),
        "client-key-data": b64(client_cert[1].read_bytes()),
    }
    cluster = {"certificate-authority-data": b64(tls_files[0].read_bytes())}
    use(write_config(tmp_path / "kc", mtls_fake.url, user, cluster), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL

    [request] = mtls_fake.requests
    assert request.client_cn == "cert-user"
    assert "authorization" not in request.headers


def test_client_certificate_files_relative_to_the_kubeconfig(
    mtls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    client_cert: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "kube"
    folder.mkdir()
    (folder / "me.crt").write_bytes(client_cert[0].read_bytes())
    (folder / "me.key").write_bytes(client_cert[1].read_bytes())
    (folder / "ca.crt").write_bytes(tls_files[0].read_bytes())
    user = {"client-certificate": "me.crt", "client-key": "me.key"}
    path = write_config(folder / "config", mtls_fake.url, user, {"certificate-authority": "ca.crt"})
    monkeypatch.chdir(tmp_path)  # the paths are relative to the file, not the working folder
    use(path, monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert mtls_fake.requests[0].client_cn == "cert-user"


def test_without_the_client_certificate_the_handshake_fails(
    mtls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = {"certificate-authority": str(tls_files[0])}
    use(write_config(tmp_path / "kc", mtls_fake.url, {"token": "t"}, cluster), monkeypatch)

    error = discovery_error(TychoClientFactory())

    assert error.reason == "unreachable"


def test_a_client_certificate_without_its_key(
    tmp_path: Path, client_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = {"client-certificate": str(client_cert[0])}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", user), monkeypatch)

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert "a client certificate or key, not both" in str(error)


def test_a_missing_certificate_authority_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = {"certificate-authority": "nowhere/ca.crt"}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", {}, cluster), monkeypatch)

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert "the certificate-authority of the cluster 'c': the file " in str(error)
    assert f"{tmp_path / 'nowhere' / 'ca.crt'} not found" in str(error)


def test_insecure_skip_tls_verify(
    tls_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKubeAPI(tls=tls_files) as api:
        api.add_service(lb_service())
        cluster = {"insecure-skip-tls-verify": True}
        use(write_config(tmp_path / "kc", api.url, {"token": "t"}, cluster), monkeypatch)

        assert TychoClientFactory().get_url() == LB_URL


def test_tls_server_name_is_the_name_verified(
    tls_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate is for 127.0.0.1 only; the server is addressed as localhost."""
    with FakeKubeAPI(tls=tls_files) as api:
        api.add_service(lb_service())
        server = f"https://localhost:{api.port}"
        cluster: dict[str, Any] = {"certificate-authority": str(tls_files[0])}
        use(write_config(tmp_path / "kc", server, {"token": "t"}, cluster), monkeypatch)
        assert "certificate" in str(discovery_error(TychoClientFactory())).lower()

        cluster["tls-server-name"] = "127.0.0.1"
        use(write_config(tmp_path / "kc", server, {"token": "t"}, cluster), monkeypatch)
        assert TychoClientFactory().get_url() == LB_URL


# -- tokens and passwords ------------------------------------------------------------------------


def test_token_file_relative_to_the_kubeconfig(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())
    (tmp_path / "token").write_text("file-token\n", encoding="utf-8")
    use(write_config(tmp_path / "kc", fake.url, {"tokenFile": "token"}), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert fake.requests[0].headers["authorization"] == "Bearer file-token"


def test_a_token_wins_over_a_token_file(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())
    user = {"token": "inline", "tokenFile": str(tmp_path / "missing")}
    use(write_config(tmp_path / "kc", fake.url, user), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert fake.requests[0].headers["authorization"] == "Bearer inline"


def test_basic_auth(fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add_service(lb_service())
    user = {"username": "admin", "password": "pa:ss wörd"}
    use(write_config(tmp_path / "kc", fake.url, user), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    expected = "Basic " + b64("admin:pa:ss wörd".encode())
    assert fake.requests[0].headers["authorization"] == expected


def test_a_user_that_is_not_defined_sends_no_credentials(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())
    path = write_kubeconfig(tmp_path / "kc", {"x": fake.url}, current="x")
    config = json.loads(path.read_text())
    config["users"] = []
    path.write_text(json.dumps(config))
    use(path, monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert "authorization" not in fake.requests[0].headers


def test_proxy_url_is_used(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server is unreachable; the fake, as the proxy, answers the absolute-form request."""
    fake.add_service(lb_service())
    server = f"http://127.0.0.1:{closed_port()}"
    use(write_config(tmp_path / "kc", server, {"token": "t"}, {"proxy-url": fake.url}), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert fake.requests[0].path == "/api/v1/namespaces/default/services/tycho-api"


# -- exec plugins and auth-provider, through the kubernetes package -----------------------------


def exec_plugin(tmp_path: Path, body: str) -> dict[str, Any]:
    """A kubeconfig ``exec`` entry running a Python script with ``body``."""
    script = tmp_path / "plugin.py"
    script.write_text("import json, sys, time\n" + body, encoding="utf-8")
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script)],
            "interactiveMode": "Never",
        }
    }


TOKEN_PLUGIN = (
    'print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", '
    '"kind": "ExecCredential", "status": {"token": "exec-token"}}))\n'
)


def test_exec_plugin_token(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())
    use(write_config(tmp_path / "kc", fake.url, exec_plugin(tmp_path, TOKEN_PLUGIN)), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert fake.requests[0].headers["authorization"] == "Bearer exec-token"


def test_a_failing_exec_plugin_says_why_and_prints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = 'sys.stderr.write("no SSO session\\x1b[2J"); sys.exit(1)\n'
    use(
        write_config(tmp_path / "kc", "http://127.0.0.1:1", exec_plugin(tmp_path, body)),
        monkeypatch,
    )

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert "the exec credential plugin" in str(error)
    assert "no SSO session\\x1b[2J" in str(error)
    assert capsys.readouterr() == ("", "")


def test_a_hanging_exec_plugin_is_cut_off_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "time.sleep(4)\n"
    use(
        write_config(tmp_path / "kc", "http://127.0.0.1:1", exec_plugin(tmp_path, body)),
        monkeypatch,
    )

    started = time.monotonic()
    error = discovery_error(TychoClientFactory(), timeout=1.0)

    assert time.monotonic() - started < 2.0
    assert error.reason == "unreachable"
    assert "deadline of 1s" in str(error)


def test_auth_provider_oidc_token(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    # An unexpired id-token is used as it is (no refresh, no network).
    id_token = f"{part({'alg': 'none'})}.{part({'exp': int(time.time()) + 3600})}.sig"
    provider = {"name": "oidc", "config": {"id-token": id_token, "client-id": "tycho"}}
    use(write_config(tmp_path / "kc", fake.url, {"auth-provider": provider}), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert fake.requests[0].headers["authorization"] == f"Bearer {id_token}"


def test_exec_without_the_kubernetes_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as if not installed
    use(write_config(tmp_path / "kc", "http://127.0.0.1:1", exec_plugin(tmp_path, "")), monkeypatch)

    error = discovery_error(TychoClientFactory())

    assert error.reason == "no-config"
    assert "pip install 'tycho-client[kubernetes]'" in str(error)
    assert "exec credential plugin" in str(error)


def test_cli_without_the_kubernetes_package_is_exit_3(tmp_path: Path) -> None:
    path = write_config(tmp_path / "kc", "http://127.0.0.1:1", exec_plugin(tmp_path, ""))
    code = (
        "import sys\n"
        "sys.modules['kubernetes'] = None\n"
        "from tycho_client.cli import main\n"
        "sys.exit(main(['status']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "TYCHO_"))} | {
        "KUBECONFIG": str(path)
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

    assert done.returncode == 3, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("tycho: error: ")
    assert "pip install 'tycho-client[kubernetes]'" in line


def test_a_token_needs_no_kubernetes_package(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add_service(lb_service())
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    user = {"token": "t", **exec_plugin(tmp_path, "")}  # the token comes first, as before
    use(write_config(tmp_path / "kc", fake.url, user), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL


@pytest.mark.parametrize("no_proxy", ["", "127.0.0.0/8", "127.0.0.1", "*"])
def test_environment_proxy_and_no_proxy(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    fake.add_service(lb_service())
    port = closed_port()
    use(write_config(tmp_path / "kc", f"http://127.0.0.1:{port}", {"token": "t"}), monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", fake.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)

    if no_proxy:  # exempt: straight to the (closed) server
        error = discovery_error(TychoClientFactory())
        assert error.reason == "unreachable"
        assert f"127.0.0.1:{port}" in str(error)
        assert fake.requests == []
    else:
        assert TychoClientFactory().get_url() == LB_URL
        assert len(fake.requests) == 1


def test_exec_plugin_client_certificate(
    mtls_fake: FakeKubeAPI,
    tls_files: tuple[Path, Path],
    client_cert: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status = {
        "clientCertificateData": client_cert[0].read_text(),
        "clientKeyData": client_cert[1].read_text(),
    }
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": status,
    }
    plugin = exec_plugin(tmp_path, f"print(json.dumps({credential!r}))\n")
    cluster = {"certificate-authority": str(tls_files[0])}
    use(write_config(tmp_path / "kc", mtls_fake.url, plugin, cluster), monkeypatch)

    assert TychoClientFactory().get_url() == LB_URL
    assert mtls_fake.requests[0].client_cn == "cert-user"
    assert "authorization" not in mtls_fake.requests[0].headers
