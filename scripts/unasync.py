"""Make the sync face and the raw views from the async face (run by ``scripts/generate.py``).

One source, three outputs, as httpcore keeps its sync code:

- ``tycho_client/client.py``: ``tycho_client/aio.py`` with ``async``/``await`` taken out and each
  async name replaced by its sync twin (whole tokens only; blocks between ``# async-only: begin``
  and ``# async-only: end`` are left out);
- ``tycho_client/_raw_views.py``: ``client.with_raw_response`` of each face. Every operation
  method whose body is ``return await self._call...(...)`` gets a twin with the same parameters
  that returns the :class:`~tycho_client.RawResponse` (``self._exchange...``) instead of the model.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tycho_client" / "aio.py"
TARGET = ROOT / "tycho_client" / "client.py"
RAW_VIEWS = ROOT / "tycho_client" / "_raw_views.py"

HEADER = "# Generated from aio.py by scripts/generate.py: edit aio.py, not this file.\n"
SYNC_DOCSTRING = '''"""TychoClient: the typed, validating, retrying client of the Tycho API.

For blocking code; generated from :mod:`tycho_client.aio` by ``scripts/generate.py``: edit
that file, not this one.
"""'''

# Whole-token replacements, in order.
TOKENS: tuple[tuple[str, str], ...] = (
    ("AsyncTychoClientWithRawResponse", "TychoClientWithRawResponse"),
    ("AsyncTychoClient", "TychoClient"),
    ("AsyncClientKwargs", "ClientKwargs"),
    ("AsyncDeadlineTransport", "DeadlineTransport"),
    ("httpx.AsyncClient", "httpx.Client"),
    ("httpx.AsyncBaseTransport", "httpx.BaseTransport"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    ("aclose", "close"),
    ("aiter_raw", "iter_raw"),
    ("anyio.sleep", "time.sleep"),
)
_ASYNC_ONLY = re.compile(
    r"^ *# async-only: begin\n.*?^ *# async-only: end\n", re.DOTALL | re.MULTILINE
)
# What a raw twin calls instead of what its operation calls.
_RAW_CALLS = {
    "_call": "_exchange",
    "_call_service": "_exchange_service",
    "_call_start": "_exchange_start",
}


def generate(source: str) -> str:
    """The sync module's text for the async module's text (before formatting)."""
    text = _ASYNC_ONLY.sub("", source)
    docstring = ast.get_docstring(ast.parse(text), clean=False)
    text = text.replace(f'"""{docstring}"""', SYNC_DOCSTRING, 1)
    for token, replacement in TOKENS:
        text = re.sub(rf"\b{re.escape(token)}\b", replacement, text)
    text = re.sub(r"^import anyio\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"\basync (def|with|for)\b", r"\1", text)
    text = re.sub(r"\bawait ", "", text)
    return HEADER + text


class _ThroughClient(ast.NodeTransformer):
    """``self.x`` as ``self._client.x``, and the operation's call as its raw twin's."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            attr = _RAW_CALLS.get(node.attr, node.attr)
            client = ast.Attribute(ast.Name("self", ast.Load()), "_client", ast.Load())
            return ast.Attribute(client, attr, node.ctx)
        return node


def _operation_call(method: ast.AsyncFunctionDef | ast.FunctionDef) -> ast.Call | None:
    """The ``self._call...(...)`` that ``method`` returns, if that is all it does."""
    body = method.body[1:] if ast.get_docstring(method) else method.body
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    value = body[0].value
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return None
    func = value.func
    calls_self = isinstance(func.value, ast.Name) and func.value.id == "self"
    return value if calls_self and func.attr in _RAW_CALLS else None


def _raw_view(module: ast.Module, face: str) -> tuple[list[str], str]:
    """The imports of ``module`` and the text of ``face``'s raw view class."""
    imports = [
        ast.unparse(node)
        for node in module.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _is_future(node)
    ]
    cls = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == face)
    lines = [
        f"class {face}WithRawResponse:",
        f'    """``client.with_raw_response`` of :class:`~tycho_client.{face}`: each operation',
        "    with the same parameters and checks, answering with the",
        '    :class:`~tycho_client.RawResponse` behind its model."""',
        "",
        f"    def __init__(self, client: {face}) -> None:",
        "        self._client = client",
    ]
    for method in cls.body:
        if not isinstance(method, (ast.AsyncFunctionDef, ast.FunctionDef)):
            continue
        call = _operation_call(method)
        if call is None or method.name.startswith("_") or method.returns is None:
            continue
        twin = _ThroughClient().visit(ast.parse(ast.unparse(call), mode="eval")).body
        prefix = "async " if isinstance(method, ast.AsyncFunctionDef) else ""
        waits = "await " if prefix else ""
        lines += [
            "",
            f"    {prefix}def {method.name}({ast.unparse(method.args)}) -> "
            f"RawResponse[{ast.unparse(method.returns)}]:",
            f'        """:meth:`{face}.{method.name}`, answering with its RawResponse."""',
            f"        return {waits}{ast.unparse(twin)}",
        ]
    return imports, "\n".join(lines) + "\n"


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def raw_views(async_source: str, sync_source: str) -> str:
    """The text of ``_raw_views.py`` (before formatting and import clean-up)."""
    async_imports, async_view = _raw_view(ast.parse(async_source), "AsyncTychoClient")
    sync_imports, sync_view = _raw_view(ast.parse(sync_source), "TychoClient")
    imports = dict.fromkeys(
        line for line in [*async_imports, *sync_imports] if "_raw_views" not in line
    )
    return "\n".join(
        [
            HEADER.rstrip(),
            '"""``client.with_raw_response``: the raw views of both faces.\n\nGenerated from'
            " :mod:`tycho_client.aio` by ``scripts/generate.py``: edit that file, not this one."
            '\n"""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import TYPE_CHECKING",
            "",
            *imports,
            "",
            "if TYPE_CHECKING:",
            "    from .aio import AsyncTychoClient",
            "    from .client import TychoClient",
            "",
            '__all__ = ["AsyncTychoClientWithRawResponse", "TychoClientWithRawResponse"]',
            "",
            "",
            async_view,
            "",
            sync_view,
        ]
    )


def _ruff(arguments: list[str], text: str, path: Path) -> str:
    done = subprocess.run(  # noqa: S603 - a development tool, run on our own text
        [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff failed on the generated {path.name}: {done.stderr}")
    return done.stdout


def formatted(text: str, path: Path = TARGET, *, prune_imports: bool = False) -> str:
    """``text`` as ``ruff format`` writes it (the generated file passes the format check);
    ``prune_imports``: unused imports dropped and the rest sorted first."""
    if prune_imports:
        text = _ruff(["check", "--fix", "--quiet", "--select", "F401,I", "--exit-zero"], text, path)
    return _ruff(["format"], text, path)


def outputs() -> dict[Path, Callable[[], str]]:
    """What this script makes (for ``scripts/generate.py``): each target and how to make it."""
    source = SOURCE.read_text(encoding="utf-8")
    sync = formatted(generate(source), prune_imports=True)
    return {
        TARGET: lambda: sync,
        RAW_VIEWS: lambda: formatted(raw_views(source, sync), RAW_VIEWS, prune_imports=True),
    }
