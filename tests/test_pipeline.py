"""The request pipeline runs each step once: one `up` normalizes once and formats the name once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tycho_client import AsyncTychoClient, TychoClient, build, compose, models, naming
from tycho_client.testing import FakeTycho

EXAMPLE = Path(__file__).parents[1] / "examples" / "webstack" / "docker-compose.yaml"
ENV = "WEB_PORT=8080\nPOSTGRES_USER=web\nPOSTGRES_PASSWORD=pw\n"
# `up` normalizes with normalize_collecting (to report every problem), `start` with
# normalize_compose: either counts as the one normalization.
STEPS = {"normalize_compose": compose, "normalize_collecting": compose, "format_name": naming}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts calls of each pipeline step, wherever a module imported it from."""
    counted: Counter[str] = Counter()
    for name, home in STEPS.items():
        original: Callable[..., Any] = getattr(home, name)

        def counting(
            *args: Any, _name: str = name, _f: Callable[..., Any] = original, **kwargs: Any
        ) -> Any:
            counted[_name] += 1
            return _f(*args, **kwargs)

        for module in (home, build, models):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, counting)
    return counted


@pytest.fixture
def url() -> Iterator[str]:
    with FakeTycho().serve() as served:
        yield served


def test_up_normalizes_once_and_formats_the_name_once(calls: Counter[str], url: str) -> None:
    with TychoClient(url, username="renci") as tycho:
        started = tycho.up("My Web Stack", EXAMPLE.read_text(), ENV)
    assert started.result.name.startswith("my-web-stack-")
    assert calls == Counter({"normalize_collecting": 1, "format_name": 1})


@pytest.mark.anyio
async def test_async_up_is_the_same_pipeline(calls: Counter[str], url: str) -> None:
    async with AsyncTychoClient(url, username="renci") as tycho:
        await tycho.up("My Web Stack", EXAMPLE.read_text(), ENV)
    assert calls == Counter({"normalize_collecting": 1, "format_name": 1})


def test_start_with_a_mapping_normalizes_once(calls: Counter[str], url: str) -> None:
    system = {"services": {"web": {"image": "nginx", "ports": [8080]}}}
    with TychoClient(url, username="renci") as tycho:
        started = tycho.start({"name": "web", "system": system})
    assert started.result.containers is not None
    assert calls == Counter({"normalize_compose": 1, "format_name": 1})


def test_a_request_built_by_the_pipeline_is_the_one_the_model_would_build() -> None:
    built = build.up_request("web", EXAMPLE.read_text(), ENV, username="renci")
    # The same data through the model alone (it normalizes and formats itself) agrees.
    again = models.StartRequest.model_validate(
        {**models.wire_dict(built), "name": "Web", "system": built.system.model_dump()}
    )
    assert models.wire_dict(again) == models.wire_dict(built)


def test_status_needs_no_compose_or_env_code(url: str) -> None:
    probe = (
        "import sys\n"
        "from tycho_client import TychoClient\n"
        f"TychoClient({url!r}).status()\n"
        "print(sorted(m for m in ('tycho_client.compose', 'tycho_client.envfile', 'yaml')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
