"""The core install (``pip install tycho-client``) without its extras, as a service image has it.

Each check runs in a subprocess in two environments:

- ``blocked``: this venv with ``jsonschema``, ``referencing`` and ``kubernetes`` made unimportable
  (``sys.modules[name] = None``), so the checks run everywhere, fast;
- ``core-wheel``: a venv with only the built wheel installed (``pip install dist/*.whl``), named by
  ``$TYCHO_CORE_VENV``; ``.ci/run`` makes it. Skipped when that is not set. To run it locally::

      python -m build --wheel --outdir dist . && python3 -m venv /tmp/core
      /tmp/core/bin/pip install dist/*.whl
      TYCHO_CORE_VENV=/tmp/core python -m pytest tests/test_extras.py

The client works against a URL (a FakeTycho served on loopback by this process) and finds it
through a loopback fake Kubernetes API; the fake, ``tycho mock`` and ``tycho validate`` fail with
a TychoMissingDependencyError naming the extra (exit 2, one line on stderr); discovery through an
``exec`` kubeconfig user, the one case that needs the kubernetes package, fails with a
TychoDiscoveryError naming its extra (exit 3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from k8s_fake import FakeKubeAPI, make_service, service_port, write_kubeconfig
from loopback import closed_port

from tycho_client._extras import require
from tycho_client.errors import TychoError, TychoMissingDependencyError
from tycho_client.testing import FakeTycho

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
OPTIONAL = ("jsonschema", "referencing", "kubernetes")
KUBERNETES_INSTALL = "pip install 'tycho-client[kubernetes]'"
TESTING_INSTALL = "pip install 'tycho-client[testing]'"
DROPPED_ENV = ("TYCHO_URL", "TYCHO_TOKEN", "KUBERNETES_SERVICE_HOST", "KUBECONFIG", "PYTHONPATH")


@dataclass(frozen=True)
class Install:
    """How to run Python and ``tycho`` in one environment."""

    name: str
    python: Path
    prelude: str  # run before the code: makes the optional packages unimportable, or nothing
    cwd: Path  # outside the source tree, so that the installed package is the one imported

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
        env["KUBECONFIG"] = str(self.cwd / "no-kubeconfig")
        env["TYCHO_USERNAME"] = "extras-tester"
        return {**env, **extra}

    def python_run(self, code: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), "-c", self.prelude + textwrap.dedent(code)],
            capture_output=True, text=True, timeout=TIMEOUT, cwd=self.cwd, env=self.env(**env),
        )  # fmt: skip

    def tycho(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.python_run(
            f"import sys\nfrom tycho_client.cli import main\nsys.exit(main({list(args)!r}))\n",
            **env,
        )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tycho: error: ")
    return lines[0]


@pytest.fixture(params=["blocked", "core-wheel"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Install:
    if request.param == "blocked":
        prelude = f"import sys\nsys.modules.update(dict.fromkeys({OPTIONAL!r}))\n"
        return Install("blocked", Path(sys.executable), prelude, tmp_path)
    venv = os.environ.get("TYCHO_CORE_VENV")
    if not venv and os.environ.get("CI") == "true":
        pytest.fail("CI must name the core install's venv in TYCHO_CORE_VENV (see .ci/run)")
    if not venv:
        pytest.skip("TYCHO_CORE_VENV names no venv with only the wheel installed (.ci/run sets it)")
    return Install("core-wheel", Path(venv) / "bin" / "python", "", tmp_path)


@pytest.fixture
def served() -> Iterator[tuple[FakeTycho, str]]:
    fake = FakeTycho()
    with fake.serve() as url:
        yield fake, url


def test_the_optional_packages_are_absent(install: Install) -> None:
    done = install.python_run(
        f"""
        import importlib.util, json
        print(json.dumps([m for m in {OPTIONAL!r} if importlib.util.find_spec(m) is not None]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_client_works_against_a_url(install: Install, served: tuple[FakeTycho, str]) -> None:
    fake, url = served
    done = install.python_run(
        f"""
        import sys
        from tycho_client import TychoClient
        compose = {{"services": {{"web": {{"image": "nginx:1.25", "ports": ["8080:80"]}}}}}}
        with TychoClient({url!r}) as tycho:
            sid = tycho.up("core app", compose).result.sid
            listed = [s.sid for s in tycho.list()]
            deleted = tycho.down([sid])
        print(sid, listed == [sid], deleted == [sid])
        print(sorted(m for m in ("jsonschema", "kubernetes") if sys.modules.get(m)))
        """
    )
    assert done.returncode == 0, done.stderr
    sid, listed, deleted = done.stdout.splitlines()[0].split()
    assert (listed, deleted) == ("True", "True")
    assert done.stdout.splitlines()[1] == "[]"
    assert [r.operation for r in fake.requests] == ["start", "status", "delete"]
    assert all(r.problems == () for r in fake.requests)
    assert fake.systems == {}  # the system the subprocess started is gone
    assert len(sid) == 32


def exec_kubeconfig(directory: Path) -> Path:
    """A kubeconfig whose user runs an exec credential plugin, for an API server on a closed
    loopback port: discovery needs the kubernetes package for that, before sending anything."""
    path = directory / "kubeconfig"
    path.write_text(
        textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: dev
              cluster: {{server: "https://127.0.0.1:{closed_port()}"}}
            contexts:
            - name: dev
              context: {{cluster: dev, user: dev, namespace: default}}
            users:
            - name: dev
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: /bin/false
                  interactiveMode: Never
            """
        )
    )
    return path


def test_discovery_needs_no_extra_for_a_token_kubeconfig(
    install: Install, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    port = urlsplit(url).port
    assert port is not None
    with FakeKubeAPI() as kube:
        ports = [service_port(port, name="http")]
        kube.add_service(
            make_service(type="LoadBalancer", ports=ports, ingress=[{"ip": "127.0.0.1"}])
        )
        kubeconfig = write_kubeconfig(install.cwd / "kubeconfig", {"k": kube.url}, current="k")
        done = install.tycho("status", "--terse", KUBECONFIG=str(kubeconfig))
        assert "/api/v1/namespaces/default/services/tycho-api" in kube.paths()
    assert (done.returncode, done.stderr) == (0, "")
    assert [r.operation for r in fake.requests] == ["status"]  # found, and asked


def test_discovery_through_an_exec_plugin_names_the_extra(install: Install) -> None:
    kubeconfig = exec_kubeconfig(install.cwd)
    done = install.python_run(
        """
        import json
        from tycho_client import TychoClientFactory, TychoDiscoveryError
        try:
            TychoClientFactory().get_client()
        except TychoDiscoveryError as exc:
            print(json.dumps({"message": str(exc), "cause": type(exc.__cause__).__name__}))
        """,
        KUBECONFIG=str(kubeconfig),
    )
    assert done.returncode == 0, done.stderr  # a TychoDiscoveryError, not a bare import failure
    found = json.loads(done.stdout)
    assert KUBERNETES_INSTALL in found["message"]
    assert "exec credential plugin" in found["message"]
    assert found["cause"] in ("ModuleNotFoundError", "TychoMissingDependencyError")


def test_tycho_without_a_url_but_with_a_kubeconfig_exits_3(install: Install) -> None:
    done = install.tycho("status", KUBECONFIG=str(exec_kubeconfig(install.cwd)))
    assert done.returncode == 3, done.stderr
    assert KUBERNETES_INSTALL in one_error_line(done)
    assert done.stdout == ""


def test_tycho_with_a_url_needs_no_kubernetes(
    install: Install, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    kubeconfig = install.cwd / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    done = install.tycho("status", "--terse", KUBECONFIG=str(kubeconfig), TYCHO_URL=url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert [r.operation for r in fake.requests] == ["status"]


@pytest.mark.parametrize(
    "args",
    [
        ["mock", "--port", "0"],
        ["validate", "-f", str(ROOT / "examples" / "webstack" / "docker-compose.yaml")],
    ],
    ids=["mock", "validate"],
)
def test_the_fakes_commands_exit_2_naming_the_testing_extra(
    install: Install, args: list[str]
) -> None:
    done = install.tycho(*args)
    assert done.returncode == 2, done.stderr
    line = one_error_line(done)
    assert line.endswith(TESTING_INSTALL)
    assert "'jsonschema'" in line
    assert done.stdout == ""  # mock printed no URL: nothing is listening


def test_the_fake_raises_the_typed_error(install: Install) -> None:
    done = install.python_run(
        """
        from tycho_client.errors import TychoMissingDependencyError
        try:
            from tycho_client.testing import FakeTycho
        except TychoMissingDependencyError as exc:
            print(exc.extra, exc.name)
        """
    )
    assert (done.returncode, done.stdout.split()) == (0, ["testing", "jsonschema"]), done.stderr


def test_tycho_spec_needs_no_extra(install: Install) -> None:
    done = install.tycho("spec")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("openapi: 3.1")


# In this venv only: the plugin and the helper.


def test_the_plugin_registers_without_importing_jsonschema() -> None:
    probe = "import sys, tycho_client.testing.plugin; print('jsonschema' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


def test_a_fixture_without_the_testing_extra_says_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "import sys\n"
        f"sys.modules.update(dict.fromkeys({OPTIONAL!r}))\n"
        "sys.modules.pop('tycho_client.testing.fake', None)\n"
    )
    pytester.makepyfile(
        test_user="""
def test_uses_the_fake(tycho_client):
    tycho_client.status()

def test_needs_no_fake():
    assert True
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    assert (
        "the tycho_fake fixture: the fake Tycho (tycho_client.testing, tycho mock) needs the "
        f"package 'jsonschema', which is not installed: {TESTING_INSTALL}\n" in output
    )
    assert "Traceback" not in output
    assert "During handling" not in output


def test_require_returns_the_module() -> None:
    assert require("json", "testing", feature="x") is json


def test_require_names_the_extra_and_the_missing_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A package that is there but lacks one of its own dependencies: the extra brings both.
    (tmp_path / "half_installed.py").write_text("import tycho_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TychoMissingDependencyError) as caught:
        require("half_installed", "kubernetes", feature="The feature")
    error = caught.value
    assert (error.name, error.extra) == ("tycho_no_such_dependency", "kubernetes")
    assert str(error) == (
        "The feature needs the package 'tycho_no_such_dependency', which is not installed: "
        "pip install 'tycho-client[kubernetes]'"
    )
    assert isinstance(error, TychoError)
    assert isinstance(error, ModuleNotFoundError)
