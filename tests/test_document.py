"""The contract: openapi/tycho.yaml is valid, its examples and the recorded real exchanges fit it,
and the generated models agree with it (checked independently, with jsonschema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tycho_client._generated import models as generated

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATH = ROOT / "openapi" / "tycho.yaml"
WIRE = sorted((ROOT / "tests" / "fixtures" / "wire").glob("*.json"))
DOCUMENT: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text())
_REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:tycho", Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)
OPERATIONS = {"/system/start", "/system/status", "/system/delete", "/system/modify"}


def validator(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at ``pointer`` (e.g. ``#/components/schemas/StartRequest``)."""
    return jsonschema.Draft202012Validator({"$ref": f"urn:tycho{pointer}"}, registry=_REGISTRY)


def schema_ref(schema: dict[str, Any]) -> str:
    return str(schema["$ref"])


def resolve(obj: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` to a reusable response, if ``obj`` is one."""
    if "$ref" in obj:
        node: Any = DOCUMENT
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)
    return obj


def model_for(ref: str) -> Any:
    """The generated model (or type alias) named after the schema ``ref`` points at."""
    return getattr(generated, ref.rsplit("/", 1)[-1])


def parse(ref: str, value: Any) -> Any:
    return pydantic.TypeAdapter(model_for(ref)).validate_python(value)


def dump(ref: str, parsed: Any) -> Any:
    return pydantic.TypeAdapter(model_for(ref)).dump_python(
        parsed, mode="json", by_alias=True, exclude_unset=True
    )


def media_examples() -> list[tuple[str, str, Any]]:
    """Every (where, schema ref, example value) in the document's request and response bodies."""
    found: list[tuple[str, str, Any]] = []
    for path, item in DOCUMENT["paths"].items():
        operation = item["post"]
        media = operation["requestBody"]["content"]["application/json"]
        for name, example in media["examples"].items():
            found.append((f"{path} request {name}", schema_ref(media["schema"]), example["value"]))
        for code, response in operation["responses"].items():
            for content_type, body in resolve(response)["content"].items():
                for name, example in body["examples"].items():
                    where = f"{path} {code} {content_type} {name}"
                    found.append((where, schema_ref(body["schema"]), example["value"]))
    return found


EXAMPLES = media_examples()


def test_document_is_valid_openapi() -> None:
    validate_openapi(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_document_has_every_operation_with_its_id() -> None:
    assert set(DOCUMENT["paths"]) == OPERATIONS
    ids = {item["post"]["operationId"] for item in DOCUMENT["paths"].values()}
    assert ids == {"start", "status", "delete", "modify"}


def test_every_schema_and_property_is_described() -> None:
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                for name, prop in node["properties"].items():
                    if "$ref" not in prop and "description" not in prop:
                        missing.append(f"{where}.{name}")
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for name, schema in DOCUMENT["components"]["schemas"].items():
        if "description" not in schema:
            missing.append(name)
        walk(schema, name)
    assert missing == []


def test_every_operation_has_request_and_response_examples() -> None:
    for path in DOCUMENT["paths"]:
        wheres = [where for where, _, _ in EXAMPLES if where.startswith(path + " ")]
        assert any(" request " in w for w in wheres), path
        assert any(" 200 " in w for w in wheres), path


@pytest.mark.parametrize(("where", "ref", "value"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_fits_its_schema_and_model(where: str, ref: str, value: Any) -> None:
    validator(ref).validate(value)
    if isinstance(value, str):  # an HTML page: its "model" is plain text
        return
    parsed = parse(ref, value)
    assert dump(ref, parsed) == value
    assert parse(ref, dump(ref, parsed)) == parsed


def load_exchange(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def accepted(exchange: dict[str, Any]) -> bool:
    """Whether the real server did what the request asked (HTTP 200 and status success)."""
    response = exchange["response"]
    body = response["json"]
    return bool(
        response["status"] == 200 and isinstance(body, dict) and body.get("status") == "success"
    )


def operation_of(exchange: dict[str, Any]) -> dict[str, Any]:
    return dict(DOCUMENT["paths"][exchange["request"]["path"]]["post"])


@pytest.mark.parametrize("path", WIRE, ids=[p.stem for p in WIRE])
def test_recorded_response_fits_the_document(path: Path) -> None:
    exchange = load_exchange(path)
    response = exchange["response"]
    answer = resolve(operation_of(exchange)["responses"][str(response["status"])])
    content_type = response["content_type"].split(";")[0]
    ref = schema_ref(answer["content"][content_type]["schema"])
    value = response["json"] if response["json"] is not None else response["text"]
    validator(ref).validate(value)
    if isinstance(value, dict):
        parsed = parse(ref, value)
        assert dump(ref, parsed) == value


@pytest.mark.parametrize("path", WIRE, ids=[p.stem for p in WIRE])
def test_recorded_request_is_judged_as_the_server_judged_it(path: Path) -> None:
    exchange = load_exchange(path)
    request = exchange["request"]
    if request["method"] != "POST" or "json" not in request:
        pytest.skip("not a JSON POST: the server never read a body")
    operation = operation_of(exchange)
    ref = schema_ref(operation["requestBody"]["content"]["application/json"]["schema"])
    errors = list(validator(ref).iter_errors(request["json"]))
    if accepted(exchange):
        assert errors == [], f"the real server accepted it: {[e.message for e in errors]}"
        parsed = parse(ref, request["json"])
        assert dump(ref, parsed) == request["json"]


# Requests the real server rejected for reasons a schema can state: the document rejects them too.
REJECTED_BY_SCHEMA = {
    "08-start-missing-system": "system",
    "17-start-missing-name": "name",
    "18-start-principal-object": "principal",
    "19-start-missing-principal": "principal",
    "20-start-env-int-value": "env",
    "24-status-name-not-string": "name",
    "26-delete-missing-name": "name",
    "27-delete-name-not-string": "name",
}


@pytest.mark.parametrize(("stem", "field"), sorted(REJECTED_BY_SCHEMA.items()))
def test_document_rejects_what_the_server_rejected(stem: str, field: str) -> None:
    exchange = load_exchange(next(p for p in WIRE if p.stem == stem))
    assert not accepted(exchange)
    ref = schema_ref(operation_of(exchange)["requestBody"]["content"]["application/json"]["schema"])
    errors = list(validator(ref).iter_errors(exchange["request"]["json"]))
    assert errors, stem
    assert any(field in [*e.absolute_path, e.message] or field in e.message for e in errors)
    with pytest.raises(pydantic.ValidationError) as caught:
        parse(ref, exchange["request"]["json"])
    assert any(field in [str(p) for p in err["loc"]] for err in caught.value.errors())


def test_null_is_absent_in_models_and_never_sent() -> None:
    # Real servers reject {"name": null} (exchange 25); the models read null as "not given" and the
    # client's wire form leaves it out.
    from tycho_client.models import StatusRequest, wire_dict

    exchange = load_exchange(next(p for p in WIRE if p.stem == "25-status-name-null"))
    assert not accepted(exchange)
    assert list(validator("#/components/schemas/StatusRequest").iter_errors({"name": None}))
    assert wire_dict(StatusRequest.model_validate({"name": None})) == {}


START = load_exchange(next(p for p in WIRE if p.stem == "01-start-jupyter-ds"))["request"]["json"]


def without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copy


def with_value(data: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("case", "body", "loc"),
    [
        ("no system", without(START, "system"), ("system",)),
        ("no image", without(START, "system", "services", "jupyter-ds", "image"), ("image",)),
        ("principal object", with_value(START, {"username": "renci"}, "principal"), ("principal",)),
        ("principal number", with_value(START, 7, "principal"), ("principal",)),
        (
            "integer port",
            with_value(START, [8888], "system", "services", "jupyter-ds", "ports"),
            ("ports", 0),
        ),
        ("env number", with_value(START, {"A": 1}, "env"), ("env", "A")),
        (
            "non-pvc volume",
            with_value(START, ["./data:/data"], "system", "services", "jupyter-ds", "volumes"),
            ("volumes", 0),
        ),
        ("long name", with_value(START, "x" * 31, "name"), ("name",)),
    ],
)
def test_generated_model_rejects_what_the_schema_rejects(
    case: str, body: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    assert list(validator("#/components/schemas/StartRequest").iter_errors(body)), case
    with pytest.raises(pydantic.ValidationError) as caught:
        generated.StartRequest.model_validate(body)
    locs = [tuple(err["loc"]) for err in caught.value.errors()]
    assert any(found[-len(loc) :] == loc or found[: len(loc)] == loc for found in locs), locs


def test_aliases_populate_by_field_name_too() -> None:
    by_alias = generated.ModifyRequest.model_validate({"tycho-guid": "a" * 32})
    by_name = generated.ModifyRequest(tycho_guid="a" * 32)
    assert by_alias == by_name
    assert by_name.model_dump(by_alias=True, exclude_none=True) == {"tycho-guid": "a" * 32}
