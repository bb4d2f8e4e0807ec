"""The OpenAPI document and JSON Schema validation against it: :mod:`tycho_client.openapi`.

Kept under this name for code that imported it from the testing kit.
"""

from __future__ import annotations

from tycho_client.openapi import (
    SPEC_URI,
    load_spec,
    operation_paths,
    problems,
    request_validator,
    resolved_schema,
    response_validator,
    schema_validator,
    spec_path,
    spec_text,
)

__all__ = [
    "SPEC_URI",
    "load_spec",
    "operation_paths",
    "problems",
    "request_validator",
    "resolved_schema",
    "response_validator",
    "schema_validator",
    "spec_path",
    "spec_text",
]
