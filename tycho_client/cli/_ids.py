"""What a system id looks like: a GUID (32 lowercase hex) or a full name ``{name}-{guid}``.

Arguments are checked before anything is sent, and ids from a server are checked before they
are printed for a shell to reuse (``tycho down $(tycho status --terse)``): a server-chosen id
such as ``--url=http://other/`` must never become an option of the next command.
"""

from __future__ import annotations

import re

GUID = re.compile(r"[0-9a-f]{32}")
FULL_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-)([0-9a-f]{32})")


def guid_of(text: str) -> str | None:
    """The GUID ``text`` names (itself, or the tail of ``{name}-{guid}``), else ``None``."""
    if GUID.fullmatch(text):
        return text
    match = FULL_NAME.fullmatch(text)
    return match.group(1) if match else None


def is_guid(text: object) -> bool:
    return isinstance(text, str) and GUID.fullmatch(text) is not None
