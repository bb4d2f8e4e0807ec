"""Generated code is current: the sync face and the raw views are what aio.py makes, the models
and the operations table what the document makes (scripts/generate.py --check)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from tycho_client import AsyncTychoClient, TychoClient

ROOT = Path(__file__).parents[1]


def test_everything_generated_is_what_its_source_makes() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_both_faces_have_the_same_methods_and_parameters() -> None:
    def public(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(member).parameters)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    sync, async_ = public(TychoClient), public(AsyncTychoClient)
    async_.pop("aclose")  # async-only spelling; `close` exists on both
    assert sync == async_
    for name in sync:
        assert inspect.iscoroutinefunction(getattr(AsyncTychoClient, name)) or name in (
            "with_options",
            "format_name",
            "parse_env",
        )
