"""``tycho up -f PATH``: start a system from a docker-compose file."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tycho_client.errors import TychoNotReadyError

from ._output import plain, print_data, print_table
from ._project import build_request, load_project
from ._runtime import EXIT_OK, EXIT_SERVER_ERROR, CommandError, Session

if TYPE_CHECKING:
    from tycho_client.models import StartResponse

# The reference CLI's column widths.
COLUMNS = (("SERVICE", 30), ("GUID", 35), ("IP_ADDRESS", 15), ("PORT", 7))
POLL_INTERVAL = 2.0


def run(args: argparse.Namespace, session: Session) -> int:
    project = load_project(args.file, args.env_file)
    request = build_request(project, args.name)
    if args.dry_run:
        print(json.dumps(request.redacted(), indent=2))
        return EXIT_OK

    response = session.client().start(request)
    show(response, args.output)
    if args.wait:
        wait(session, response.result.sid, args.wait_timeout)
    return EXIT_OK


def show(response: StartResponse, output: str) -> None:
    if output != "table":
        print_data(plain(response), output)
        return
    result = response.result
    rows = [
        (service, result.sid, endpoint.ip_address, endpoint.port_1)
        for service, endpoint in result.containers.items()
    ]
    print_table(COLUMNS, rows)
    sys.stdout.flush()  # the GUID is worth having while --wait waits


def wait(session: Session, guid: str, timeout: float) -> None:
    """Poll until ``guid`` is ready; not ready in time is exit 1 (the server did answer)."""
    try:
        with progress(f"waiting for {guid} to be ready"):
            session.client().wait_ready(guid, timeout=timeout, interval=POLL_INTERVAL)
    except TychoNotReadyError as exc:
        raise CommandError(exc.message, EXIT_SERVER_ERROR) from exc


@contextmanager
def progress(text: str) -> Iterator[None]:
    """A ticking ``text ... 12s`` line on stderr while the body runs, only on a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(0.5):
            sys.stderr.write(f"\r{text} ... {time.monotonic() - started:.0f}s")
            sys.stderr.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        sys.stderr.write("\r\033[K")  # erase the line
        sys.stderr.flush()
