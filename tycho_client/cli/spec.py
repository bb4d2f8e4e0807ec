"""``tycho spec``: print the OpenAPI document of the Tycho API."""

from __future__ import annotations

import argparse
import sys

from ._runtime import Session


def run(args: argparse.Namespace, session: Session) -> int:
    from tycho_client.openapi import spec_text

    text = spec_text()
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
