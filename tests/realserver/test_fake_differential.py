"""FakeTycho answers as the tycho-api release it plays does: one sequence of requests, sent to
the real release under test and to ``FakeTycho(release=<it>)``, compared.

The sequence: the recorded starts and every sample (built by the client, as ``tycho up`` builds
them), status by GUID, by user and of all, unknown GUIDs, deletes, bodies that are not JSON or
not objects, wrong methods, ``/system/modify``, and the real-server failures the fake imitates.
Both answers are compared after GUIDs, times and node ports are normalized: HTTP status, content
type, the CORS header, the envelope's ``status``, its message (for tracebacks: the first and the
last line), the shape of ``result`` and the order of keys. What the fake does differently on
purpose is listed in ``tycho_client.testing.fake.DIFFERENCES``; those requests are compared only
as far as that list says. Start bodies go to both as tycho-client sends them to that release
(with integer GPUs to 1.14.0 - 1.17.1); where the release does not report readiness, both must
leave ``is_ready`` out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from realserver import RealTycho

from tycho_client import TychoClient
from tycho_client.compose import load_compose
from tycho_client.envfile import parse_env
from tycho_client.testing import FakeTycho
from tycho_client.testing.fake import DIFFERENCES

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
# These two mount host paths, which Tycho cannot: the client refuses them (see test_cli).
HOST_PATH_VOLUMES = {"nextflow", "xena"}
WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
_GUID = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"^\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d{1,2}:\d{1,2}$")


def sample_requests() -> list[dict[str, Any]]:
    """Every sample's start request, as the client builds it for ``up``."""
    capture = FakeTycho()
    client = TychoClient("http://tycho.test", transport=capture, username="renci")
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        if folder.name in HOST_PATH_VOLUMES:
            continue
        env_file = folder / ".env"
        settings = parse_env(env_file.read_text()) if env_file.exists() else {}
        compose = load_compose((folder / "docker-compose.yaml").read_text())
        client.up(folder.name, compose, settings=settings)
    return [r.body for r in capture.requests]


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(next(WIRE.glob(f"{name}-*.json")).read_text())
    return data["request"]


class Exchange:
    """One request of the sequence; ``ref`` names an earlier start whose GUID it uses."""

    def __init__(
        self,
        label: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = "application/json",
        guid_of: str | None = None,
        key: str = "name",
        differs: str | None = None,
    ):
        self.label, self.method, self.path = label, method, path
        self.json_body, self.content, self.content_type = json_body, content, content_type
        self.guid_of, self.key, self.differs = guid_of, key, differs

    def send(self, url: str, guids: dict[str, str]) -> httpx.Response:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        body = self.json_body
        if self.guid_of is not None:
            body = {**(body or {}), self.key: guids[self.guid_of]}
        content = (
            self.content
            if self.content is not None
            else (None if body is None and self.json_body is None else json.dumps(body).encode())
        )
        return httpx.request(
            self.method, f"{url}{self.path}", content=content, headers=headers, timeout=30.0
        )


def sequence(adapted: Callable[[Any], Any] = lambda body: body) -> Iterator[Exchange]:
    """The exchanges, each start body as ``adapted`` makes it (the client's form for a release)."""
    for exchange in _sequence():
        if exchange.path == "/system/start" and exchange.json_body is not None:
            exchange.json_body = adapted(exchange.json_body)
        yield exchange


def _sequence() -> Iterator[Exchange]:
    for name in ("01", "02", "22"):
        yield Exchange(f"start {name}", "POST", "/system/start", json_body=recorded(name)["json"])
    for index, body in enumerate(sample_requests()):
        yield Exchange(f"start sample {body['name']}", "POST", "/system/start", json_body=body)
        if index == 0:
            yield Exchange(
                "status by its GUID",
                "POST",
                "/system/status",
                json_body={},
                guid_of=f"start sample {body['name']}",
            )
    yield Exchange("status all", "POST", "/system/status", json_body={})
    yield Exchange("status by user", "POST", "/system/status", json_body={"username": "alice"})
    yield Exchange("status by GUID", "POST", "/system/status", json_body={}, guid_of="start 02")
    yield Exchange(
        "status, user wins over GUID",
        "POST",
        "/system/status",
        json_body={"username": "renci"},
        guid_of="start 02",
    )
    yield Exchange("status, username null", "POST", "/system/status", json_body={"username": None})
    yield Exchange(
        "status, unknown GUID",
        "POST",
        "/system/status",
        json_body={"name": "0123456789abcdef0123456789abcdef"},
    )
    yield Exchange("status, name null", "POST", "/system/status", json_body={"name": None})
    yield Exchange("status, name a number", "POST", "/system/status", json_body={"name": 5})
    yield Exchange(
        "status, name no label value", "POST", "/system/status", json_body={"name": "a b"}
    )
    yield Exchange(
        "status, username no label value",
        "POST",
        "/system/status",
        json_body={"username": "x" * 64},
    )
    yield Exchange("delete", "POST", "/system/delete", json_body={}, guid_of="start 01")
    yield Exchange(
        "status after delete", "POST", "/system/status", json_body={}, guid_of="start 01"
    )
    yield Exchange(
        "delete unknown GUID",
        "POST",
        "/system/delete",
        json_body={"name": "0123456789abcdef0123456789abcdef"},
    )
    yield Exchange("delete without name", "POST", "/system/delete", json_body={})
    yield Exchange("delete, name a number", "POST", "/system/delete", json_body={"name": 5})
    yield Exchange("start, body not JSON", "POST", "/system/start", content=b"{not json")
    yield Exchange(
        "start, text/plain", "POST", "/system/start", content=b"{}", content_type="text/plain"
    )
    yield Exchange("start, empty body", "POST", "/system/start", content=b"", content_type=None)
    yield Exchange("start, null body", "POST", "/system/start", content=b"null")
    yield Exchange("start, list body", "POST", "/system/start", content=b"[]")
    for name in ("08", "17", "18", "19", "20", "21"):
        yield Exchange(
            f"recorded failure {name}", "POST", "/system/start", json_body=recorded(name)["json"]
        )
    yield Exchange("GET status", "GET", "/system/status", content_type=None)
    yield Exchange(
        "modify",
        "POST",
        "/system/modify",
        json_body={"tycho-guid": "0123456789abcdef0123456789abcdef", "cpu": "1"},
    )
    yield Exchange("unknown path", "POST", "/system/nothing", json_body={})
    good = recorded("22")["json"]
    yield Exchange(
        "start, a probe with two handlers",
        "POST",
        "/system/start",
        json_body={
            **good,
            "system": {
                "services": {
                    "nginx": {
                        **good["system"]["services"]["nginx"],
                        "ext": {"kube": {"livenessProbe": {"httpGet": {}, "cmd": ["true"]}}},
                    }
                }
            },
        },
        differs="own-words",
    )
    yield Exchange(
        "start, a probe without a handler",
        "POST",
        "/system/start",
        json_body={
            **good,
            "system": {
                "services": {
                    "nginx": {
                        **good["system"]["services"]["nginx"],
                        "ext": {"kube": {"livenessProbe": {"delay": 1}}},
                    }
                }
            },
        },
        differs="stricter",
    )
    yield Exchange(
        "start, duplicate service port",
        "POST",
        "/system/start",
        json_body={
            **good,
            "system": {"services": {"nginx": {"image": "nginx", "ports": ["80", "8080:80"]}}},
            "services": {"nginx": {"port": "80", "clients": []}},
        },
        differs="server-rules",
    )


def _shape(value: Any) -> Any:
    """Keys in order and value types, with GUIDs, times and ports normalized away."""
    if isinstance(value, dict):
        return [(_GUID.sub("<guid>", k), _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, str):
        return "<time>" if _TIME.match(value) else _GUID.sub("<guid>", value)
    return type(value).__name__


def _message(text: str) -> list[str]:
    lines = _GUID.sub("<guid>", text).strip().splitlines()
    return [lines[0], lines[-1]] if len(lines) > 1 else lines


def _normalized(answer: httpx.Response, differs: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": answer.status_code,
        "content-type": answer.headers.get("content-type"),
        "cors": answer.headers.get("access-control-allow-origin"),
    }
    if answer.headers.get("content-type", "").startswith("application/json"):
        body = answer.json()
        if isinstance(body, dict) and {"status", "result", "message"} <= set(body):
            out["envelope"] = body["status"]
            if differs is None:
                out["message"] = _message(body["message"])
                result = body["result"]
                for endpoint in (
                    result.get("containers", {}) if isinstance(result, dict) else {}
                ).values():
                    endpoint.update({k: "<port>" for k in endpoint if k.startswith("port-")})
                    endpoint["ip_address"] = "<ip>"
                if isinstance(result, list):
                    for entry in result:
                        if "is_ready" in entry:  # left out by releases that do not report it
                            entry["is_ready"] = "<ready>"
                if body["status"] == "error" and isinstance(result, dict):
                    result = {"error": _message(str(result.get("error")))}
                out["result"] = _shape(result)
                out["keys"] = list(body)
        elif differs is None:
            out["body"] = _shape(body)
    elif differs is None:
        out["text"] = answer.text
    return out


@pytest.mark.realserver
def test_the_fake_answers_as_the_real_server_does(real_tycho: RealTycho) -> None:
    fake = FakeTycho(release=real_tycho.release)
    real_guids: dict[str, str] = {}
    fake_guids: dict[str, str] = {}
    mismatches = []
    with fake.serve() as fake_url:
        for exchange in sequence(real_tycho.adapted):
            real = exchange.send(real_tycho.url, real_guids)
            mock = exchange.send(fake_url, fake_guids)
            for guids, answer in ((real_guids, real), (fake_guids, mock)):
                if answer.headers.get("content-type", "").startswith("application/json"):
                    result = (
                        answer.json().get("result") if isinstance(answer.json(), dict) else None
                    )
                    if isinstance(result, dict) and "sid" in result:
                        guids[exchange.label] = result["sid"]
            expected, got = _normalized(real, exchange.differs), _normalized(mock, exchange.differs)
            if exchange.differs is not None:
                assert exchange.differs in DIFFERENCES, exchange.differs
                if exchange.differs == "stricter":
                    expected["envelope"] = "error"  # the document rejects what servers accept
            if expected != got:
                mismatches.append((exchange.label, expected, got))
    assert not mismatches, "\n\n".join(
        f"{label}:\n  real: {expected}\n  fake: {got}" for label, expected, got in mismatches
    )
