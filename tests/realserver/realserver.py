"""The running real Tycho server, as the suite's fixtures hand it to tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from k8s_cluster import FakeKubeCluster


@dataclass
class RealTycho:
    """The running real server: ``url``, its ``cluster``, its output so far (``log()``), the
    tycho-api ``release`` and the ``variables`` added to its environment."""

    url: str
    cluster: FakeKubeCluster
    log_path: Path
    release: str = "1.17.3"
    variables: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def post(self, operation: str, body: Any, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/system/{operation}", json=body, timeout=30.0, **kwargs)

    @contextlib.contextmanager
    def without_ambassador(self) -> Iterator[None]:
        self.cluster.remove_ambassador()
        try:
            yield
        finally:
            self.cluster.add_ambassador()
