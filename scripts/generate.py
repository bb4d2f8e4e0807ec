"""Make everything that is generated from a source in this repository, or check that it is current.

    python scripts/generate.py            # regenerate all of it
    python scripts/generate.py --check    # exit 1 if anything is out of date (CI runs this)

What it makes, each from one source:

- ``generated/tycho_client_generated/models.py``: the pydantic models of ``openapi/tycho.yaml``
  (datamodel-code-generator, configured in ``pyproject.toml``);
- ``generated/tycho_client_generated/operations.py``: the operations table of the same document,
  one :class:`Operation` per ``operationId`` (its path, request and answer models, and the
  document's ``x-safe-to-retry`` and ``x-routed``);
- ``tycho_client/client.py`` and the raw views at the end of it and of ``aio.py``: the sync face,
  from the async face ``tycho_client/aio.py`` (``scripts/unasync.py``);
- the compatibility table of ``README.md`` (between its ``releases`` markers), from the release
  table ``tycho_client/releases.py``.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "tycho.yaml"
OPERATIONS = ROOT / "generated" / "tycho_client_generated" / "operations.py"
README = ROOT / "README.md"
TABLE_BEGIN = "<!-- releases: made by scripts/generate.py from tycho_client/releases.py -->\n"
TABLE_END = "<!-- releases: end -->\n"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import unasync  # noqa: E402 - a sibling script


def ruff_formatted(text: str, path: Path) -> str:
    """``text`` as ``ruff format`` writes it (generated files pass the format check)."""
    done = subprocess.run(  # noqa: S603 - a development tool, run on our own text
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


# ------------------------------------------------------------------------ the operations table

_OPERATIONS_HEADER = '''\
"""The operations of ``openapi/tycho.yaml``: made by ``scripts/generate.py``, never edited by hand.

One :class:`Operation` per ``operationId``: its method and path, the models of its request and of
its successful answer, the ``outcome`` every HTTP 200 answer parses into (the success envelope or
``ErrorResponse``, told apart by ``status``), and what the document's extensions say:
``x-safe-to-retry`` and ``x-routed``.
"""

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from . import models

RequestT = TypeVar("RequestT", bound=BaseModel)
ResponseT = TypeVar("ResponseT", bound=BaseModel)


@dataclass(frozen=True, eq=False)
class Operation(Generic[RequestT, ResponseT]):
    """One operation of the Tycho API document."""

    name: "OperationName"
    """The document's ``operationId``."""
    method: str
    path: str
    request: type[RequestT]
    """The model of the request body, as generated from the document."""
    response: type[ResponseT]
    """The model of a successful answer (``"status": "success"``)."""
    outcome: Any
    """The type of every HTTP 200 answer: ``response`` or ``ErrorResponse`` (a type alias)."""
    safe_to_retry: bool
    """``x-safe-to-retry``: repeating it once the server may have seen it does no harm."""
    routed: bool
    """``x-routed``: real servers route it (``False``: they answer the HTML 404 ``NotRouted``)."""
    summary: str

    def __repr__(self) -> str:
        return f"<Operation {self.name}: {self.method} {self.path}>"

'''


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def operations_text(document: dict[str, Any]) -> str:
    """The text of ``operations.py`` for the parsed document."""
    schemas = document["components"]["schemas"]
    entries: list[tuple[str, str, str, str, str, str, bool, bool, str]] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            name = operation["operationId"]
            request = _ref_name(operation["requestBody"]["content"]["application/json"]["schema"])
            outcome = _ref_name(
                operation["responses"]["200"]["content"]["application/json"]["schema"]
            )
            members = [_ref_name(member) for member in schemas[outcome]["oneOf"]]
            successes = [member for member in members if member != "ErrorResponse"]
            if len(successes) != 1 or "ErrorResponse" not in members:
                raise SystemExit(
                    f"{name}: its 200 answer must be one of a success and ErrorResponse"
                )
            for key in ("x-safe-to-retry", "x-routed"):
                if not isinstance(operation.get(key), bool):
                    raise SystemExit(f"{name}: {key} must be true or false in the document")
            entries.append(
                (
                    name,
                    method.upper(),
                    path,
                    request,
                    successes[0],
                    outcome,
                    operation["x-safe-to-retry"],
                    operation["x-routed"],
                    " ".join(str(operation.get("summary", "")).split()),
                )
            )
    names = [entry[0] for entry in entries]
    lines = [_OPERATIONS_HEADER]
    literal = ", ".join(repr(name) for name in names)
    lines.append(f"OperationName = Literal[{literal}]\n")
    lines.append('"""The names of the operations (the document\'s ``operationId``s)."""\n\n')
    for name, method, path, request, response, outcome, retry, routed, summary in entries:
        lines.append(
            f"{name.upper()}: Operation[models.{request}, models.{response}] = Operation(\n"
            f"    name={name!r},\n    method={method!r},\n    path={path!r},\n"
            f"    request=models.{request},\n    response=models.{response},\n"
            f"    outcome=models.{outcome},\n    safe_to_retry={retry},\n    routed={routed},\n"
            f"    summary={summary!r},\n)\n"
        )
    table = ", ".join(f"{name!r}: {name.upper()}" for name in names)
    lines.append(f"\nOPERATIONS: dict[OperationName, Operation[Any, Any]] = {{{table}}}\n")
    lines.append('"""Every operation of the document, by name, in the document\'s order."""\n')
    return "".join(lines)


def _load_document() -> dict[str, Any]:
    import yaml

    with DOCUMENT.open(encoding="utf-8") as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


# ------------------------------------------------------------------------------------- driver


def _models(check: bool) -> bool:
    """datamodel-codegen, configured in pyproject.toml; True when its output is current."""
    command = [sys.executable, "-m", "datamodel_code_generator"] + (["--check"] if check else [])
    done = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603 - our own tool
    return done.returncode == 0


def readme_text(readme: str) -> str:
    """``readme`` with the compatibility table between its markers made from the release table."""
    from tycho_client.releases import compatibility_table

    before, begin, rest = readme.partition(TABLE_BEGIN)
    _, end, after = rest.partition(TABLE_END)
    if not begin or not end:
        raise SystemExit(f"README.md lacks the lines {TABLE_BEGIN.strip()} and {TABLE_END.strip()}")
    return before + begin + compatibility_table() + end + after


def _outputs() -> dict[Path, Callable[[], str]]:
    document = _load_document()
    outputs: dict[Path, Callable[[], str]] = {
        OPERATIONS: lambda: ruff_formatted(operations_text(document), OPERATIONS),
        README: lambda: readme_text(README.read_text(encoding="utf-8")),
    }
    outputs.update(unasync.outputs())
    return outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if anything is out of date")
    args = parser.parse_args()
    current = _models(args.check)
    for path, make in _outputs().items():
        expected = make()
        shown = path.relative_to(ROOT)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        if existing == expected:
            continue
        if args.check:
            diff = difflib.unified_diff(
                existing.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                f"{shown} (as it is)",
                f"{shown} (as generated)",
                n=1,
            )
            sys.stdout.writelines(list(diff)[:60])
            print(f"{shown} is out of date: run python scripts/generate.py")
            current = False
        else:
            path.write_text(expected, encoding="utf-8")
            print(f"wrote {shown}")
    if args.check and current:
        print("everything generated is current")
    return 0 if current else 1


if __name__ == "__main__":
    raise SystemExit(main())
