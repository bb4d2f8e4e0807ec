"""Generate tycho_client/client.py (the sync face) from tycho_client/aio.py (the async one).

One source, two faces, as httpcore does: the sync client is the async client with ``async`` and
``await`` taken out and each async name replaced by its sync twin. Run it after editing aio.py;
``--check`` (run by CI and by tests/test_unasync.py) fails when client.py is not what aio.py makes.

    python scripts/unasync.py            # rewrite tycho_client/client.py
    python scripts/unasync.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tycho_client" / "aio.py"
TARGET = ROOT / "tycho_client" / "client.py"

HEADER = "# Generated from aio.py by scripts/unasync.py: edit aio.py, not this file.\n"

# Whole-word replacements, in order; the first matching pattern wins at each place.
REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (r"AsyncTychoClient", "TychoClient"),
    (r"httpx\.AsyncClient", "httpx.Client"),
    (r"httpx\.AsyncBaseTransport", "httpx.BaseTransport"),
    (r"for async code", "with blocking I/O"),
    (r"An async client of", "A client of"),
    (
        r"this face only sends, sleeps and awaits\. Runs on asyncio or trio\.",
        "this face only sends and sleeps.",
    ),
    (
        r"an async context manager, or await :meth:`aclose`",
        "a context manager, or call :meth:`close`",
    ),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\bto_raw_async\b", "to_raw"),
    (r"\banyio\.sleep\b", "time.sleep"),
    (r"^import anyio\n", ""),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
)
_ASYNC_ONLY = re.compile(
    r"^ *# async-only: begin\n.*?^ *# async-only: end\n", re.DOTALL | re.MULTILINE
)
_SOURCE_NOTE = re.compile(r"\nThis module is the one source of both faces:.*?\"\"\"", re.DOTALL)


def generate(source: str) -> str:
    """The sync module's text for the async module's text (before formatting)."""
    text = _ASYNC_ONLY.sub("", source)
    text = _SOURCE_NOTE.sub(
        '\nGenerated from :mod:`tycho_client.aio` by ``scripts/unasync.py``: edit that file.\n"""',
        text,
    )
    for pattern, replacement in REPLACEMENTS:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return HEADER + text


def formatted(text: str) -> str:
    """``text`` as ``ruff format`` writes it (the generated file passes the format check)."""
    done = subprocess.run(  # noqa: S603 - a development tool, run on our own file
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


def outputs() -> dict[Path, Callable[[], str]]:
    """What this script makes (for ``scripts/generate.py``): each target and how to make it."""
    source = SOURCE.read_text(encoding="utf-8")
    return {TARGET: lambda: formatted(generate(source))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if client.py is out of date")
    args = parser.parse_args()
    expected = formatted(generate(SOURCE.read_text(encoding="utf-8")))
    if args.check:
        if TARGET.read_text(encoding="utf-8") != expected:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python scripts/unasync.py")
            return 1
        print(f"{TARGET.relative_to(ROOT)} is what {SOURCE.relative_to(ROOT)} generates")
        return 0
    TARGET.write_text(expected, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
