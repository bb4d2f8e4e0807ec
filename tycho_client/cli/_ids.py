"""What names a system on the command line: a GUID (32 lowercase hex), a full name
``{name}-{guid}``, or a system name as ``status`` shows it (which several systems may share).

Arguments are checked before anything is sent, and ids from a server are checked before they
are printed for a shell to reuse (``tycho down $(tycho status --terse)``): a server-chosen id
such as ``--url=http://other/`` must never become an option of the next command. Which systems a
name names is the library's business (``list(name)``, ``down(names, all_matching=)``); here are
the checks and the words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tycho_client.naming import guid_in

from ._runtime import EXIT_SERVER_ERROR, EXIT_USAGE, CommandError

__all__ = [
    "GUID",
    "ambiguous",
    "deletable",
    "guid_of",
    "is_guid",
    "not_found",
    "system_argument",
]

GUID = re.compile(r"[0-9a-f]{32}")
guid_of = guid_in
"""The GUID a text names (itself, or the tail of ``{name}-{guid}``), else ``None``."""

# What a server takes as a system name, and the library's down as one: a Kubernetes label value.
_NAME_AS_GIVEN = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
MAX_LISTED = 5
"""At most this many systems are named in the one line about a name several systems share."""


def is_guid(text: object) -> bool:
    return isinstance(text, str) and GUID.fullmatch(text) is not None


def system_argument(text: str) -> str:
    """``text``, checked as an argument naming systems: a GUID, a full name, or a system name
    (as the SYSTEM column of ``status`` shows it, or as given to ``tycho up -n``: ``"Data Lab"``
    names ``data-lab``). Text that no system name can be made of, or that begins with ``-`` as
    no name does, is a usage error (exit 2): nothing is sent."""
    if guid_of(text) is not None:
        return text
    from tycho_client.errors import TychoNameError
    from tycho_client.naming import format_name

    try:
        if not text.startswith("-"):
            format_name(text)
            return text
    except TychoNameError:
        pass
    raise CommandError(f"not a GUID, full name or system name: {text!r}")


def deletable(text: str) -> str:
    """A checked argument as the library's ``down`` takes it: a GUID for a GUID or full name (so
    that each system is named once); a system name as given, unless only ``format_name`` makes
    it valid (``"Data Lab"``), which ``down`` refuses: then formatted, as ``list`` matches it."""
    guid = guid_of(text)
    if guid is not None:
        return guid
    if _NAME_AS_GIVEN.fullmatch(text):
        return text
    from tycho_client.naming import format_name

    return format_name(text)


def not_found(name: str) -> CommandError:
    """A system name of no running system: exit 1, as a GUID of none is (the library's words)."""
    return CommandError(f"no running system is named {name!r}", EXIT_SERVER_ERROR)


def ambiguous(name: str, systems: Sequence[str], instead: str) -> CommandError:
    """A name that several running systems share where one was meant (exit 2, nothing changed):
    their full names (the first few), and ``instead``, what to do about it."""
    shown = sorted(systems)
    listed = ", ".join(shown[:MAX_LISTED])
    if len(shown) > MAX_LISTED:
        listed += f" and {len(shown) - MAX_LISTED} more"
    return CommandError(
        f"{name!r} names {len(shown)} running systems ({listed}): {instead}", EXIT_USAGE
    )
