"""How ``tycho``'s help looks: prose wrapped to the terminal (at most 100 columns), indented
lines (examples, tables of exit codes) and headings kept as written.

argparse's public ``RawDescriptionHelpFormatter`` prints descriptions and epilogs as given, so
the parser (``_parser._Parser.format_help``) hands it text that :func:`wrap_prose` wrapped first.
"""

from __future__ import annotations

import argparse

HELP_WIDTH = 100


def help_width() -> int:
    """The width of the help: the terminal's, at most 100 columns, less a margin of 2."""
    return max(min(_terminal_columns(), HELP_WIDTH) - 2, 40)


def help_formatter(prog: str) -> argparse.HelpFormatter:
    """The ``formatter_class`` of every parser: option help wrapped to :func:`help_width`."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30, width=help_width())


def wrap_prose(text: str, width: int) -> str:
    """``text`` with each paragraph (lines that are neither blank, indented nor a heading ending
    in ':') filled to ``width``; indented lines, headings and blank lines kept as they are."""
    import textwrap

    lines: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            lines.append(textwrap.fill(" ".join(paragraph), width))
            paragraph.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
            lines.append("")
        elif line.startswith(" ") or line.endswith(":"):
            flush()
            lines.append(line)
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(lines)


def _terminal_columns() -> int:
    """$COLUMNS, else the terminal's width, else 80: shutil.get_terminal_size without
    importing shutil, which imports bz2 and lzma: `tycho --help` was 1.10x slower, 2 ms, with
    shutil (bench/README.md, "Start-up tricks")."""
    import os
    import sys

    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
