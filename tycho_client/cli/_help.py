"""How ``tycho``'s help looks: prose wrapped to the terminal (at most 100 columns), indented
lines (examples, tables of exit codes) and headings kept as written."""

from __future__ import annotations

import argparse

HELP_WIDTH = 100


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose to the terminal (at most 100 columns); keeps indented lines and headings."""

    def __init__(self, prog: str) -> None:
        width = min(_terminal_columns(), HELP_WIDTH) - 2
        super().__init__(prog, max_help_position=30, width=max(width, 40))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        lines: list[str] = []
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                joined = " ".join(paragraph)
                lines.append(textwrap.fill(joined, width, initial_indent=indent,
                                           subsequent_indent=indent))  # fmt: skip
                paragraph.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                lines.append("")
            elif line.startswith(" ") or line.endswith(":"):
                flush()
                lines.append(indent + line)
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
