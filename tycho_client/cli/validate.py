"""``tycho validate [PATH]``: check a compose file and its ``.env`` offline.

Two independent checks of the start request ``up`` would send: the client's pipeline and
validators (every problem of the name, the ``.env`` and the compose file at once), then the
OpenAPI document's JSON Schema, so that one catches what the other misses. Every problem is
printed in full on its own line where it is: ``tycho: error: FILE:LINE: what`` for a ``.env``
line, ``FILE:LINE:COLUMN: what`` and the line itself for YAML, ``FILE: FIELD: what`` for a
compose field. Warnings (an unset ``${VAR}``, a key no compose file has) are printed too;
``--strict`` makes them errors.
"""

from __future__ import annotations

import argparse

from ._output import error_line, say
from ._project import (
    SourcedValidationError,
    build_request,
    compose_file,
    load_project,
    report_problems,
)
from ._runtime import EXIT_OK, EXIT_USAGE, CommandError, Session


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.models import wire_dict
    from tycho_client.openapi import problems, request_validator

    if args.path is not None and args.file is not None:
        raise CommandError(f"give the compose file once: -f {args.file} or {args.path}")
    file = compose_file(args.file if args.file is not None else args.path)
    project = load_project(file, args.env_file)
    try:
        request = build_request(project, None, strict=args.strict)
    except SourcedValidationError as failure:
        return report_problems(failure)
    found = problems(request_validator("start"), wire_dict(request))
    if found:
        for problem in found:
            error_line(f"{project.source}: the OpenAPI document rejects the request: {problem}")
        return EXIT_USAGE
    say(f"ok: {project.source}")
    return EXIT_OK
