"""A griffe extension for the API reference: the docstrings' reStructuredText touches, in Markdown.

The docstrings use ``:class:`~tycho_client.FakeTycho``` and friends and end a line with ``::``
before an indented example (both read well in IDEs and ``help()``). Markdown has neither, so
``mkdocs build`` would show them raw: roles become code spans, ``::`` a colon (the indented
block is already a code block in Markdown).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL_BLOCK_MARK = re.compile(r"(?<=\S)::$", re.MULTILINE)


def _code_span(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(_code_span, obj.docstring.value)
            obj.docstring.value = LITERAL_BLOCK_MARK.sub(":", text)
