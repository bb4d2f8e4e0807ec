"""Everything the CLI prints goes through here: escaping, lines, tables, JSON and YAML.

Text that came from a server or a file is shown with its control characters escaped
(:func:`escape`: ``\\x1b``, ``\\n``), so that a system name cannot move the cursor, clear the
screen or hide text in an operator's terminal. ``-o json`` and ``-o yaml`` stay exact: both
encoders escape control characters themselves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from tycho_client.errors import escape_controls

NONE_CELL = "<none>"


def escape(text: object) -> str:
    """``text`` (any object, as ``str()`` shows it) safe to print on a terminal: the library's
    :func:`~tycho_client.errors.escape_controls`, the one escaper of client and CLI."""
    return escape_controls(text if isinstance(text, str) else str(text))


def say(text: object = "") -> None:
    """One line of results on stdout, escaped."""
    print(escape(text))


def tell(text: object) -> None:
    """One line for the person at the terminal (notes, progress, warnings) on stderr, escaped."""
    print(escape(text), file=sys.stderr)


def warn(text: object) -> None:
    tell(f"tycho: warning: {text}")


def error_line(text: object) -> None:
    """``tycho: error: text`` on stderr: the CLI's one line per failure."""
    tell(f"tycho: error: {text}")


def cell(value: object) -> str:
    return NONE_CELL if value is None else escape(value)


def print_table(
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[object]],
    *,
    headers: bool = True,
) -> None:
    """Left-aligned columns, each at least its minimum width; nothing truncated; cells escaped."""
    for line in table_lines(columns, rows, headers=headers):
        print(line)


def table_lines(
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[object]],
    *,
    headers: bool = True,
) -> list[str]:
    texts = [[cell(value) for value in row] for row in rows]
    widths = [
        max([minimum, len(title)] + [len(row[index]) for row in texts])
        for index, (title, minimum) in enumerate(columns)
    ]
    shown = [[title for title, _ in columns], *texts] if headers else texts
    lines = []
    for row in shown:
        padded = [text.ljust(width) for text, width in zip(row[:-1], widths[:-1], strict=True)]
        lines.append(" ".join([*padded, row[-1]]).rstrip())
    return lines


def print_data(data: Any, output: str) -> None:
    """``data`` (plain JSON types) as ``json`` or ``yaml``, exact (no escaping needed: both
    encoders write control characters as escapes)."""
    if output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    else:
        print(json.dumps(data, indent=2))


def plain(model: Any) -> Any:
    """A response model as JSON types, with the wire's field names (``port-1``)."""
    return model.model_dump(mode="json", by_alias=True)
