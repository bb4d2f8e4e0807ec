"""``tycho modify SYSTEM``: add labels to a running system, or set its CPU and memory.

``SYSTEM`` is a GUID, a full name, or a system name that exactly one running system has (found
with the library's ``list(name)``; a name several share is exit 2, listing them).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._ids import ambiguous, guid_of, not_found, system_argument
from ._output import plain, print_data, say
from ._runtime import EXIT_OK, EXIT_SERVER_ERROR, CommandError, Interrupted, Session

if TYPE_CHECKING:
    from tycho_client.client import TychoClient

PLACEHOLDER_GUID = "0" * 32  # the request is checked before the system is looked up


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.build import validate_request
    from tycho_client.models import ModifyRequest

    labels = dict(_label(text) for text in args.label)
    if not (labels or args.cpu or args.memory):
        raise CommandError("nothing to modify: give --label, --cpu or --memory")
    which = system_argument(args.system)
    changes: dict[str, object] = {}
    if labels:
        changes["labels"] = labels
    if args.cpu:
        changes["cpu"] = args.cpu
    if args.memory:
        changes["memory"] = args.memory
    # Labels and quantities are checked before anything is sent, a name's lookup included.
    validate_request(ModifyRequest, {"tycho-guid": PLACEHOLDER_GUID, **changes})
    client = session.client()
    guid = guid_of(which) or _one_named(client, which)
    try:
        response = client.modify({"tycho-guid": guid, **changes})
    except KeyboardInterrupt as interruption:
        raise Interrupted(
            f"the change to {guid} was sent and may have taken effect: see "
            f"'tycho status {guid} -o wide'"
        ) from interruption
    if args.output not in (None, "table"):
        print_data(plain(response), args.output)
    else:
        count = len(response.result.patches)
        say(f"{guid} modified ({count} deployment{'s' if count != 1 else ''} patched)")
    return EXIT_OK


def _one_named(client: TychoClient, name: str) -> str:
    """The GUID of the one running system named ``name``."""
    systems = client.list(name)
    handles = {system.sid or system.name: system.name or system.sid for system in systems}
    if not handles:
        raise not_found(name)
    if len(handles) > 1:
        full = [shown for shown in handles.values() if shown is not None]
        raise ambiguous(name, full, "give the GUID of the one to modify")
    (handle,) = handles
    guid = None if handle is None else guid_of(handle)
    if guid is None:  # a server's id that is not one is never sent back as if it were
        raise CommandError(
            f"the server lists {name!r} with an id that is not a GUID", EXIT_SERVER_ERROR
        )
    return guid


def _label(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise CommandError(f"--label takes KEY=VALUE, got {text!r}")
    return key, value
