"""A YAML error as an editor shows it: where (line and column), what is wrong in words, and the
line itself with a caret under the place.

PyYAML's messages are the parser's ("while scanning for the next token found character that
cannot start any token"); the common mistakes are said here in words: a tab, a quote or a
bracket not closed, a bad indentation, a ``key: value`` where none can start.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from .._limits import MAX_NESTING
from ..errors import escape_controls

__all__ = ["Spot", "excerpt", "explain", "spot_of_index"]

# The line breaks YAML counts (its marks' line numbers), not all those str.splitlines() knows.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_SHOWN = 100
"""Most characters of the offending line an excerpt shows (around the caret)."""
_TAB = "a tab character: YAML indents with spaces only; replace it with spaces"


class Spot(NamedTuple):
    """A place in the text: 1-based ``line`` and ``column``."""

    line: int
    column: int


def _spot(mark: Any) -> Spot | None:
    return Spot(int(mark.line) + 1, int(mark.column) + 1) if mark is not None else None


def spot_of_index(text: str, index: int) -> Spot:
    """The line and column of the character at ``index`` of ``text``."""
    before = _LINE_BREAK.split(text[:index])
    return Spot(len(before), len(before[-1]) + 1)


def _line_text(text: str, line: int) -> str:
    lines = _LINE_BREAK.split(text)
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _char_at(text: str, spot: Spot | None) -> str:
    if spot is None:
        return ""
    line = _line_text(text, spot.line)
    return line[spot.column - 1] if 0 < spot.column <= len(line) else ""


def excerpt(text: str, spot: Spot) -> str:
    """The line at ``spot``, its control characters escaped (at most :data:`_SHOWN` characters
    of it, around the column), and a caret under the column below it: two lines."""
    line = _line_text(text, spot.line)
    before = escape_controls(line[: spot.column - 1])
    after = escape_controls(line[spot.column - 1 :])
    if len(before) > _SHOWN // 2:
        before = "…" + before[-(_SHOWN // 2) :]
    if len(after) > _SHOWN // 2:
        after = after[: _SHOWN // 2] + "…"
    return f"{before}{after}\n{' ' * len(before)}^"


def explain(exc: yaml.YAMLError, text: str) -> tuple[str, Spot | None]:
    """What is wrong, in words, and where (the opening of what is not closed, else where the
    parser stopped)."""
    if isinstance(exc, yaml.reader.ReaderError):
        spot = spot_of_index(text, int(exc.position))
        code = f"U+{int(exc.character):04X}" if isinstance(exc.character, int) else "a character"
        return f"a control character ({code}) YAML does not allow: remove it", spot
    if not isinstance(exc, yaml.MarkedYAMLError):
        return "not valid YAML", None
    problem, context = exc.problem or "", exc.context or ""
    at, opened = _spot(exc.problem_mark), _spot(exc.context_mark)
    char = _char_at(text, at)
    if "tab" in problem or ("cannot start any token" in problem and char == "\t"):
        return _TAB, at
    if "cannot start any token" in problem:
        return f"a value cannot start with {char!r} here: put the value in quotes", at
    if "quoted scalar" in context and "end of stream" in problem:
        quote = _char_at(text, opened) or "quote"
        return f"the quote ({quote}) opened here is never closed: the file ends inside it", opened
    if "escape character" in problem:
        return (
            "an unknown escape after '\\' in a double-quoted string: write '\\\\' for a "
            "backslash, or use single quotes",
            at,
        )
    for kind, bracket, closing in (("sequence", "[", "]"), ("mapping", "{", "}")):
        if f"flow {kind}" in context:
            return (
                f"the '{bracket}' opened here is not closed with '{closing}' (or lacks a ',')",
                opened,
            )
    if "mapping values are not allowed" in problem:
        return (
            "a `key:` where none can start: the line above may lack its ':', or this line's "
            "indentation may be off; a value holding ': ' must be in quotes",
            at,
        )
    if "expected key" in problem or "expected <block end>" in problem:
        if char == "-":
            return "a list item ('-') where a key was expected: indent the list under its key", at
        where = f" (the mapping on line {opened.line})" if opened else ""
        return f"this does not line up with the keys around it{where}: check the indentation", at
    if "could not find expected ':'" in problem:
        return "a key without its ':' (a mapping's lines are `key: value`)", at
    if "undefined alias" in problem:
        return "an alias (*name) that no anchor (&name) above it defines", at
    if "duplicate anchor" in context:
        return (
            f"an anchor (&name) defined twice (first on line {opened.line if opened else '?'})",
            at,
        )
    if "directive" in context or "document start" in problem:
        return "a line starting with '%' is a YAML directive: put the value in quotes", at or opened
    if "maximum nesting depth" in problem:
        return f"nests more than {MAX_NESTING} levels deep", at
    if "end of stream" in problem:
        return "the file ends in the middle of a value", at
    # The parser's own words, without the source line PyYAML's str() would quote.
    return f"not valid YAML: {' '.join(part for part in (context, problem) if part)}", at or opened
