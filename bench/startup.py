"""Start-up of the ``tycho`` command: part P1 of the performance suite (bench/run.py).

    python bench/startup.py [--runs N]

The same as ``python bench/run.py --only P1``; kept so that older instructions still work.
``measure`` and ``tycho_script`` stay importable for bench/discovery_startup.py.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import Command, main, tycho_script

__all__ = ["measure", "tycho_script"]


def measure(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``argv``, as P1 measures; it must exit 0."""
    command = Command(list(argv), dict(env))
    if command.measure() is None:
        sys.exit(f"{' '.join(argv)}: {command.failure}")
    return command.seconds[0], command.megabytes[0]


if __name__ == "__main__":
    main(["--only", "P1", *sys.argv[1:]])
