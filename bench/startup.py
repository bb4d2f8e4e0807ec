"""Start-up of the ``tycho`` command: part P1 of the performance suite (bench/run.py).

    python bench/startup.py [--runs N]

The same as ``python bench/run.py --only P1``; kept so that older instructions still work.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import main

if __name__ == "__main__":
    main(["--only", "P1", *sys.argv[1:]])
