"""``tycho down GUID...``: delete systems; every one is tried, the deleted GUIDs are printed."""

from __future__ import annotations

import argparse
import sys
import traceback

from tycho_client.errors import TychoDownError

from ._runtime import EXIT_OK, Session, exit_code_for, message_for


def run(args: argparse.Namespace, session: Session) -> int:
    client = session.client()
    try:
        deleted = client.down(args.guids)
    except TychoDownError as exc:
        for guid in exc.deleted:
            print(guid)
        sys.stdout.flush()
        for guid, error in exc.failed.items():
            if args.debug:
                traceback.print_exception(error, file=sys.stderr)
            print(f"tycho: error: {guid}: {message_for(error, session.target)}", file=sys.stderr)
        # The most serious failure decides: no server (3) over a server's error (1).
        return max(exit_code_for(error) for error in exc.failed.values())
    for guid in deleted:
        print(guid)
    return EXIT_OK
