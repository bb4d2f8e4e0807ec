"""The public surface: everything in ``tycho_client.__all__`` resolves, lazily and cheaply."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tycho_client
import tycho_client.testing


def test_every_public_name_resolves_to_its_module() -> None:
    for package in (tycho_client, tycho_client.testing):
        lazy = set(package._LOCATIONS)
        assert set(package.__all__) - {"__version__"} == lazy
        for name in package.__all__:
            value = getattr(package, name)
            assert value is not None
            if name in lazy:
                module = f"{package.__name__}.{package._LOCATIONS[name]}"
                assert getattr(sys.modules[module], name) is value


def test_the_names_type_checkers_see_are_the_public_names() -> None:
    # The TYPE_CHECKING block is what mypy and pyright read; _EXPORTS is what runs.
    for package in (tycho_client, tycho_client.testing):
        tree = ast.parse(Path(package.__file__ or "").read_text(encoding="utf-8"))
        typed: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                for imported in ast.walk(node):
                    if isinstance(imported, ast.ImportFrom) and imported.module not in (
                        "typing",
                        "collections.abc",
                    ):
                        for alias in imported.names:
                            typed[alias.asname or alias.name] = imported.module or ""
        assert set(typed) == set(package._LOCATIONS), package.__name__
        for name, module in typed.items():
            assert module.rsplit(".", 1)[-1] == package._LOCATIONS[name].rsplit(".", 1)[-1]


def test_models_are_importable_from_the_package() -> None:
    from tycho_client import DeleteRequest, StartRequest, StatusResponse
    from tycho_client.models import DeleteRequest as D, StartRequest as S, StatusResponse as R

    assert (StartRequest, DeleteRequest, StatusResponse) == (S, D, R)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        tycho_client.NoSuchThing  # noqa: B018


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        # `tycho --help` imports tycho_client first: not even typing.
        ("tycho_client", ["httpx", "jsonschema", "kubernetes", "pydantic", "typing", "yaml"]),
        ("tycho_client.testing", ["httpx", "jsonschema", "kubernetes", "pydantic", "yaml"]),
    ],
)
def test_importing_a_package_loads_nothing_heavy(module: str, heavy: list[str]) -> None:
    probe = (
        f"import sys, {module}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
