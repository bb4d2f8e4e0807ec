"""``tycho status [SYSTEM]``: the running systems as a table, GUIDs, names, JSON or YAML.

``SYSTEM`` is a GUID or full name (the server is asked for that system), or a system name as the
SYSTEM column shows it (the library's ``list(name)``: every system of that name, as kubectl
lists the pods of a label). A name or GUID of no running system is "not found", exit 1.

Rows are per system (a system can have several Deployments; READY counts the ready ones, ``?``
when the server does not report readiness).
Real servers report ``ip_address``/``port`` placeholders in status (tycho-api 1.17.3: always
``127.0.0.1`` and ``80``), so the tables leave them out; ``-o json`` has everything, as sent
(for a system name: the answer's envelope around the systems of that name).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ._ids import guid_of, is_guid, not_found, system_argument
from ._output import plain, print_data, print_table, say, table_lines, tell, warn
from ._runtime import EXIT_OK, EXIT_SERVER_ERROR, CommandError, Session

if TYPE_CHECKING:
    from tycho_client.client import TychoClient
    from tycho_client.models import StatusResponse, SystemStatus

COLUMNS = (("SYSTEM", 30), ("GUID", 35), ("READY", 5), ("AGE", 1))
WIDE_COLUMNS = (
    *COLUMNS[:3],
    ("AGE", 5),
    ("CREATED", 20),
    ("USER", 10),
    ("APP_ID", 20),
    ("WORKSPACE", 20),
    ("UTILIZATION", 1),
)
EMPTY = "No systems running."
TABLES = ("table", "wide")
Row = tuple[str | None, ...]


def run(args: argparse.Namespace, session: Session) -> int:
    which = None if args.system is None else system_argument(args.system)
    output = args.output or "table"
    if args.watch:
        if args.terse or output not in TABLES:
            raise CommandError("--watch shows a table: use -o table or -o wide")
        return watch(session.client(), which, args)
    if args.watch_timeout is not None:
        raise CommandError("--watch-timeout needs --watch")
    if args.terse and output not in ("table", "json", "yaml"):
        raise CommandError(f"--terse prints GUIDs: as lines, -o json or -o yaml, not -o {output}")
    response = _query(session.client(), which)
    systems = response.result
    if args.terse:
        return _print_guids(systems, output)
    if output in ("json", "yaml"):
        print_data(plain(response), output)
    elif not systems:
        tell(EMPTY)
    elif output == "name":
        for name in dict.fromkeys(system.name for system in systems):
            say(name)
    else:
        now = datetime.now(timezone.utc)
        print_table(_columns(output), rows(systems, now, output), headers=not args.no_headers)
    return EXIT_OK


def _query(client: TychoClient, which: str | None) -> StatusResponse:
    """The systems ``which`` names (all for ``None``); none is "not found" (exit 1)."""
    response = _poll(client, which)
    if which is not None and not response.result:
        guid = guid_of(which)
        if guid is None:
            raise not_found(which)
        raise CommandError(f"system {guid} not found", EXIT_SERVER_ERROR)
    return response


def _poll(client: TychoClient, which: str | None) -> StatusResponse:
    """The server's answer, for a GUID or full name to a query of that system; for a system
    name, to a query of all, its result cut to the systems of that name."""
    guid = None if which is None else guid_of(which)
    if which is None or guid is not None:
        return client.status(None if guid is None else {"name": guid})
    return _of_name(client, which)


def _of_name(client: TychoClient, name: str) -> StatusResponse:
    from tycho_client.models import StatusResponse

    # The shape of a server's answer, so that -o json is the same for a name as for a GUID.
    message = f"Get status for systems named {name}"
    return StatusResponse(status="success", message=message, result=client.list(name))


def _print_guids(systems: Sequence[SystemStatus], output: str) -> int:
    """The GUIDs, each once (lines, or a JSON or YAML list); an id that is not GUID-shaped is
    reported on stderr, never printed."""
    guids: list[str] = []
    strange = []
    for handle in dict.fromkeys(system.sid or system.name for system in systems):
        guid = handle if is_guid(handle) else guid_of(handle)
        if guid is None:
            strange.append(handle)
        else:
            guids.append(guid)
    if output in ("json", "yaml"):
        print_data(guids, output)
    else:  # nothing at all for an empty server: --terse is for scripts, like docker ps -q
        for guid in guids:
            say(guid)
    for handle in strange:
        warn(f"the server listed a system whose id is not a GUID, left out: {handle!r}")
    return EXIT_SERVER_ERROR if strange else EXIT_OK


def _columns(output: str) -> tuple[tuple[str, int], ...]:
    return WIDE_COLUMNS if output == "wide" else COLUMNS


def rows(systems: Sequence[SystemStatus], now: datetime, output: str) -> list[Row]:
    """One row per system (its Deployments grouped by GUID)."""
    groups: dict[str, list[SystemStatus]] = {}
    for system in systems:
        groups.setdefault(system.sid or system.name, []).append(system)
    table: list[Row] = []
    for handle, members in groups.items():
        first = members[0]
        created = parse_creation_time(first.creation_time)
        row: Row = (
            first.app_id or first.name,
            handle,
            f"{_ready(members)}/{len(members)}",
            age(created, now) if created else first.creation_time,
        )
        if output == "wide":
            row += (
                iso(created) if created else first.creation_time,
                first.username,
                first.app_id,
                first.workspace_name,
                _utilization(members),
            )
        table.append(row)
    return table


def _ready(members: Sequence[SystemStatus]) -> str:
    """How many Deployments are ready; ``?`` when the server does not report readiness
    (tycho-api 1.15.0 and older list systems without ``is_ready``)."""
    if any(member.is_ready is None for member in members):
        return "?"
    return str(sum(bool(member.is_ready) for member in members))


def parse_creation_time(text: str) -> datetime | None:
    """Real servers' ``M-D-YYYY H:M:S`` (UTC, no zero padding) as a datetime."""
    try:
        day, clock = text.split(" ")
        month, mday, year = (int(part) for part in day.split("-"))
        hour, minute, second = (int(part) for part in clock.split(":"))
        return datetime(year, month, mday, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def age(moment: datetime, now: datetime) -> str:
    """How long ago, as kubectl shows it: 45s, 3m12s, 25m, 5h10m, 20h, 3d4h, 12d."""
    seconds = max(0, int((now - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if days < 2:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _utilization(members: Sequence[SystemStatus]) -> str:
    """``web:cpu=500m,memory=256M;db:-`` (``-``: no limits)."""
    parts = []
    for member in members:
        for container, limits in (member.utilization or {}).items():
            shown = ",".join(f"{key}={value}" for key, value in (limits or {}).items()) or "-"
            parts.append(f"{container}:{shown}")
    return ";".join(parts) or "-"


# ------------------------------------------------------------------------------- watching

CLEAR = "\033[H\033[2J"


def watch(client: TychoClient, which: str | None, args: argparse.Namespace) -> int:
    """Poll every ``--interval`` until interrupted or ``--watch-timeout`` (else ``--timeout``).

    On a terminal the table is redrawn; piped, the header is printed once and then each row
    that is new or changed (a system that went away is printed with READY ``deleted``).
    """
    output = args.output or "table"
    columns = _columns(output)
    # As with kubectl's --request-timeout on a watch, the global --timeout bounds it too.
    bound = args.watch_timeout if args.watch_timeout is not None else args.timeout
    deadline = None if bound is None else time.monotonic() + bound
    redraw = sys.stdout.isatty()
    seen: dict[str, Row] = {}
    headers = not args.no_headers
    first = True
    while True:
        # A system not found is an error at first; later it has gone away.
        response = _query(client, which) if first else _poll(client, which)
        now = datetime.now(timezone.utc)
        current = {row[1] or "": row for row in rows(response.result, now, output)}
        if redraw:
            lines = table_lines(columns, current.values(), headers=headers) if current else []
            stamp = now.strftime("%H:%M:%S")
            sys.stdout.write(CLEAR + f"Every {args.interval:g}s: tycho status  {stamp}\n\n")
            sys.stdout.write("".join(line + "\n" for line in lines) or EMPTY + "\n")
        else:
            changed = [row for key, row in current.items() if _key(seen.get(key)) != _key(row)]
            gone = [(*row[:2], "deleted", *row[3:]) for key, row in seen.items()
                    if key not in current]  # fmt: skip
            for line in table_lines(columns, [*changed, *gone], headers=headers and first):
                print(line)
            if first and not current:
                tell(EMPTY)
        sys.stdout.flush()
        seen = current
        first = False
        pause = args.interval
        if deadline is not None:
            pause = min(pause, deadline - time.monotonic())
            if pause <= 0:
                return EXIT_OK
        time.sleep(pause)


def _key(row: Row | None) -> Row | None:
    """A row without its age, which changes on every poll."""
    return None if row is None else row[:3] + row[4:]
