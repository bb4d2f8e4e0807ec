"""The top-level parser of ``tycho``: the global options, the main help, and which command's
parser to build. Stdlib argparse only, so that ``tycho --help`` starts fast.

Only the chosen command's parser is filled in (:func:`build_parser` looks for the command word
first); the others get their name and summary only, for ``tycho --help`` and usage errors. The
commands and options are declared in ``_arguments``, the look of the help in ``_help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tycho_client._defaults import DEFAULT_SERVICE_NAME, DEFAULT_URL
from tycho_client._limits import MAX_FILE_BYTES

from ._arguments import COMMANDS, GLOBAL_OPTIONS, HELP
from ._help import help_formatter, help_width, wrap_prose

# Not `from typing import TYPE_CHECKING`: importing typing (nothing else on the way to `tycho
# --help` does) makes it 1.15x slower, 3 ms (bench/README.md, "Start-up tricks").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["COMMANDS", "MAX_FILE_MIB", "build_parser", "chosen_command", "usage_line"]

MAX_FILE_MIB = MAX_FILE_BYTES // (1024 * 1024)
"""The library's bound on compose and .env files in MiB, as the help and errors say it."""

# Global options that take a value: skipped when looking for the command word.
_VALUED_GLOBALS = frozenset(flag for option in GLOBAL_OPTIONS if option.takes_value
                            for flag in option.flags)  # fmt: skip

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
  0    success
  1    the server answered with an error, a system was not found or not ready in time
  2    usage or validation error, or a name several systems share; nothing was changed
  3    no server to talk to: not reachable, timed out, or discovery could not find it
  130  interrupted (Ctrl-C); if a start may have taken effect, a line says how to remove it

Results go to stdout, errors to stderr (one line each; --debug adds the traceback), so
`tycho down $(tycho status --terse)` works. Files are read up to {MAX_FILE_MIB} MiB.

Examples:
  tycho up                              start ./compose.yaml (or ./docker-compose.yaml)
  tycho up --image nginx:1.25 -p 80 -n web --wait
  tycho status -o wide
  tycho status webstack                 the systems named webstack
  tycho down webstack
  tycho down                            what tycho up started from this folder
  tycho mock --ready-after 3            a fake Tycho API on http://127.0.0.1:5000

See 'tycho COMMAND --help' for a command's options and examples.
"""

SUBCOMMAND_FOOTER = (
    "Global options (--url, --token, --timeout, --namespace, --service-name, --context, "
    "--debug) go before or after the command: see tycho --help."
)


def usage_line(message: str, prog: str) -> str:
    """A usage error in the CLI's one-line form, pointing at the help of ``prog``."""
    return f"tycho: error: {message} (see '{prog} --help')\n"


class _Parser(argparse.ArgumentParser):
    """Usage errors in the CLI's one-line form, pointing at the command's help; the help's prose
    wrapped to the terminal."""

    unknown_command: str | None = None
    """The word the command line gives as its command when it names none (set by build_parser)."""

    def error(self, message: str) -> NoReturn:
        if self.unknown_command is not None:
            # Whatever argparse stopped at, the command word is what is wrong first.
            from ._usage import unknown_command

            message = unknown_command(self.unknown_command)
        self.exit(2, usage_line(message, self.prog))

    def format_help(self) -> str:
        # The description and the epilog are wrapped here, when help is asked for (the formatter,
        # argparse's RawDescriptionHelpFormatter, prints them as they are): other runs do not
        # import textwrap or wrap text they never show.
        given = self.description, self.epilog
        width = help_width()
        self.description, self.epilog = (wrap_prose(text, width) if text else text
                                         for text in given)  # fmt: skip
        try:
            return super().format_help()
        finally:
            self.description, self.epilog = given


def _add_global_options(parser: argparse.ArgumentParser, *, on_subcommand: bool) -> None:
    """The options every command takes, before or after the subcommand.

    On a subcommand they are hidden from its help (``tycho --help`` shows them) and default
    to SUPPRESS: argparse copies a subparser's namespace over the main one, so a real default
    there would erase a value given before the subcommand.
    """
    if on_subcommand:
        for option in GLOBAL_OPTIONS:
            parser.add_argument(*option.names, **{**option.settings, "default": argparse.SUPPRESS,
                                                  "help": argparse.SUPPRESS})  # fmt: skip
        return
    group = parser.add_argument_group("global options")
    for option in GLOBAL_OPTIONS:
        group.add_argument(*option.names, **option.settings)


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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``tycho`` for ``argv``: the command it names (if any) filled in, every other
    command with its name and summary only."""
    parser = _Parser(
        prog="tycho",
        description="Run docker-compose systems on Kubernetes through the Tycho API.",
        epilog=MAIN_EPILOG,
        formatter_class=help_formatter,
        allow_abbrev=False,
        add_help=False,
    )
    parser.add_argument(*HELP.names, **HELP.settings)
    _add_global_options(parser, on_subcommand=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    commands.required = True
    chosen = None if argv is None else chosen_command(argv)
    if chosen not in COMMANDS:
        parser.unknown_command, chosen = chosen, None
    for name, command in COMMANDS.items():
        if chosen is not None and name != chosen:
            continue
        filled = name == chosen
        sub = commands.add_parser(
            name,
            help=command.summary,
            # Only a filled-in parser can show its help (the others are never run).
            description=command.description if filled else None,
            epilog=f"Examples:\n{command.examples}\n\n{SUBCOMMAND_FOOTER}" if filled else None,
            formatter_class=help_formatter,
            allow_abbrev=False,
            add_help=False,
        )
        sub.set_defaults(command=name)
        if filled:
            sub.add_argument(*HELP.names, **HELP.settings)
            command.add_to(sub)
            _add_global_options(sub, on_subcommand=True)
    return parser
