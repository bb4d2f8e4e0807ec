"""The ``tycho`` command: up, status, down, modify, validate, spec, mock, verify, completion.

Exit codes: 0 success; 1 the server answered with an error; 2 usage or validation error (nothing
changed); 3 no server to talk to; 130 interrupted (Ctrl-C). Each command lives in its own module,
imported only when it runs, and only its parser is built, so that ``tycho --help`` imports
neither httpx nor pydantic.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for `cat` in the same place
EXIT_INTERRUPTED = 130  # 128 + SIGINT


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tycho`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code (the console
    script hands it to ``sys.exit``).

    Stdout is flushed before returning: a reader that went away (``tycho status | head -1``)
    ends the command quietly with 141.
    """
    as_program = argv is None
    try:
        code = _run(sys.argv[1:] if argv is None else list(argv), as_program)
    except KeyboardInterrupt:  # before a command ran (parsing, imports) or after (closing)
        _stop_listening_for_ctrl_c(as_program)
        code = EXIT_INTERRUPTED
    code = _flush_stdout(code)
    if as_program:
        # The process ends now and the system frees its memory: spare the interpreter's final
        # garbage collections the objects alive now (httpx's, pydantic's). Measured: without
        # this line `tycho status --url` takes 1.15x as long, `tycho --help` 1.08x (bench/
        # README.md, "Start-up tricks"). atexit handlers, flushing and the exit code are as before.
        gc.freeze()
    return code


def _run(argv: list[str], as_program: bool) -> int:
    from ._parser import build_parser, usage_line

    parser = build_parser(argv)
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else 2
    if extras:  # what no option or argument took: unknown options, one word too many
        from ._usage import unknown_arguments

        sys.stderr.write(
            usage_line(unknown_arguments(args.command, extras), f"tycho {args.command}")
        )
        return 2

    if as_program:
        # httpx imports its own command line (click, rich: ~35 ms) whenever they are installed;
        # this process never runs it. Measured: `tycho status --url` 1.20x slower without this
        # line where click and rich are installed, the same where they are not (bench/README.md,
        # "Start-up tricks"). Not done for callers that embed main() with their own argv.
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from ._runtime import Session, enable_debug_logging, report

    if args.debug:
        enable_debug_logging()
    session = Session(args)
    try:
        command = importlib.import_module(f"{__name__}.{args.command}")
        code: int = command.run(args, session)
        return code
    except KeyboardInterrupt as exc:
        _stop_listening_for_ctrl_c(as_program)
        from ._runtime import interrupted

        return interrupted(exc, args.debug)
    except BrokenPipeError:
        return _discard_stdout(EXIT_STDOUT_CLOSED)
    except Exception as exc:
        return report(exc, session, args.debug)
    finally:
        session.close()


def _stop_listening_for_ctrl_c(as_program: bool) -> None:
    """After a Ctrl-C the command is ending: a second one must not cut its last line short or
    end it with a traceback. Only for the program itself: a caller of main() keeps its own."""
    if as_program:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _flush_stdout(code: int) -> int:
    """Flush stdout before the interpreter does at exit, where a failure would only print
    "Exception ignored" and exit 120."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away: stop quietly
        return _discard_stdout(EXIT_STDOUT_CLOSED)
    except OSError as exc:  # a full disk, an I/O error: the output is incomplete
        if code == 0:  # (a failed command has said why in its one line already)
            print(f"tycho: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
            code = 1
        return _discard_stdout(code)
    except ValueError:  # stdout was closed: nothing left to flush
        pass
    return code


def _discard_stdout(code: int) -> int:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not fail on what
    is left in its buffer (as the Python documentation's note on SIGPIPE does); return ``code``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return code
