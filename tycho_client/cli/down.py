"""``tycho down [SYSTEM...] [--all]``: delete systems; every one is tried, deleted GUIDs printed.

A ``SYSTEM`` is a GUID, a full name, or a system name as ``status`` shows it. Names are the
library's to resolve (``down(names, all_matching=)``): before any delete, a name of no running
system is "not found" (exit 1) and one that several share is refused (exit 2, listing them)
unless ``--all`` takes them all. Real servers answer success when asked to delete an unknown
GUID, so for GUIDs ``down`` first asks for the running systems (one status request) to tell "not
found" (exit 1, after the others are deleted) from "deleted".

With no argument, in a folder with a compose file, ``down`` deletes the systems ``tycho up``
started from it (by the name ``up`` gives them there), as ``docker compose down`` does: all of
them if several share that name, nothing to do (exit 0) if none runs. Elsewhere, with systems
running, it refuses and suggests ``--all``; ``--all`` alone deletes every running system.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tycho_client.errors import TychoAmbiguousNameError, TychoDownError, TychoSystemNotFoundError

from ._ids import ambiguous, deletable, guid_of, not_found, system_argument
from ._output import error_line, say, tell
from ._runtime import (
    EXIT_OK,
    EXIT_SERVER_ERROR,
    EXIT_USAGE,
    CommandError,
    Session,
    exit_code_for,
    message_for,
)

if TYPE_CHECKING:
    from tycho_client.client import TychoClient

EMPTY = "No systems running."


def run(args: argparse.Namespace, session: Session) -> int:
    # A literal `--` ends the options: `tycho down -- $(tycho status --terse)`.
    given = [system_argument(text) for text in args.systems if text != "--"]  # before sending
    if given:
        return _down_given(given, args, session)
    if not args.all:
        from ._project import name_here

        here = name_here()
        if here is not None:
            return _down_project(*here, args, session)
    return _down_all(args, session)


def _down_given(given: list[str], args: argparse.Namespace, session: Session) -> int:
    """The systems named on the command line: GUIDs not listed are reported after the rest is
    deleted; names are checked by the library before anything is deleted."""
    typed: dict[str, str] = {}  # each system once, and the text it was first given as
    for text in given:
        typed.setdefault(deletable(text), text)
    wanted = list(typed)
    client = session.client()
    missing: list[str] = []
    if any(guid_of(text) is not None for text in wanted):
        known = set(_running(client))
        missing = [guid for text in wanted if (guid := guid_of(text)) is not None
                   and guid not in known]  # fmt: skip
        wanted = [text for text in wanted if guid_of(text) not in missing]
    code = _delete(client, wanted, args, session, args.all, typed=typed) if wanted else EXIT_OK
    for guid in dict.fromkeys(missing):
        error_line(f"{guid}: system not found")
        code = max(code, EXIT_SERVER_ERROR)
    return code


def _down_project(name: str, file: str, args: argparse.Namespace, session: Session) -> int:
    """What ``tycho up`` started here: every running system named ``name``, as ``docker compose
    down`` takes down what ``up`` started, however many."""
    client = session.client()
    try:
        return _delete(client, [name], args, session, True, noun=f"named {name}")
    except TychoSystemNotFoundError:
        tell(f"No system named {name} (started from {file} here) is running. Nothing to delete.")
        return EXIT_OK


def _down_all(args: argparse.Namespace, session: Session) -> int:
    client = session.client()
    running = _running(client)
    if not running:
        tell(f"{EMPTY} Nothing to delete.")
        return EXIT_OK
    count = len(running)
    systems = f"{count} running system{'s' if count != 1 else ''}"
    if not args.all:
        raise CommandError(
            f"name the systems to delete (system names or GUIDs), or use --all to delete all "
            f"{systems}; in a folder with a compose file, down takes down what up started there",
            EXIT_USAGE,
        )
    if not args.yes and not _confirmed(count):
        raise CommandError("not confirmed; nothing deleted", EXIT_SERVER_ERROR)
    return _delete(client, running, args, session, True)


def _running(client: TychoClient) -> list[str]:
    """The GUIDs of the running systems, each once."""
    handles = client.list(terse=True)
    return list(dict.fromkeys(guid for handle in handles if (guid := guid_of(handle)) is not None))


def _delete(
    client: TychoClient,
    wanted: list[str],
    args: argparse.Namespace,
    session: Session,
    all_matching: bool,
    *,
    typed: Mapping[str, str] | None = None,
    noun: str = "",
) -> int:
    """Delete ``wanted`` through the library (names resolved there, every delete tried), print
    each GUID deleted (and with ``noun``, how many when several) and one line per failure; the
    exit code. Without ``typed`` a name of no system raises TychoSystemNotFoundError; with it,
    that and a name of several are named as typed (not as formatted)."""
    deleted: list[str] = []
    failed: dict[str, Exception] = {}
    try:
        deleted = client.down(wanted, all_matching=all_matching)
    except TychoAmbiguousNameError as exc:
        instead = "give one's GUID, or --all to delete them all"
        raise ambiguous((typed or {}).get(exc.name, exc.name), exc.systems, instead) from exc
    except TychoSystemNotFoundError as exc:
        if typed is None:
            raise
        raise not_found(typed.get(exc.name, exc.name)) from exc
    except TychoDownError as exc:
        deleted, failed = list(exc.deleted), dict(exc.failed)
    _print(deleted, args.quiet)
    if noun and len(deleted) > 1 and not args.quiet:
        tell(f"Deleted all {len(deleted)} systems {noun}.")
    for guid, error in failed.items():
        if args.debug:
            traceback.print_exception(error, file=sys.stderr)
        error_line(f"{guid}: {message_for(error, session.target)}")
    # The most serious failure decides: no server (3) over a server's error (1).
    return max([EXIT_OK, *(exit_code_for(error) for error in failed.values())])


def _print(guids: list[str], quiet: bool) -> None:
    if not quiet:
        for guid in guids:
            say(guid)
    sys.stdout.flush()


def _confirmed(count: int) -> bool:
    """When stdin is a terminal, ask before deleting everything (even with stderr redirected:
    better a question unseen than everything deleted); scripts are not asked."""
    if not sys.stdin.isatty():
        return True
    sys.stderr.write(f"Delete all {count} running system{'s' if count != 1 else ''}? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline(100).strip().lower()
    return answer in ("y", "yes")
