"""Rendering results on stdout: tables like the reference CLI's, JSON, YAML."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

NONE_CELL = "<none>"


def cell(value: object) -> str:
    return NONE_CELL if value is None else str(value)


def print_table(columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned columns, each at least its width from the reference CLI; nothing truncated."""
    texts = [[cell(value) for value in row] for row in rows]
    widths = [
        max([minimum, len(title)] + [len(row[index]) for row in texts])
        for index, (title, minimum) in enumerate(columns)
    ]
    for row in [[title for title, _ in columns], *texts]:
        padded = [text.ljust(width) for text, width in zip(row[:-1], widths[:-1], strict=True)]
        print(" ".join([*padded, row[-1]]))


def print_data(data: Any, output: str) -> None:
    """``data`` (plain JSON types) as ``json`` or ``yaml``."""
    if output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    else:
        print(json.dumps(data, indent=2))


def plain(model: Any) -> Any:
    """A response model as JSON types, with the wire's field names (``port-1``)."""
    return model.model_dump(mode="json", by_alias=True)
