"""``tycho verify``: check a live Tycho server against the API document.

One row per promise (CHECK, RESULT, DETAIL) and a verdict line naming the releases the server
behaves like, or the whole report with ``-o json``. Exit 0 when conformant, 1 when not, 3 when
no server answers. With ``--write`` the probe system is deleted on every way out; interrupted
(Ctrl-C), the command says whether that worked before it exits 130.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._output import print_data, print_table, say, tell
from ._runtime import EXIT_OK, EXIT_SERVER_ERROR, Session

if TYPE_CHECKING:
    from tycho_client.verify import Check

COLUMNS = (("CHECK", 10), ("RESULT", 7), ("DETAIL", 1))
DEFAULT_DEADLINE = 120.0
"""How long the whole verification may take unless --timeout says (the clean-up has 30 s more)."""


def run(args: argparse.Namespace, session: Session) -> int:
    client = session.client()
    made: list[Check] = []
    deadline = args.timeout if args.timeout is not None else DEFAULT_DEADLINE
    try:
        report = client.verify(write=args.write, deadline=deadline, on_check=made.append)
    except KeyboardInterrupt:
        _say_cleanup(made)
        raise
    if args.output == "json":
        print_data(report.model_dump(mode="json"), "json")
    else:
        rows = [(check.name, check.outcome, check.detail) for check in report.checks]
        print_table(COLUMNS, rows, headers=not args.no_headers)
        failed = [check.name for check in report.failed]
        verdict = (
            "conformant"
            if report.conformant
            else f"not conformant: {len(failed)} failed ({', '.join(failed)})"
        )
        like = (
            f"tycho-api {report.behaves_like}"
            if report.traits.releases
            else "no known tycho-api release"
        )
        say(f"{verdict}; {report.url} behaves like {like}")
    return EXIT_OK if report.conformant else EXIT_SERVER_ERROR


def _say_cleanup(made: list[Check]) -> None:
    """After Ctrl-C: whether the probe system was cleaned up (if one was asked for)."""
    cleanup = next((check for check in made if check.name == "cleanup"), None)
    if cleanup is None:
        return
    if cleanup.outcome == "pass":
        tell(f"tycho: interrupted; {cleanup.detail}")
    else:
        tell(f"tycho: error: interrupted; {cleanup.detail}")
