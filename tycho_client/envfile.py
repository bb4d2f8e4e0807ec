"""Parse ``.env`` text into the string mapping sent as a start request's ``env``.

Semantics (one ``KEY=value`` binding per line):

- Blank lines and lines whose first non-blank character is ``#`` are ignored.
- ``export KEY=value`` is the same as ``KEY=value``; spaces around ``=`` are allowed.
- Keys match ``[A-Za-z_][A-Za-z0-9_]*``. A later binding of the same key wins.
- ``KEY=`` binds the empty string.
- Unquoted values run to the end of the line and are stripped of surrounding blanks. A ``#``
  preceded by a blank starts a comment (``KEY=a # note`` is ``a``); any other ``#`` is part of
  the value (``KEY=a#b`` is ``a#b``).
- ``'single quotes'`` are literal: no escapes, the value ends at the next ``'``.
- ``"double quotes"`` understand the escapes ``\\n \\t \\r \\" \\' \\\\ \\a \\b \\f \\v``; any
  other backslash is kept as written.
- Quoted values may span several lines. After the closing quote only blanks and a ``# comment``
  may follow.
- No interpolation: ``${HOME}`` and ``$HOME`` stay as written. A ``.env`` file never reads the
  process environment.
- A UTF-8 byte order mark at the start and CRLF (or CR) line endings are accepted.
- A line without ``=``, an invalid key, an unterminated quote, text after a closing quote or a
  NUL character in a value (no process environment can hold one) is an
  error (:class:`~tycho_client.errors.TychoEnvError`) naming the line and the key, never the value.
  Every bad line is found in one pass: the error's ``errors`` list them all.

python-dotenv's parser is close but not used: it reads escapes inside single quotes, accepts a
line without ``=`` and any key text, and reports the first blank line before a binding as the
binding's line.
"""

from __future__ import annotations

import re

from tycho_client import _publish
from tycho_client.errors import TychoEnvError, summarize

__all__ = ["parse_env", "parse_env_collecting"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A key that failed _KEY is quoted in errors only when it looks like a mistyped name; anything
# else (a URL, a token pasted without '=') might be a secret.
_SHOWABLE_BAD_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_EXPORT = re.compile(r"export[ \t]+")
_BLANKS = " \t"
_AFTER_QUOTE = re.compile(r"[ \t]*(?:#[^\n]*)?")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(1), match.group(0))


def _closing_double_quote(text: str, start: int) -> int:
    """Index of the '"' closing a value whose first character is at ``start``, or -1."""
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
        elif char == '"':
            return index
        else:
            index += 1
    return -1


_UNTERMINATED = "unterminated"
_KEY_WORDS = (
    "a variable name is letters, digits and '_', not starting with a digit, such as DB_HOST"
)


def _key_problem(key: str) -> str:
    if not key:
        return "a binding has no key before '=' (KEY=value, such as DB_HOST=db)"
    if _SHOWABLE_BAD_KEY.fullmatch(key):
        return f"{key!r} is not a variable name: {_KEY_WORDS}"
    return f"the key is not a variable name: {_KEY_WORDS}"


def parse_env(text: str, *, source: str | None = None) -> dict[str, str]:
    """Parse ``.env`` text (see the module docstring for the rules) into a mapping.

    ``source`` (a file name) is used in error messages only. Raises
    :class:`~tycho_client.errors.TychoEnvError` with the 1-based ``line`` of the first bad
    binding; its ``errors`` name every bad line.
    """
    result, error = parse_env_collecting(text, source=source)
    if error is not None:
        raise error
    return result


def parse_env_collecting(
    text: str, *, source: str | None = None
) -> tuple[dict[str, str], TychoEnvError | None]:
    """:func:`parse_env`, returning the bindings of the good lines with the error naming every
    bad one (or None), so that a caller can go on checking what uses them."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    result: dict[str, str] = {}
    problems: list[TychoEnvError] = []
    pos = 0
    line = 1
    while pos < len(text):
        end_of_line = text.find("\n", pos)
        if end_of_line < 0:
            end_of_line = len(text)
        content = text[pos:end_of_line].strip(_BLANKS)
        next_pos = end_of_line + 1
        if content and not content.startswith("#"):
            try:
                key, value, next_pos = _parse_binding(text, pos, end_of_line, line, source)
            except TychoEnvError as problem:
                problems.append(problem)
                if problem.errors[0].msg.startswith(_UNTERMINATED):
                    # The rest of the text is inside the quote: its lines may be a secret.
                    break
            else:
                if "\0" in value:
                    nul = f"the value of {key} contains a NUL character"
                    problems.append(TychoEnvError(nul, line=line, source=source))
                else:
                    result[key] = value
        line += text.count("\n", pos, next_pos)
        pos = next_pos
    return result, _every(problems, source)


def _every(problems: list[TychoEnvError], source: str | None) -> TychoEnvError | None:
    """One error for every bad line: the first one's, with all of them in ``errors``."""
    if len(problems) <= 1:
        return problems[0] if problems else None
    error = TychoEnvError(problems[0].errors[0].msg, line=problems[0].line, source=source)
    error.errors = [field for problem in problems for field in problem.errors]
    error.message = summarize(problem.message for problem in problems)
    error.args = (error.message,)
    return error


def _parse_binding(
    text: str, pos: int, end_of_line: int, line: int, source: str | None
) -> tuple[str, str, int]:
    """Parse the binding starting at ``pos``; return key, value and where the next line starts."""
    head = text[pos:end_of_line].lstrip(_BLANKS)
    head_start = end_of_line - len(head)
    export = _EXPORT.match(head)
    # `export=1` and `export = 1` bind the key "export"; `export KEY=...` is the keyword.
    if export and not head[export.end() :].startswith("="):
        head_start += export.end()
        head = head[export.end() :]
    key_text, equals, _ = head.partition("=")
    if not equals:
        raise TychoEnvError("expected KEY=value, found no '='", line=line, source=source)
    key = key_text.rstrip(_BLANKS)
    if not _KEY.fullmatch(key):
        raise TychoEnvError(_key_problem(key), line=line, source=source)

    value_start = head_start + len(key_text) + 1
    raw = text[value_start:end_of_line]
    stripped = raw.lstrip(_BLANKS)
    quote_at = end_of_line - len(stripped)
    quote = stripped[:1]
    if quote in ("'", '"'):
        if quote == "'":
            close = text.find("'", quote_at + 1)
        else:
            close = _closing_double_quote(text, quote_at + 1)
        if close < 0:
            kind = "single" if quote == "'" else "double"
            raise TychoEnvError(
                f"{_UNTERMINATED} {kind}-quoted value for {key}: close the quote",
                line=line,
                source=source,
            )
        inner = text[quote_at + 1 : close]
        value = inner if quote == "'" else _ESCAPE.sub(_unescape, inner)
        tail_end = text.find("\n", close)
        if tail_end < 0:
            tail_end = len(text)
        if not _AFTER_QUOTE.fullmatch(text, close + 1, tail_end):
            raise TychoEnvError(
                f"unexpected text after the closing quote of {key}",
                line=line + text.count("\n", pos, close),
                source=source,
            )
        return key, value, tail_end + 1

    # Unquoted: a '#' starts a comment only after a blank (or right after '=' and a blank).
    comment = re.search(r"[ \t]#", raw)
    value = (raw[: comment.start()] if comment else raw).strip(_BLANKS)
    return key, value, end_of_line + 1


_publish(__name__, globals())
