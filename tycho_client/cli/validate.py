"""``tycho validate [PATH]``: check a compose file and its ``.env`` offline.

Two independent checks of the start request ``up`` would send: the client's validators (the
models), then the OpenAPI document's JSON Schema, so that one catches what the other misses.
Every problem is printed in full on its own line, ``tycho: error: SOURCE: FIELD: what``.
"""

from __future__ import annotations

import argparse

from tycho_client.errors import TychoEnvError, TychoValidationError

from ._output import error_line, say
from ._project import SourcedValidationError, build_request, compose_file, load_project
from ._runtime import EXIT_OK, EXIT_USAGE, CommandError, Session


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.models import wire_dict
    from tycho_client.openapi import problems, request_validator

    if args.path is not None and args.file is not None:
        raise CommandError(f"give the compose file once: -f {args.file} or {args.path}")
    file = compose_file(args.file if args.file is not None else args.path)
    try:
        project = load_project(file, args.env_file)
        request = build_request(project, None)
    except SourcedValidationError as exc:
        return _report(exc.source, exc.error)
    except TychoValidationError as exc:  # its message names the file already
        return _report(None, exc)
    found = problems(request_validator("start"), wire_dict(request))
    if found:
        for problem in found:
            error_line(f"{project.source}: the OpenAPI document rejects the request: {problem}")
        return EXIT_USAGE
    say(f"ok: {project.source}")
    return EXIT_OK


def _report(source: str | None, error: TychoValidationError) -> int:
    """Each field error on its own line, in full (the one-line summary cuts them short)."""
    prefix = f"{source}: " if source else ""
    if isinstance(error, TychoEnvError) or not error.errors:  # one problem, named by its line
        error_line(f"{prefix}{error.message}")
        return EXIT_USAGE
    for field in error.errors:
        error_line(f"{prefix}{field.path}: {field.msg}")
    return EXIT_USAGE
