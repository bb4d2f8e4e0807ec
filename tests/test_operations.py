"""Every operation of the document is whole: a table entry, a method on each face, a raw view and a
route in the fake; and nothing in the product names an operation the document lacks.

``missing_pieces`` is the check; the first tests run it on the real table and code, the last ones
on a table with an operation added, to show that a forgotten piece fails.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tycho_client import AsyncTychoClient, TychoClient
from tycho_client._generated import operations as table
from tycho_client._generated.operations import OPERATIONS, Operation
from tycho_client.aio import AsyncTychoClientWithRawResponse
from tycho_client.client import TychoClientWithRawResponse
from tycho_client.testing import FakeTycho

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ROOT / "tycho_client"
DOCUMENT = yaml.safe_load((ROOT / "openapi" / "tycho.yaml").read_text(encoding="utf-8"))
FACES = (TychoClient, AsyncTychoClient)
RAW_VIEWS = (TychoClientWithRawResponse, AsyncTychoClientWithRawResponse)
PATH = re.compile(r"/system/[A-Za-z0-9_-]+")


def documented() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, the operation's object), from the document itself."""
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    }


def missing_pieces(operations: Mapping[Any, Operation[Any, Any]]) -> list[str]:
    """What is missing for each operation of ``operations`` to be whole."""
    missing: list[str] = []
    fake = FakeTycho(modify_supported=True)
    for name, operation in operations.items():
        for face in (*FACES, *RAW_VIEWS):
            method = getattr(face, name, None)
            if method is None:
                missing.append(f"{face.__name__}.{name}")
                continue
            returns = inspect.signature(method).return_annotation
            expected = operation.response.__name__
            if face in RAW_VIEWS:
                expected = f"RawResponse[{expected}]"
            if returns != expected:
                missing.append(f"{face.__name__}.{name} answers {returns}, not {expected}")
        answer = fake.handle("POST", operation.path, {"Content-Type": "application/json"}, b"{}")
        if answer.status_code != 200 or not answer.content_type.startswith("application/json"):
            missing.append(f"the fake's route {operation.path} ({answer.status_code})")
    return missing


def test_the_table_is_the_documents_operations() -> None:
    assert list(OPERATIONS) == list(documented())
    for name, (method, path, spec) in documented().items():
        operation = OPERATIONS[name]  # type: ignore[index]
        assert (operation.method, operation.path) == (method, path)
        assert operation.safe_to_retry is spec["x-safe-to-retry"]
        assert operation.routed is spec["x-routed"]
        body = spec["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert operation.request.__name__ == body.rsplit("/", 1)[-1]


def test_every_operation_is_whole() -> None:
    assert missing_pieces(OPERATIONS) == []


def test_the_fake_routes_unrouted_operations_only_when_asked() -> None:
    for operation in OPERATIONS.values():
        answer = FakeTycho().handle("POST", operation.path, {}, b"{}")
        assert (answer.status_code == 404) is (not operation.routed)


def test_no_other_place_names_an_operation_path() -> None:
    """Paths are the table's: no string in the product spells one out."""
    generated = PRODUCT / "_generated"
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path in PRODUCT.rglob("*.py")
        if generated not in path.parents
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and PATH.fullmatch(node.value)
    ]
    assert found == []


def test_the_faces_call_only_operations_of_the_table() -> None:
    """Each operation method hands the table's entry to ``_call``: never a name of its own."""
    source = ast.parse((PRODUCT / "aio.py").read_text(encoding="utf-8"))
    called = {
        node.args[0].id
        for node in ast.walk(source)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("_call", "_exchange")
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id.isupper()
    }
    assert called
    assert called <= {name for name in vars(table) if name.isupper() and name != "OPERATIONS"}


def test_an_operation_added_to_the_table_alone_is_reported_missing() -> None:
    extra = Operation(
        name="restart",  # type: ignore[arg-type]
        method="POST",
        path="/system/restart",
        request=OPERATIONS["status"].request,
        response=OPERATIONS["status"].response,
        outcome=OPERATIONS["status"].outcome,
        safe_to_retry=True,
        routed=True,
        summary="Restart a system.",
    )
    missing = missing_pieces({"restart": extra})
    for face in (*FACES, *RAW_VIEWS):
        assert f"{face.__name__}.restart" in missing
    assert "the fake's route /system/restart (404)" in missing


def test_a_face_method_answering_the_wrong_model_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def delete(self: TychoClient, request: Any) -> str:
        return ""

    monkeypatch.setattr(TychoClient, "delete", delete)
    assert missing_pieces({"delete": OPERATIONS["delete"]}) == [
        "TychoClient.delete answers str, not DeleteResponse"
    ]
