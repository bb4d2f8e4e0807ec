"""Each command's arguments, and the table of commands: name, summary, description, examples and
the function that adds the command's arguments to its parser (called only for the command that
runs, or for every command by ``tycho completion``).

The global options and the top-level parser are in ``_parser``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

# ---------------------------------------------------------------------------- value types


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of at least 0: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0: {text!r}")
    return value


# ------------------------------------------------------------------------ shared options


def _output_option(parser: argparse.ArgumentParser, formats: Sequence[str], note: str) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=formats,
        default=None,
        metavar="FORMAT",
        help=f"{'|'.join(formats)}; {note}",
    )


def _no_headers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-headers", action="store_true", help="tables without their header line"
    )


def _file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--file",
        metavar="PATH",
        help="compose file, '-' for stdin (default: compose.yaml, compose.yml, "
        "docker-compose.yaml or docker-compose.yml in the current folder)",
    )
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        help="settings file, '-' for stdin (default: .env beside the compose file)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="warnings are errors: a ${VAR} the settings do not set, a key no compose file has",
    )


# ------------------------------------------------------------------------------- commands


def _up(parser: argparse.ArgumentParser) -> None:
    _file_options(parser)
    parser.add_argument("-n", "--name", metavar="NAME", help="system name (made a DNS label)")
    quick = parser.add_argument_group(
        "quick launch (one container from flags, instead of a compose file)"
    )
    quick.add_argument(
        "--image", "-c", "--container", dest="image", metavar="IMAGE", help="container image"
    )
    quick.add_argument(
        "-p",
        "--port",
        dest="ports",
        action="append",
        default=[],
        metavar="PORT",
        help="a port to expose, e.g. 8888 (repeatable; the first gets a Service)",
    )
    quick.add_argument(
        "--command",
        dest="container_command",
        metavar="CMD",
        help="the container's command, split like a shell would",
    )
    quick.add_argument(
        "-v",
        "--volume",
        dest="volumes",
        action="append",
        default=[],
        metavar="pvc://CLAIM[/SUB]:PATH",
        help="a volume to mount (repeatable)",
    )
    quick.add_argument(
        "-e",
        "--env",
        dest="env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable (repeatable; shown masked by --dry-run, like .env values)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait until the system is ready (progress on a TTY)"
    )
    parser.add_argument(
        "--wait-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=300.0,
        help="how long --wait waits; not ready by then is exit 1 (default: 300)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the validated request (env values masked) and send nothing",
    )
    _output_option(parser, ("table", "json", "yaml"), "default: table (json with --dry-run)")
    _no_headers(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the GUID")


def _status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("guid", nargs="?", metavar="GUID", help="a system's GUID or full name")
    parser.add_argument(
        "--terse",
        "-terse",
        "-q",
        "--quiet",
        dest="terse",
        action="store_true",
        help="print only GUIDs, one per line",
    )
    _output_option(
        parser,
        ("table", "wide", "json", "yaml", "name"),
        "wide adds user, app id, workspace, utilization and the creation time; "
        "name prints full system names (default: table)",
    )
    _no_headers(parser)
    parser.add_argument(
        "-w",
        "--watch",
        action="store_true",
        help="keep polling: redraw on a terminal, print changed rows when piped",
    )
    parser.add_argument(
        "--watch-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=None,
        help="stop --watch after this long (default: the global --timeout if given, "
        "else until interrupted)",
    )
    parser.add_argument(
        "--interval",
        metavar="SECONDS",
        type=positive_float,
        default=2.0,
        help="seconds between polls of --watch (default: 2)",
    )


def _down(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "guids", nargs="*", metavar="GUID", help="GUIDs (or full names) of systems to delete"
    )
    parser.add_argument("--all", action="store_true", help="delete every running system")
    parser.add_argument(
        "-y", "--yes", action="store_true", help="do not ask for confirmation of --all"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print deleted GUIDs")


def _modify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("guid", metavar="GUID", help="the system's GUID or full name")
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label to add (repeatable)",
    )
    parser.add_argument("--cpu", metavar="CPU", help="CPU quantity, e.g. 500m or 2")
    parser.add_argument("--memory", metavar="MEMORY", help="memory quantity, e.g. 512M or 2G")
    _output_option(parser, ("table", "json", "yaml"), "default: table")


def _validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", metavar="PATH", help="compose file (the same as -f PATH)"
    )
    _file_options(parser)


def _spec(parser: argparse.ArgumentParser) -> None:
    return


def _mock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=5000, help="port to bind, 0 for any free one (default: 5000)"
    )
    parser.add_argument(
        "--ready-after",
        metavar="N",
        type=_count,
        default=0,
        help="new systems report is_ready false in their first N status answers (default: 0)",
    )
    parser.add_argument(
        "--latency",
        metavar="SECONDS",
        type=_non_negative_float,
        default=0.0,
        help="seconds added to every answer (default: 0)",
    )
    parser.add_argument(
        "--modify",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="route /system/modify; real servers (tycho-api 1.17.3) do not (default: --no-modify)",
    )
    parser.add_argument(
        "--fail-next",
        metavar="N",
        type=_count,
        default=0,
        help="answer the first N API requests with --fail-status (default: 0)",
    )
    parser.add_argument(
        "--fail-status",
        metavar="CODE",
        type=int,
        default=503,
        help="HTTP status of those answers; 200 is an error envelope (default: 503)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no log line per request on stderr"
    )


def _completion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")


# name -> (summary, description, examples, builder)
Builder = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, str, str, Builder]] = {
    "up": (
        "start a system from a compose file, or one container from flags",
        "Start a system from a docker-compose file, or one container from flags "
        "(--image). Reads the .env beside the compose file unless --env-file is given, "
        "interpolates ${VAR} from it, and names the system after the file's folder unless "
        "--name is given. The table's NODE_PORT is the Kubernetes nodePort: reach a service "
        "at a cluster node's address and that port (IP_ADDRESS is its load-balancer address, "
        "<none> when it has none).",
        """\
  tycho up                                 ./compose.yaml or ./docker-compose.yaml
  tycho up -f apps/jupyter/docker-compose.yaml -n notebook --wait
  cat docker-compose.yaml | tycho up -f - -o json
  tycho up --image jupyter/minimal-notebook -p 8888 -v pvc://home/alice:/home/jovyan -n nb
  tycho up --image nginx:1.25 -p 80 -e MODE=prod --command "nginx -g 'daemon off;'" --dry-run""",
        _up,
    ),
    "status": (
        "list running systems, or one by GUID",
        "List the running systems, or one by GUID (an unknown GUID is exit 1). READY counts "
        "the system's ready Deployments; AGE is the time since creation.",
        """\
  tycho status
  tycho status -o wide --no-headers
  tycho status 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7 -o json
  tycho status --watch --watch-timeout 60
  tycho status --terse                     GUIDs only, for tycho down""",
        _status,
    ),
    "down": (
        "delete systems by GUID, or all of them",
        "Delete systems by GUID or full name. Every system is tried; each deleted GUID is "
        "printed; a GUID the server does not list is 'not found' (exit 1). down first asks "
        "the server for its systems (one status request). With no GUID and systems "
        "running, down refuses and suggests --all; with nothing running it has nothing to "
        "do (so `tycho down $(tycho status --terse)` works on an empty server).",
        """\
  tycho down 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7
  tycho down $(tycho status --terse)
  tycho down --all --yes""",
        _down,
    ),
    "modify": (
        "add labels to a system or change its CPU and memory",
        "Add labels to a running system or set its CPU and memory (limits and requests). "
        "Not every Tycho server supports this (tycho-api 1.17.3 does not).",
        """\
  tycho modify 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7 --label team=data --cpu 500m --memory 1G""",
        _modify,
    ),
    "validate": (
        "check a compose file offline",
        "Check a docker-compose file and its .env against the client's validators and the "
        "OpenAPI document's schemas, without a server. Prints every problem, one per line "
        "with its field path, and exits 2 if there is any.",
        """\
  tycho validate
  tycho validate apps/jupyter/docker-compose.yaml --env-file prod.env""",
        _validate,
    ),
    "spec": (
        "print the OpenAPI document of the Tycho API",
        "Print the OpenAPI document of the Tycho API (the contract this client checks).",
        """\
  tycho spec > tycho.yaml""",
        _spec,
    ),
    "mock": (
        "serve a fake Tycho API for tests",
        "Serve a fake, spec-validating Tycho API until interrupted. Prints its URL on stdout "
        "once listening, and one line per request on stderr (method, path, status, "
        "milliseconds; never bodies).",
        """\
  tycho mock --port 0                      any free port
  tycho mock --ready-after 3 --latency 0.2
  tycho mock --fail-next 2 --fail-status 503""",
        _mock,
    ),
    "completion": (
        "print a shell completion script",
        "Print a completion script for bash, zsh or fish, generated from this parser.",
        """\
  source <(tycho completion bash)          in ~/.bashrc
  source <(tycho completion zsh)           in ~/.zshrc
  tycho completion fish > ~/.config/fish/completions/tycho.fish""",
        _completion,
    ),
}
