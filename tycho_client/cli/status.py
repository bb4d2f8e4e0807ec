"""``tycho status [GUID]``: the running systems, as a table, GUIDs (--terse), JSON or YAML."""

from __future__ import annotations

import argparse

from ._output import plain, print_data, print_table
from ._runtime import EXIT_OK, Session

# The reference CLI's column widths.
COLUMNS = (("SYSTEM", 30), ("GUID", 35), ("IP_ADDRESS", 15), ("PORT", 7), ("CREATION_TIME", 1))


def run(args: argparse.Namespace, session: Session) -> int:
    client = session.client()
    if args.terse:
        for guid in client.list(args.guid, terse=True):
            print(guid)
        return EXIT_OK
    response = client.status(None if args.guid is None else {"name": args.guid})
    if args.output != "table":
        print_data(plain(response), args.output)
    elif not response.result:
        print("None running")
    else:
        rows = [
            (
                system.app_id or system.name,
                system.sid,
                system.ip_address,
                system.port,
                system.creation_time,
            )
            for system in response.result
        ]
        print_table(COLUMNS, rows)
    return EXIT_OK
