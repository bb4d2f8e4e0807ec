"""``tycho mock``: serve a fake Tycho API in the foreground until SIGINT or SIGTERM.

Prints its URL on stdout once listening, and one line per request on stderr: method, path,
status, milliseconds (never bodies: they carry .env values); and one line per client that breaks
off a request or does not speak HTTP. ``-q`` prints neither.
"""

from __future__ import annotations

import argparse
import sys

from ._output import escape
from ._runtime import EXIT_OK, CommandError, Session

MAX_LOGGED_PATH = 200


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.testing.fake import FakeTycho
    from tycho_client.testing.server import run_forever

    if not 100 <= args.fail_status <= 599:
        raise CommandError(f"--fail-status must be an HTTP status code, got {args.fail_status}")
    # Passed explicitly, whatever FakeTycho's defaults are: real servers do not route modify.
    fake = FakeTycho(
        modify_supported=args.modify,
        ready_after=args.ready_after,
        latency=args.latency,
        release=args.release,
    )
    if args.fail_next:
        fake.fail_next(args.fail_next, status=args.fail_status)

    def announce(url: str) -> None:
        print(url, flush=True)  # the one line a script reads to find the server

    try:
        run_forever(
            fake,
            host=args.host,
            port=args.port,
            ready_callback=announce,
            on_request=None if args.quiet else log_answer,
            on_problem=None if args.quiet else log_problem,
        )
    except OSError as exc:  # raised while binding, before anything is served
        reason = exc.strerror or str(exc)
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {reason}") from exc
    return EXIT_OK


def log_answer(method: str, path: str, status: int, seconds: float) -> None:
    """``POST /system/start 200 3.1ms``: a client chose the method and path, so both are
    escaped and the path is bounded."""
    shown = path if len(path) <= MAX_LOGGED_PATH else path[: MAX_LOGGED_PATH - 1] + "…"
    _write(f"{escape(method[:20])} {escape(shown)} {status} {seconds * 1000:.1f}ms\n")


def log_problem(text: str) -> None:
    """``tycho mock: 127.0.0.1:54321 closed the connection mid-request``: the server's sentence
    quotes nothing the client sent, and is escaped all the same."""
    _write(f"tycho mock: {escape(text)}\n")


def _write(line: str) -> None:
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr went away: keep serving
        pass
