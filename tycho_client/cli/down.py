"""``tycho down GUID... | --all``: delete systems; every one is tried, deleted GUIDs printed.

Real servers answer success when asked to delete an unknown GUID, so ``down`` first asks for
the running systems (one status request) to tell "not found" (exit 1) from "deleted".
"""

from __future__ import annotations

import argparse
import sys
import traceback

from tycho_client.errors import TychoDownError

from ._ids import guid_of
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

EMPTY = "No systems running."


def run(args: argparse.Namespace, session: Session) -> int:
    # A literal `--` ends the options: `tycho down -- $(tycho status --terse)`.
    names = [name for name in args.guids if name != "--"]
    if args.all and names:
        raise CommandError("give GUIDs or --all, not both")
    wanted = list(dict.fromkeys(_guid(name) for name in names))  # checked before any request

    client = session.client()
    running = list(
        dict.fromkeys(
            guid
            for system in client.status().result
            if (guid := guid_of(system.sid or system.name)) is not None
        )
    )
    if not wanted:
        if not running:
            tell(f"{EMPTY} Nothing to delete.")
            return EXIT_OK
        if not args.all:
            count = len(running)
            raise CommandError(
                f"no GUID given: name the systems to delete, or use --all to delete all "
                f"{count} running system{'s' if count != 1 else ''}",
                EXIT_USAGE,
            )
        if not args.yes and not _confirmed(len(running)):
            raise CommandError("not confirmed; nothing deleted", EXIT_SERVER_ERROR)
        wanted = running

    known = set(running)
    found = [guid for guid in wanted if guid in known]
    missing = [guid for guid in wanted if guid not in known]
    deleted: list[str] = []
    failed: dict[str, Exception] = {}
    if found:
        try:
            deleted = client.down(found)
        except TychoDownError as exc:
            deleted, failed = list(exc.deleted), dict(exc.failed)
    _print(deleted, args.quiet)
    for guid, error in failed.items():
        if args.debug:
            traceback.print_exception(error, file=sys.stderr)
        error_line(f"{guid}: {message_for(error, session.target)}")
    # The most serious failure decides: no server (3) over a server's error (1).
    code = max([EXIT_OK, *(exit_code_for(error) for error in failed.values())])
    for guid in missing:
        error_line(f"{guid}: system not found")
        code = max(code, EXIT_SERVER_ERROR)
    return code


def _guid(name: str) -> str:
    guid = guid_of(name)
    if guid is None:
        raise CommandError(f"not a GUID or system name ({{name}}-{{guid}}): {name!r}")
    return guid


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
