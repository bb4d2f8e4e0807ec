"""The running real Tycho server, as the suite's fixtures hand it to tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from k8s_cluster import FakeKubeCluster

from tycho_client.build import with_integer_gpus
from tycho_client.releases import Release, release

SUITE_VARIABLE = "REALSERVER_SUITE"
EXAMPLES = {"full": 200, "subset": 40}
"""Start examples of the property tests per suite (``REALSERVER_EXAMPLES`` wins)."""


def suite() -> str:
    """``full`` (the default) or ``subset`` (``REALSERVER_SUITE``: what the CI matrix runs for
    the releases but 1.17.3: fewer examples, drawn the same way on every run)."""
    value = os.environ.get(SUITE_VARIABLE, "full").strip() or "full"
    if value not in EXAMPLES:
        raise ValueError(f"{SUITE_VARIABLE}={value}: not one of {', '.join(EXAMPLES)}")
    return value


def examples() -> int:
    """How many start requests a property test draws."""
    given = os.environ.get("REALSERVER_EXAMPLES", "").strip()
    return int(given) if given else EXAMPLES[suite()]


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

    @property
    def behaviour(self) -> Release:
        """How the release behaves (the one table: tycho_client.releases)."""
        return release(self.release)

    @property
    def ambassador(self) -> bool:
        """Whether the server fronts systems through the ambassador (the suite's cluster has the
        ``ambassador`` Service; the 2024 builds find it only by ``AMBASSADOR_SVC_NAME``). Only
        then do releases render the proxy rewrite."""
        if not self.behaviour.ambassador_by_variable:
            return True
        return self.variables.get("AMBASSADOR_SVC_NAME") == "ambassador"

    def adapted(self, body: Any) -> Any:
        """A start body as tycho-client sends it to this release: with integer GPUs where the
        release asserts them (1.14.0 - 1.17.1), as it is elsewhere."""
        return with_integer_gpus(body) if self.behaviour.gpu_assertion else body

    def post(self, operation: str, body: Any, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/system/{operation}", json=body, timeout=30.0, **kwargs)

    @contextlib.contextmanager
    def without_ambassador(self) -> Iterator[None]:
        self.cluster.remove_ambassador()
        try:
            yield
        finally:
            self.cluster.add_ambassador()
