"""``tycho validate -f PATH``: check a compose file and its ``.env`` offline.

Two independent checks of the start request ``up`` would send: the client's validators (the
models), then the OpenAPI document's JSON Schema, so that one catches what the other misses.
"""

from __future__ import annotations

import argparse

from ._project import build_request, load_project
from ._runtime import EXIT_OK, CommandError, Session


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.errors import summarize
    from tycho_client.models import wire_dict
    from tycho_client.openapi import problems, request_validator

    project = load_project(args.file, args.env_file)
    request = build_request(project, None)
    found = problems(request_validator("start"), wire_dict(request))
    if found:
        raise CommandError(
            f"{project.path}: the OpenAPI document rejects the request: {summarize(found)}"
        )
    print(f"ok: {project.path}")
    return EXIT_OK
