"""Every file discovery reads is a regular file, bounded, read and parsed within the deadline.

A FIFO (whose blocking ``open()`` waits for a writer forever), a device, a directory or a socket
named as the kubeconfig, a tokenFile, a certificate-authority, a client certificate or key, or a
service-account file is refused at once: a :class:`TychoDiscoveryError` naming the file, well
within the deadline. Real files and real FIFOs (``os.mkfifo``); discovery runs against the
loopback fake Kubernetes API of ``k8s_fake`` where it gets that far. Each call runs in a
watched thread, so a regression fails its test instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from k8s_fake import FakeKubeAPI, make_client_cert, make_self_signed_cert, make_service
from loopback import closed_port
from test_cli import base_env, one_error_line, tycho
from test_discovery import clean_environment, fake
from test_discovery_auth import write_config

from tycho_client import _files
from tycho_client.discovery import TychoClientFactory, kube_config_available
from tycho_client.errors import TychoDiscoveryError
from tycho_client.kube import material

FIXTURES = (clean_environment, fake)  # test_discovery's, used here by name

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")

DEADLINE = 3.0  # the discovery timeout given; a refusal takes milliseconds
WATCH = 10.0  # how long a call may run before the test calls it hung


def run_watched(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    """``call()`` in a daemon thread: what it raised, and how long it took. A call still
    running after :data:`WATCH` seconds fails the test rather than hang the suite."""
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(WATCH)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"discovery still blocked after {elapsed:.1f}s"
    return outcome.get("error"), elapsed


def refused_in_time(
    factory: TychoClientFactory, timeout: float = DEADLINE, at_deadline: bool = False
) -> TychoDiscoveryError:
    """The error ``factory.get_url(timeout=...)`` ends in: within the deadline (a refusal), or
    ``at_deadline`` (work given up then), with a generous second for a loaded machine."""
    error, elapsed = run_watched(lambda: factory.get_url(timeout=timeout))
    if at_deadline:
        assert timeout <= elapsed < timeout + 1.0, elapsed
    else:
        assert elapsed < timeout, elapsed
    assert isinstance(error, TychoDiscoveryError), repr(error)
    return error


@pytest.fixture
def make_fifo(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Makes FIFOs; afterwards each is opened for writing once, which releases a reader that a
    regression left blocked in ``open()``."""
    made: list[Path] = []

    def make(name: str) -> Path:
        path = tmp_path / name
        os.mkfifo(path)
        made.append(path)
        return path

    yield make
    for path in made:
        with contextlib.suppress(OSError):  # ENXIO: no reader waiting, nothing to release
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def use(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def assert_names_special(error: TychoDiscoveryError, path: Path, kind: str = "a FIFO") -> None:
    assert error.reason == "no-config"
    assert f"cannot read the file {path}: not a regular file ({kind})" in str(error)


# -- special files in a kubeconfig ----------------------------------------------------------------


def test_a_fifo_kubeconfig_is_refused_at_once(
    make_fifo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = use(make_fifo("kubeconfig"), monkeypatch)

    assert kube_config_available()  # reported, not passed over for the default URL
    error = refused_in_time(TychoClientFactory())

    assert str(error).startswith(f"cannot use the kubeconfig {path}: ")
    assert_names_special(error, path)


def test_a_fifo_token_file_is_refused_at_once(
    fake: FakeKubeAPI,
    make_fifo: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fifo = make_fifo("token")
    use(write_config(tmp_path / "kc", fake.url, {"tokenFile": "token"}), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert "the tokenFile of the user 'u': " in str(error)
    assert_names_special(error, fifo)
    assert fake.requests == []


def test_a_fifo_certificate_authority_is_refused_at_once(
    make_fifo: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = make_fifo("ca.crt")
    cluster = {"certificate-authority": str(fifo)}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", {}, cluster), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert "the certificate-authority of the cluster 'c': " in str(error)
    assert_names_special(error, fifo)


@pytest.mark.parametrize("fifo_key", ["client-certificate", "client-key"])
def test_a_fifo_client_certificate_or_key_is_refused_at_once(
    make_fifo: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fifo_key: str,
) -> None:
    cert, key = make_client_cert(tmp_path / "client")
    fifo = make_fifo("pipe.pem")
    user = {"client-certificate": str(cert), "client-key": str(key), fifo_key: str(fifo)}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", user), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert f"the {fifo_key} of the user 'u': " in str(error)
    assert_names_special(error, fifo)


def test_a_directory_and_a_device_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token.d").mkdir()
    use(write_config(tmp_path / "kc", "http://127.0.0.1:1", {"tokenFile": "token.d"}), monkeypatch)
    assert_names_special(refused_in_time(TychoClientFactory()), tmp_path / "token.d", "a directory")

    cluster = {"certificate-authority": "/dev/zero"}  # endless: never read
    use(write_config(tmp_path / "kc2", "https://127.0.0.1:1", {}, cluster), monkeypatch)
    error = refused_in_time(TychoClientFactory())
    assert_names_special(error, Path("/dev/zero"), "a character device")


def test_a_socket_kubeconfig_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kc.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen()
        use(path, monkeypatch)

        error = refused_in_time(TychoClientFactory())

    assert_names_special(error, path, "a socket")


# -- special files in the service account --------------------------------------------------------


@pytest.mark.parametrize("name", ["token", "ca.crt", "namespace"])
def test_a_fifo_in_the_service_account_is_refused_at_once(
    make_fifo: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    cert, _ = make_self_signed_cert(tmp_path / "tls")
    (account / "token").write_text("sa-token", encoding="utf-8")
    (account / "ca.crt").write_bytes(cert.read_bytes())
    (account / "namespace").write_text("tycho-ns", encoding="utf-8")
    (account / name).unlink()
    fifo = make_fifo(f"serviceaccount/{name}")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(closed_port()))

    error = refused_in_time(TychoClientFactory(service_account_dir=str(account)))

    assert error.reason == "no-config"
    assert str(error).startswith("cannot use the in-cluster Kubernetes configuration: ")
    assert f"{fifo}: not a regular file (a FIFO)" in str(error)


# -- the deadline covers reading and parsing ---------------------------------------------------


def test_a_slow_kubeconfig_parse_is_cut_at_the_deadline(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    real_load = yaml.load

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        time.sleep(3)  # a 16 MiB document on a slow machine
        return real_load(*args, **kwargs)

    monkeypatch.setattr(yaml, "load", slow_load)
    path = use(write_config(tmp_path / "kc", fake.url, {"token": "t"}), monkeypatch)

    error = refused_in_time(TychoClientFactory(), timeout=0.5, at_deadline=True)

    assert error.reason == "no-config"
    assert (
        f"reading the kubeconfig {path} did not finish within the discovery deadline of 0.5s"
        in (str(error))
    )
    assert fake.requests == []


def test_a_slow_credential_read_is_cut_at_the_deadline(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regular file can block too (a hung network mount): every read has the deadline."""
    real_read = _files.read_file

    def slow_read(path: Any, what: str, limit: int) -> bytes:
        if Path(path).name == "token":
            time.sleep(3)
        return real_read(path, what, limit)

    monkeypatch.setattr(_files, "read_file", slow_read)
    (tmp_path / "token").write_text("t", encoding="utf-8")
    use(write_config(tmp_path / "kc", fake.url, {"tokenFile": "token"}), monkeypatch)

    error = refused_in_time(TychoClientFactory(), timeout=0.5, at_deadline=True)

    assert f"reading the file {tmp_path / 'token'} did not finish within" in str(error)
    assert fake.requests == []


# -- what is read from regular files ------------------------------------------------------------


def test_a_credential_file_over_the_bound_is_refused(
    fake: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(material, "MAX_CREDENTIAL_BYTES", 100)
    (tmp_path / "token").write_text("t" * 200, encoding="utf-8")
    use(write_config(tmp_path / "kc", fake.url, {"tokenFile": "token"}), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert f"the file {tmp_path / 'token'} is larger than 100 bytes" in str(error)
    assert "tttt" not in str(error)


def test_an_empty_certificate_authority_is_not_the_system_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cadata=""`` would quietly trust the system CAs: an empty CA file is an error."""
    (tmp_path / "ca.crt").write_text("\n", encoding="utf-8")
    cluster = {"certificate-authority": "ca.crt"}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", {}, cluster), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert f"the certificate-authority {tmp_path / 'ca.crt'} of the cluster 'c' cannot be" in (
        str(error)
    )
    assert "it holds no PEM certificate" in str(error)


def test_a_certificate_authority_with_comments_is_loaded_from_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text outside the PEM blocks (here not even ASCII) is skipped, as a ``cafile`` read does."""
    cert, key = make_self_signed_cert(tmp_path / "tls")
    ca = tmp_path / "ca.crt"
    ca.write_bytes("# Zertifizierungsstelle für München\n".encode() + cert.read_bytes())
    with FakeKubeAPI(tls=(cert, key)) as api:
        api.add_service(make_service(type="LoadBalancer", ingress=[{"ip": "203.0.113.10"}]))
        cluster = {"certificate-authority": str(ca)}
        use(write_config(tmp_path / "kc", api.url, {"token": "t"}, cluster), monkeypatch)

        assert TychoClientFactory().get_url(timeout=DEADLINE) == "http://203.0.113.10:8099"


def test_an_encrypted_client_key_is_refused_without_a_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL asks for a passphrase on the terminal when no callback is given."""
    from cryptography.hazmat.primitives import serialization

    cert, key = make_client_cert(tmp_path / "client")
    private = serialization.load_pem_private_key(key.read_bytes(), None)
    encryption = serialization.BestAvailableEncryption(b"passphrase")
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    user = {"client-certificate": str(cert), "client-key": str(key)}
    use(write_config(tmp_path / "kc", "https://127.0.0.1:1", user), monkeypatch)

    error = refused_in_time(TychoClientFactory())

    assert "the client certificate of the user 'u' cannot be loaded" in str(error)
    assert "the client key is encrypted" in str(error)


# -- the product's one reader ------------------------------------------------------------------


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_the_reader_refuses_special_files_without_leaking(
    make_fifo: Callable[[str], Path], tmp_path: Path
) -> None:
    fifo = make_fifo("pipe")
    cases = [(fifo, "a FIFO"), (tmp_path, "a directory"), (Path("/dev/null"), "a character device")]
    before = open_descriptors()
    for _ in range(50):
        for path, kind in cases:
            with pytest.raises(_files.FileReadError) as info:
                _files.read_file(path, "compose file", 100)
            assert info.value.problem == "special"
            assert info.value.message == (
                f"cannot read compose file {path}: not a regular file ({kind})"
            )
    # 150 refusals: a leaked descriptor each would show (other threads may hold a few briefly).
    assert open_descriptors() < before + 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x" * 4097, "compose file {path} is larger than 4096 bytes"),
        (b"services:\x00", "compose file {path} is binary, not text (it holds NUL bytes)"),
        (b"services: \xff", "compose file {path} is not UTF-8 text (byte 10)"),
    ],
    ids=["large", "nul", "latin"],
)
def test_the_reader_messages_are_the_clis(tmp_path: Path, data: bytes, message: str) -> None:
    """The CLI's wording, so that its file reading can switch to this reader unchanged."""
    path = tmp_path / "docker-compose.yaml"
    path.write_bytes(data)

    with pytest.raises(_files.FileReadError) as info:
        _files.read_text(path, "compose file", 4096)

    assert info.value.message == message.format(path=path)


def test_the_reader_reads_regular_files_and_names_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2Jname.yaml"
    with pytest.raises(_files.FileReadError) as info:
        _files.read_text(path, "compose file", 100)
    assert info.value.problem == "missing"
    assert info.value.message == f"compose file {tmp_path}/evil\\x1b[2Jname.yaml not found"

    path.write_text("services: {}\n", encoding="utf-8")
    assert _files.read_text(path, "compose file", 100) == "services: {}\n"
    assert _files.read_file(path, "compose file", 13) == b"services: {}\n"


# -- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["kubeconfig", "tokenFile"])
def test_cli_with_a_fifo_exits_3_naming_it(
    make_fifo: Callable[[str], Path], tmp_path: Path, where: str
) -> None:
    fifo = make_fifo("pipe")
    kubeconfig = fifo
    if where == "tokenFile":
        kubeconfig = write_config(tmp_path / "kc", "http://127.0.0.1:1", {"tokenFile": str(fifo)})
    env = {**base_env(), "KUBECONFIG": str(kubeconfig)}

    started = time.monotonic()
    done = tycho("--timeout", "3", "status", env=env, check=3, timeout=WATCH + 20)

    assert time.monotonic() - started < 3 + 7  # the deadline, plus interpreter start-up
    line = one_error_line(done.stderr)
    assert f"{fifo}: not a regular file (a FIFO)" in line
    assert done.stdout == ""
