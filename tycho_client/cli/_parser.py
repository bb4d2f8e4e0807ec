"""The top-level parser of ``tycho``: the global options, the main help, and which command's
parser to build. Stdlib argparse only, so that ``tycho --help`` starts fast.

Only the chosen command's parser is filled in (:func:`build_parser` looks for the command word
first); the others get their name and summary only, for ``tycho --help`` and usage errors, or
everything for ``tycho completion``. Each command's arguments are in ``_arguments``, the look of
the help in ``_help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tycho_client._defaults import DEFAULT_SERVICE_NAME, DEFAULT_URL
from tycho_client._version import __version__

from ._arguments import COMMANDS, positive_float
from ._help import HelpFormatter

# Not `from typing import TYPE_CHECKING`: importing typing (nothing else on the way to `tycho
# --help` does) makes it 1.15x slower, 3 ms (bench/README.md, "Start-up tricks").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["COMMANDS", "MAX_FILE_MIB", "build_parser", "chosen_command"]

MAX_FILE_MIB = 4
"""Compose and .env files are read up to this size (the help says so; ``_runtime`` enforces it)."""

# Global options that take a value: skipped when looking for the command word.
_VALUED_GLOBALS = frozenset(
    {"--url", "--namespace", "--service-name", "--context", "--timeout", "--token"}
)

MAIN_EPILOG = f"""\
Where the Tycho API is:
  --url, else $TYCHO_URL, else Kubernetes discovery of the Service --service-name (default
  {DEFAULT_SERVICE_NAME}) when a kubeconfig or an in-cluster configuration exists,
  else {DEFAULT_URL} (tried once: a refused connection fails at once).

Environment:
  TYCHO_URL        the Tycho API URL (--url wins)
  TYCHO_TOKEN      a bearer token (--token wins); never printed
  TYCHO_USERNAME   the user systems are started for (default: the OS user)
  KUBECONFIG       the kubeconfig used for discovery (default: ~/.kube/config)

Exit codes:
  0  success
  1  the server answered with an error, a system was not found or not ready in time
  2  usage or validation error; nothing was sent
  3  no server to talk to: not reachable, timed out, or discovery could not find it

Results go to stdout, errors to stderr (one line each; --debug adds the traceback), so
`tycho down $(tycho status --terse)` works. Files are read up to {MAX_FILE_MIB} MiB.

Examples:
  tycho up                              start ./compose.yaml (or ./docker-compose.yaml)
  tycho up --image nginx:1.25 -p 80 -n web --wait
  tycho status -o wide
  tycho down --all
  tycho mock --ready-after 3            a fake Tycho API on http://127.0.0.1:5000

See 'tycho COMMAND --help' for a command's options and examples.
"""

SUBCOMMAND_FOOTER = (
    "Global options (--url, --token, --timeout, --namespace, --service-name, --context, "
    "--debug) go before or after the command: see tycho --help."
)


class _Parser(argparse.ArgumentParser):
    """Usage errors in the CLI's one-line form, pointing at the command's help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tycho: error: {message} (see '{self.prog} --help')\n")


def _add_global_options(parser: argparse.ArgumentParser, *, on_subcommand: bool) -> None:
    """The options every command takes, before or after the subcommand.

    On a subcommand they are hidden from its help (``tycho --help`` shows them) and default
    to SUPPRESS: argparse copies a subparser's namespace over the main one, so a real default
    there would erase a value given before the subcommand.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if on_subcommand else value

    def shown(text: str) -> str:
        return argparse.SUPPRESS if on_subcommand else text

    group = parser.add_argument_group("global options") if not on_subcommand else parser
    group.add_argument(
        "--url", metavar="URL", default=default(None), help=shown("Tycho API URL (env TYCHO_URL)")
    )
    group.add_argument(
        "--namespace",
        metavar="NS",
        default=default(None),
        help=shown("Kubernetes namespace for discovery (default: the context's namespace)"),
    )
    group.add_argument(
        "--service-name",
        metavar="NAME",
        default=default(DEFAULT_SERVICE_NAME),
        help=shown(
            f"Kubernetes Service of the Tycho API for discovery (default: {DEFAULT_SERVICE_NAME})"
        ),
    )
    group.add_argument(
        "--context",
        metavar="CONTEXT",
        default=default(None),
        help=shown("kubeconfig context for discovery (default: the current context)"),
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=default(None),
        help=shown("HTTP timeout of each request in seconds (default: 5 to connect, 30 to read)"),
    )
    group.add_argument(
        "--token",
        metavar="TOKEN",
        default=default(None),
        help=shown("bearer token (env TYCHO_TOKEN); never printed"),
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help=shown("show tracebacks and debug logging on stderr"),
    )
    group.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"tycho {__version__}",
        help=shown("print the version and exit"),
    )


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv``: the first token that is neither an option nor a value of
    a global option (abbreviated options are not accepted, so this is exact)."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--":  # noqa: S105 (an argument, not a password)
            return None  # argparse takes no command after `--`; let it say so
        if token.startswith("-"):
            if token in _VALUED_GLOBALS:
                next(tokens, None)
            continue
        return token
    return None


def build_parser(
    argv: Sequence[str] | None = None, *, full: bool = False
) -> argparse.ArgumentParser:
    """The parser of ``tycho``; with ``argv``, only that command's parser is filled in."""
    parser = _Parser(
        prog="tycho",
        description="Run docker-compose systems on Kubernetes through the Tycho API.",
        epilog=MAIN_EPILOG,
        formatter_class=HelpFormatter,
        allow_abbrev=False,
    )
    _add_global_options(parser, on_subcommand=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    commands.required = True
    chosen = None if full or argv is None else chosen_command(argv)
    if chosen not in COMMANDS:
        chosen = None
    for name, (summary, description, examples, build) in COMMANDS.items():
        if chosen is not None and name != chosen:
            continue
        sub = commands.add_parser(
            name,
            help=summary,
            description=description,
            epilog=f"Examples:\n{examples}\n\n{SUBCOMMAND_FOOTER}",
            formatter_class=HelpFormatter,
            allow_abbrev=False,
        )
        sub.set_defaults(command=name)
        if chosen is not None or full:
            build(sub)
            _add_global_options(sub, on_subcommand=True)
    return parser
