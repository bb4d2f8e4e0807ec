"""``tycho modify GUID``: add labels to a running system, or set its CPU and memory."""

from __future__ import annotations

import argparse

from ._ids import guid_of
from ._output import plain, print_data, say
from ._runtime import EXIT_OK, CommandError, Session


def run(args: argparse.Namespace, session: Session) -> int:
    labels = dict(_label(text) for text in args.label)
    if not (labels or args.cpu or args.memory):
        raise CommandError("nothing to modify: give --label, --cpu or --memory")
    guid = guid_of(args.guid)
    if guid is None:
        raise CommandError(f"not a GUID or system name: {args.guid!r}")
    request: dict[str, object] = {"tycho-guid": guid}
    if labels:
        request["labels"] = labels
    if args.cpu:
        request["cpu"] = args.cpu
    if args.memory:
        request["memory"] = args.memory
    response = session.client().modify(request)
    if args.output not in (None, "table"):
        print_data(plain(response), args.output)
    else:
        count = len(response.result.patches)
        say(f"{guid} modified ({count} deployment{'s' if count != 1 else ''} patched)")
    return EXIT_OK


def _label(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise CommandError(f"--label takes KEY=VALUE, got {text!r}")
    return key, value
