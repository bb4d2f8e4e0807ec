"""``python -m tycho_client``: the ``tycho`` command."""

from __future__ import annotations

import sys

from tycho_client.cli import main

if __name__ == "__main__":
    sys.exit(main())
