"""Logging: tycho-client logs each request on the logger ``tycho_client`` at DEBUG.

    python examples/logging_setup.py --url http://127.0.0.1:5000

Records look like ``POST http://127.0.0.1:5000/system/status -> 200 in 3.1 ms`` and
``retrying POST /system/status in 0.512 s (attempt 2 of 3)``; discovery logs on
``tycho_client.discovery``. Tokens, ``.env`` values and URL passwords never appear in them.
httpx and httpcore have loggers of their own (``httpx`` logs each request at INFO).
"""

from __future__ import annotations

import argparse
import logging
import os

from tycho_client import TychoClient


def configure_logging() -> None:
    """The application's root logger at INFO; tycho-client's own records at DEBUG."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tycho_client").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is enough


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TYCHO_URL", "http://localhost:5000"))
    args = parser.parse_args()
    configure_logging()
    with TychoClient(args.url, token=os.environ.get("TYCHO_TOKEN")) as tycho:
        systems = tycho.status().result
    logging.getLogger("example").info("%d systems running", len(systems))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
