"""``tycho mock``: serve a fake Tycho API in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse

from ._runtime import EXIT_OK, CommandError, Session


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.testing.fake import FakeTycho

    def announce(url: str) -> None:
        print(url, flush=True)  # the one line a script reads to find the server

    try:
        FakeTycho().run_forever(host=args.host, port=args.port, ready_callback=announce)
    except OSError as exc:  # raised while binding, before anything is served
        reason = exc.strerror or str(exc)
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {reason}") from exc
    return EXIT_OK
