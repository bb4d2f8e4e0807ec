"""What a system id looks like: a GUID (32 lowercase hex) or a full name ``{name}-{guid}``.

Arguments are checked before anything is sent, and ids from a server are checked before they
are printed for a shell to reuse (``tycho down $(tycho status --terse)``): a server-chosen id
such as ``--url=http://other/`` must never become an option of the next command.
"""

from __future__ import annotations

import re

from tycho_client.naming import guid_in

__all__ = ["GUID", "guid_of", "is_guid"]

GUID = re.compile(r"[0-9a-f]{32}")
guid_of = guid_in
"""The GUID a text names (itself, or the tail of ``{name}-{guid}``), else ``None``."""


def is_guid(text: object) -> bool:
    return isinstance(text, str) and GUID.fullmatch(text) is not None
