"""The OpenAPI document (``openapi/tycho.yaml``) at run time, and JSON Schema validation against it.

The document is found in a built wheel as ``tycho_client/_spec/tycho.yaml`` (hatch force-includes it
there) and in a source checkout as ``openapi/tycho.yaml``. Its schemas are JSON Schema 2020-12
(OpenAPI 3.1), so requests and responses are checked with :mod:`jsonschema`'s
``Draft202012Validator``, with ``$ref`` resolved inside the document by a :mod:`referencing`
registry holding the whole document. This deliberately does *not* use the pydantic models: the fake
and the contract tests check the models and the document against each other.

It lives in the product (not in :mod:`tycho_client.testing`) because ``tycho spec`` and
``tycho validate`` need it too; the fake imports it from here. Imports stay cheap: ``tycho spec``
only needs :func:`spec_text`, so PyYAML, jsonschema and
referencing are imported inside the functions that need them.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from jsonschema.protocols import Validator

    from ._generated.operations import Operation, OperationName

__all__ = [
    "SPEC_URI",
    "load_spec",
    "operation_of",
    "problems",
    "request_validator",
    "resolved_schema",
    "response_validator",
    "schema_validator",
    "spec_path",
    "spec_text",
    "success_example",
]

SPEC_URI = "urn:tycho-client:openapi"
"""The URI the document is registered under; its ``#/...`` references resolve against it."""

_PACKAGE = "tycho_client._spec"
_RESOURCE = "tycho.yaml"
# Problems are described by field path and schema keyword, never by the offending value: request
# bodies carry .env values, which may be secrets.
_MAX_PROBLEMS = 20


def _packaged() -> Traversable | None:
    """The document inside the installed package (a built wheel), if it is there."""
    try:
        resource = importlib.resources.files(_PACKAGE).joinpath(_RESOURCE)
    except (ModuleNotFoundError, TypeError):
        return None
    return resource if resource.is_file() else None


def _repo_copy() -> Path:
    return Path(__file__).resolve().parents[1] / "openapi" / "tycho.yaml"


def spec_path() -> Path:
    """Where the OpenAPI document is: inside the installed package, else in the source checkout.

    Raises ``FileNotFoundError`` if it is in neither place, or packaged somewhere that is not a
    file system path (a zip); :func:`spec_text` reads it there too.
    """
    packaged = _packaged()
    if isinstance(packaged, Path):
        return packaged
    if packaged is None and _repo_copy().is_file():
        return _repo_copy()
    raise FileNotFoundError(
        f"the OpenAPI document is not a file: neither {_PACKAGE}/{_RESOURCE} nor {_repo_copy()}"
    )


@functools.lru_cache(maxsize=1)
def spec_text() -> str:
    """The OpenAPI document as YAML text, exactly as shipped."""
    packaged = _packaged()
    if packaged is not None:
        return packaged.read_text(encoding="utf-8")
    return spec_path().read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The OpenAPI document as a dict. Cached and shared: do not mutate it (deep-copy instead)."""
    import yaml

    document = yaml.safe_load(spec_text())
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{spec_path()} is not an OpenAPI document")
    return document


def operation_of(name: str) -> Operation[Any, Any]:
    """The entry of the operations table (generated from the document) for ``name``, an
    ``operationId`` such as ``start``."""
    from ._generated.operations import OPERATIONS

    found = OPERATIONS.get(cast("OperationName", name))
    if found is None:
        raise KeyError(f"the document has no operation {name!r}")
    return found


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


@functools.cache
def schema_validator(pointer: str) -> Validator:
    """A validator for the schema at a JSON pointer of the document, e.g.
    ``/components/schemas/StartRequest``; its ``$ref`` s resolve within the document."""
    from tycho_client._extras import TESTING, require

    require("jsonschema", TESTING, feature="validation against the OpenAPI document")
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry())


def _operation(name: str) -> tuple[str, dict[str, Any]]:
    """The JSON pointer of an operation in the document, and the operation there."""
    entry = operation_of(name)
    method = entry.method.lower()
    found = load_spec()["paths"][entry.path][method]
    return f"/paths/{_pointer_escape(entry.path)}/{method}", found


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _follow(node: Any) -> Any:
    """A document node with a (non-schema) ``$ref``, such as a shared response, looked up."""
    document = load_spec()
    while isinstance(node, dict) and "$ref" in node and str(node["$ref"]).startswith("#/"):
        target: Any = document
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@functools.cache
def request_validator(operation: str) -> Validator:
    """The validator of an operation's JSON request body (``start``, ``status``, ...)."""
    pointer, _ = _operation(operation)
    return schema_validator(f"{pointer}/requestBody/content/application~1json/schema")


@functools.cache
def response_validator(operation: str, status_code: int, content_type: str) -> Validator | None:
    """The validator of an operation's answer with this HTTP status and media type, or ``None``
    when the document describes no such answer."""
    pointer, found = _operation(operation)
    pointer = f"{pointer}/responses/{status_code}"
    response = found.get("responses", {}).get(str(status_code))
    if isinstance(response, dict) and str(response.get("$ref", "")).startswith("#/"):
        # A shared response (components/responses): its schema lives there.
        pointer = str(response["$ref"])[1:]
        response = _follow(response)
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not isinstance(response, dict) or "schema" not in response.get("content", {}).get(
        media_type, {}
    ):
        return None
    return schema_validator(f"{pointer}/content/{_pointer_escape(media_type)}/schema")


def success_example(operation: str) -> dict[str, Any]:
    """The document's first example of an operation's HTTP 200 answer that succeeds."""
    _, found = _operation(operation)
    content = _follow(found["responses"]["200"])["content"]["application/json"]
    for example in content.get("examples", {}).values():
        value = _follow(example).get("value")
        if isinstance(value, dict) and value.get("status") == "success":
            return value
    raise KeyError(f"the document has no successful example answer of {operation!r}")


def _describe(error: Any) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Name the alternative that came closest rather than "fails oneOf".
        from jsonschema.exceptions import best_match

        error = best_match(error.context)
    where = (
        "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
        ).lstrip(".")
        or "(body)"
    )
    keyword = error.validator
    if keyword in ("required", "additionalProperties", "unevaluatedProperties"):
        # These messages name keys, not values.
        return f"{where}: {error.message}"
    expected = error.validator_value
    if keyword in ("oneOf", "anyOf", "allOf", "not", "$ref"):
        expected = "the schema"
    return f"{where}: fails {keyword!r} ({expected!r})"


def problems(validator: Validator, instance: Any) -> list[str]:
    """Why ``instance`` fails ``validator``, as ``path: fails 'keyword' (expected)`` lines.

    Values from the instance are never quoted (they may be secrets); an empty list means valid.
    """
    errors: Iterable[Any] = validator.iter_errors(instance)
    found = sorted(errors, key=lambda error: list(map(str, error.absolute_path)))
    return [_describe(error) for error in found[:_MAX_PROBLEMS]]


def resolved_schema(pointer: str) -> dict[str, Any]:
    """The schema at ``pointer`` with every ``$ref`` inlined (the document has no recursive
    references), for tools such as hypothesis-jsonschema that do not resolve references."""

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                if ref in seen:
                    raise ValueError(f"recursive reference {ref} cannot be inlined")
                target = _follow({"$ref": ref})
                merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
                return inline(merged, (*seen, ref))
            return {key: inline(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        return node

    start = _follow({"$ref": f"#{pointer}"})
    result = inline(copy.deepcopy(start), ())
    if not isinstance(result, dict):
        raise TypeError(f"#{pointer} is not a schema object")
    return result
