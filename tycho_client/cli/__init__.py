"""The ``tycho`` command: up, status, down, modify, validate, spec, mock, completion.

Exit codes: 0 success; 1 the server answered with an error; 2 usage or validation error (nothing
sent); 3 no server to talk to. Each command lives in its own module, imported only when it runs,
and only its parser is built, so that ``tycho --help`` imports neither httpx nor pydantic.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tycho`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Run as the program (no ``argv``), the process ends here once output is flushed.
    """
    as_program = argv is None
    code = _run(sys.argv[1:] if argv is None else list(argv), as_program)
    if as_program:
        _leave(code)
    return code


def _run(argv: list[str], as_program: bool) -> int:
    from ._parser import build_parser, skip_translations

    if as_program:
        skip_translations()
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else 2

    if as_program:
        # httpx imports its own command line (click, rich, pygments: ~100 ms) whenever those
        # are installed; this process never runs it, so have that import fail fast. (Not done
        # for callers that embed main() with their own argv.)
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from ._runtime import Session, enable_debug_logging, report

    if args.debug:
        enable_debug_logging()
    session = Session(args)
    try:
        command = importlib.import_module(f"{__name__}.{args.command}")
        code: int = command.run(args, session)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as exc:
        return report(exc, session, args.debug)
    finally:
        session.close()


def _stdout_closed() -> int:
    """The reader of stdout went away (``tycho status | head -1``): stop quietly."""
    # Python would report the failed flush of stdout at exit; point stdout at /dev/null instead.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE: what a shell reports for `cat` in the same place


def _leave(code: int) -> None:
    """Flush stdout and stderr, then end the process without interpreter teardown (it only
    frees memory the system frees anyway: ~10 ms of module and object finalization)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
