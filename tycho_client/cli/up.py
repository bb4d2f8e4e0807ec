"""``tycho up``: start a system from a compose file, or one container from flags.

A start is not safe to repeat, so a Ctrl-C never leaves a person guessing: once the start is sent
(its answer not yet read) the one line says the system may exist and how to find and remove it
by name; once the answer is read (the GUID is known, e.g. during ``--wait``) it names the system
left running and ``tycho down GUID``. So does ``--wait`` running out of time. A Ctrl-C before
anything was sent says nothing: exit 130 alone.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._output import escape, plain, print_data, print_table, say, tell
from ._project import (
    ComposeProject,
    SourcedValidationError,
    build_request,
    compose_file,
    given_name,
    load_project,
    quick_project,
    renamed,
    report_problems,
)
from ._runtime import EXIT_OK, EXIT_SERVER_ERROR, CommandError, Interrupted, Session
from ._terminal import first_in_session

if TYPE_CHECKING:
    from tycho_client.client import TychoClient
    from tycho_client.models import StartResponse, SystemStatus

# The reference CLI's column widths. NODE_PORT: what real servers return as "port-1".
COLUMNS = (("SERVICE", 30), ("GUID", 35), ("IP_ADDRESS", 15), ("NODE_PORT", 9))
DRY_RUN_COLUMNS = (("SERVICE", 30), ("IMAGE", 30), ("PORTS", 10), ("SERVICE_PORT", 1))
LEGEND = (
    "NODE_PORT: reach the service at a cluster node's address and this port (its Kubernetes "
    "nodePort). IP_ADDRESS: its load-balancer address, <none> if it has none."
)
NOT_WAITED = "`tycho status` shows when the system is ready; `tycho up --wait` waits for it."
QUICK_FLAGS = {"ports": "--port", "container_command": "--command", "volumes": "--volume",
               "env": "--env"}  # fmt: skip
POLL_INTERVAL = 1.0
SHOWN_NAME = 60  # characters of a given name quoted in the note; -n can be any length


def run(args: argparse.Namespace, session: Session) -> int:
    try:
        project = _project(args)
        request = build_request(project, args.name, strict=args.strict)
    except SourcedValidationError as failure:  # every problem, each on its line
        return report_problems(failure)
    given = given_name(project, args.name)
    if given is not None and not args.quiet and renamed(given, request.name):
        # Said before anything is sent, so that it is on screen whatever the server answers.
        quoted = given if len(given) <= SHOWN_NAME else given[:SHOWN_NAME] + "..."
        tell(f"tycho: note: using the system name {request.name!r} for {quoted!r}")
    output = args.output or ("json" if args.dry_run else "table")
    if args.dry_run:
        shown = request.redacted()  # env values masked, in env and in the compose document
        if output == "table":
            _dry_run_table(shown, args.no_headers)
        else:
            print_data(shown, output)
        return EXIT_OK

    client = session.client()
    response: StartResponse | None = None
    try:
        response = client.start(request)
        show(response, output, quiet=args.quiet, headers=not args.no_headers)
        if args.wait:
            wait(client, response.result.sid, response.result.name, args.wait_timeout)
    except KeyboardInterrupt as interruption:
        raise Interrupted(left_behind(request.name, response)) from interruption
    if output == "table" and not args.quiet and not args.no_headers:
        explain_table(waited=args.wait)
    return EXIT_OK


def left_behind(name: str, response: StartResponse | None) -> str:
    """What a Ctrl-C after the start was sent leaves: a system that may exist (no answer yet:
    found and removed by its name), or the one the answer names (removed by its GUID)."""
    if response is None:
        return (
            f"the start of {name} was sent and may have taken effect: see 'tycho status "
            f"{name}', remove it with 'tycho down {name}'"
        )
    # The model checked sid (32 hex digits): never an option of the command suggested.
    name, guid = response.result.name, response.result.sid
    return f"{name} was started and is left running: remove it with 'tycho down {guid}'"


def _project(args: argparse.Namespace) -> ComposeProject:
    if args.image is not None:
        if args.file is not None:
            raise CommandError("give either -f PATH or --image IMAGE, not both")
        return quick_project(
            args.image,
            args.name,
            args.ports,
            args.container_command,
            args.volumes,
            args.env,
            args.env_file,
        )
    given = [flag for dest, flag in QUICK_FLAGS.items() if getattr(args, dest)]
    if given:
        raise CommandError(f"{', '.join(given)}: only with --image IMAGE (quick launch)")
    return load_project(compose_file(args.file), args.env_file)


def _dry_run_table(shown: dict[str, object], no_headers: bool) -> None:
    system = shown.get("system")
    services = system.get("services", {}) if isinstance(system, dict) else {}
    routed = shown.get("services")
    routed = routed if isinstance(routed, dict) else {}
    rows = []
    for name, service in services.items():
        service = service if isinstance(service, dict) else {}
        ports = ",".join(str(port) for port in service.get("ports") or []) or None
        port = routed.get(name, {}).get("port") if isinstance(routed.get(name), dict) else None
        rows.append((name, service.get("image"), ports, port))
    print_table(DRY_RUN_COLUMNS, rows, headers=not no_headers)
    tell(f"dry run: {shown.get('name')} would be started; nothing was sent")


def show(response: StartResponse, output: str, *, quiet: bool, headers: bool) -> None:
    result = response.result
    if quiet:
        say(result.sid)
    elif output != "table":
        print_data(plain(response), output)
    else:
        rows = [
            (service, result.sid, endpoint.ip_address, endpoint.port_1)
            for service, endpoint in result.containers.items()
        ]
        print_table(COLUMNS, rows, headers=headers)
    sys.stdout.flush()  # the GUID is worth having while --wait waits


def wait(client: TychoClient, guid: str, name: str, timeout: float) -> None:
    """Poll until every Deployment of ``guid`` is ready, then say so on stderr.

    Not ready in time is exit 1 (the server did answer), naming the system, its state and how
    to remove it.
    """
    from tycho_client.errors import TychoNotReadyError, TychoReadinessUnknownError

    started = time.monotonic()
    state = ["not listed yet"]
    with progress(f"waiting for {escape(name)} to be ready") as note:

        def polled(systems: list[SystemStatus]) -> None:
            ready = sum(bool(system.is_ready) for system in systems)
            state[0] = f"{ready}/{len(systems)} deployments ready" if systems else "not listed yet"
            note(state[0])

        try:
            client.wait_ready(guid, deadline=timeout, interval=POLL_INTERVAL, on_poll=polled)
        except TychoReadinessUnknownError:
            raise CommandError(
                f"{name} was started, but --wait cannot tell when it is ready: this server does "
                "not report readiness (tycho-api 1.15.0 and older); see `tycho status` (READY ?)",
                EXIT_SERVER_ERROR,
            ) from None
        except TychoNotReadyError:
            raise CommandError(
                f"{name} not ready within {timeout:g} s: {state[0]}; it is left running: "
                f"remove it with 'tycho down {guid}'",
                EXIT_SERVER_ERROR,
            ) from None
    tell(f"{name} is ready after {time.monotonic() - started:.1f} s")


def explain_table(*, waited: bool) -> None:
    """The legend of the table's columns, on stderr, after the table (and after the ready line
    of --wait): for a person at a terminal only, once per terminal session."""
    if not sys.stderr.isatty() or not first_in_session("up-legend"):
        return
    tell(LEGEND)
    if not waited:
        tell(NOT_WAITED)


@contextmanager
def progress(text: str) -> Iterator[Callable[[str], None]]:
    """A ticking ``text (state) ... 12s`` line on stderr while the body runs, on a terminal
    only; erased at the end. The body reports its state through the function yielded."""
    state = [""]

    def note(current: str) -> None:
        state[0] = current

    if not sys.stderr.isatty():
        yield note
        return
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(0.25):
            shown = f" ({state[0]})" if state[0] else ""
            sys.stderr.write(f"\r\033[K{text}{shown} ... {time.monotonic() - started:.0f}s")
            sys.stderr.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield note
    finally:
        done.set()
        ticker.join()
        sys.stderr.write("\r\033[K")  # erase the line
        sys.stderr.flush()
