"""The argument parser of ``tycho``: stdlib argparse only, so that ``tycho --help`` starts fast."""

from __future__ import annotations

import argparse

from tycho_client._version import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs ~15 ms of `tycho --help`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

DEFAULT_URL = "http://localhost:5000"
DEFAULT_SERVICE_NAME = "tycho-api"
OUTPUT_FORMATS = ("table", "json", "yaml")

EPILOG = f"""\
Where the Tycho API is:
  --url, else $TYCHO_URL, else Kubernetes discovery of the Service --service-name (default
  {DEFAULT_SERVICE_NAME}) when a kubeconfig or an in-cluster configuration exists,
  else {DEFAULT_URL}.

Environment:
  TYCHO_URL    the Tycho API URL (--url wins)
  TYCHO_TOKEN  a bearer token (--token wins); never printed

Exit codes:
  0  success
  1  the server answered with an error (or an answer the OpenAPI document does not allow)
  2  usage or validation error; nothing was sent
  3  no server to talk to: not reachable, timed out, or discovery could not find it

Results go to stdout, errors to stderr (one line; --debug adds the traceback), so
`tycho down $(tycho status --terse)` works.
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class _Parser(argparse.ArgumentParser):
    """Usage errors in the CLI's one-line form, pointing at the command's help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tycho: error: {message} (see '{self.prog} --help')\n")


def _add_global_options(parser: argparse.ArgumentParser, *, on_subcommand: bool) -> None:
    """The options every command takes, before or after the subcommand.

    On a subcommand they default to SUPPRESS: argparse copies a subparser's namespace over the
    main one, so a real default there would erase a value given before the subcommand.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if on_subcommand else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--url", metavar="URL", default=default(None), help="Tycho API URL (env TYCHO_URL)"
    )
    group.add_argument(
        "--namespace",
        metavar="NS",
        default=default(None),
        help="Kubernetes namespace for discovery (default: the context's namespace)",
    )
    group.add_argument(
        "--service-name",
        metavar="NAME",
        default=default(DEFAULT_SERVICE_NAME),
        help=f"Kubernetes Service of the Tycho API for discovery (default: {DEFAULT_SERVICE_NAME})",
    )
    group.add_argument(
        "--context",
        metavar="CONTEXT",
        default=default(None),
        help="kubeconfig context for discovery (default: the current context)",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_float,
        default=default(None),
        help="HTTP timeout in seconds (default: the client's)",
    )
    group.add_argument(
        "--token", metavar="TOKEN", default=default(None), help="bearer token (env TYCHO_TOKEN)"
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks and debug logging on stderr",
    )
    group.add_argument("--version", action="version", version=f"tycho {__version__}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        default="table",
        help="output format (default: table)",
    )


def _command(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    help_text: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=help_text,
        description=description or help_text,
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.set_defaults(command=name)
    _add_global_options(parser, on_subcommand=True)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tycho",
        description="Run docker-compose systems on Kubernetes through the Tycho API.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    _add_global_options(parser, on_subcommand=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    commands.required = True

    up = _command(
        commands,
        "up",
        "start a system from a docker-compose file",
        "Start a system from a docker-compose file. Reads the .env beside it unless --env-file "
        "is given, interpolates ${VAR} references, and names the system after the file's "
        "directory unless --name is given.",
    )
    up.add_argument("-f", "--file", required=True, metavar="PATH", help="docker-compose file")
    up.add_argument("-n", "--name", metavar="NAME", help="system name (made a DNS label)")
    up.add_argument(
        "--env-file", metavar="PATH", help="settings file (default: .env beside the compose file)"
    )
    up.add_argument("--wait", action="store_true", help="wait until the system is ready")
    up.add_argument(
        "--wait-timeout",
        metavar="SECONDS",
        type=_positive_float,
        default=300.0,
        help="how long --wait waits (default: 300)",
    )
    up.add_argument(
        "--dry-run",
        action="store_true",
        help="print the validated request (env values redacted) and send nothing",
    )
    _output_option(up)

    status = _command(commands, "status", "list running systems, or one by GUID")
    status.add_argument("guid", nargs="?", metavar="GUID", help="a system's GUID")
    status.add_argument(
        "--terse", "-terse", action="store_true", help="print only GUIDs, one per line"
    )
    _output_option(status)

    down = _command(
        commands,
        "down",
        "delete systems by GUID",
        "Delete systems by GUID. Prints each GUID deleted; a failure does not stop the others.",
    )
    down.add_argument("guids", nargs="+", metavar="GUID", help="GUIDs of systems to delete")

    modify = _command(
        commands,
        "modify",
        "add labels to a system or change its CPU and memory",
        "Add labels to a running system or set its CPU and memory (limits and requests). "
        "Not every Tycho server supports this.",
    )
    modify.add_argument("guid", metavar="GUID", help="the system's GUID")
    modify.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label to add (repeatable)",
    )
    modify.add_argument("--cpu", metavar="CPU", help="CPU quantity, e.g. 500m or 2")
    modify.add_argument("--memory", metavar="MEMORY", help="memory quantity, e.g. 512M or 2G")
    _output_option(modify)

    validate = _command(
        commands,
        "validate",
        "check a docker-compose file offline",
        "Check a docker-compose file and its .env against the OpenAPI document's schemas and "
        "the client's validators, without a server.",
    )
    validate.add_argument("-f", "--file", required=True, metavar="PATH", help="docker-compose file")
    validate.add_argument(
        "--env-file", metavar="PATH", help="settings file (default: .env beside the compose file)"
    )

    _command(commands, "spec", "print the OpenAPI document of the Tycho API")

    mock = _command(
        commands,
        "mock",
        "serve a fake Tycho API for tests",
        "Serve a fake, spec-validating Tycho API until interrupted. Prints its URL on stdout.",
    )
    mock.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    mock.add_argument(
        "--port", type=int, default=5000, help="port to bind, 0 for any free one (default: 5000)"
    )
    return parser
