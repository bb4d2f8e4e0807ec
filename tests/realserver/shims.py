"""Stand-ins for modules newer Pythons removed that tycho-api's dependencies import, written by
``setup_server.py`` into a server environment built with Python 3.12 or later (and only there)."""

from __future__ import annotations

# Stand-ins for what newer Pythons removed and tycho-api's dependencies import, written into the
# server's environment only (module, the Python that removed it, its text): flasgger calls
# imp.find_module (on a path it rarely takes), docker-compose's CLI pipes.quote.
SHIMS: tuple[tuple[str, tuple[int, int], str], ...] = (
    (
        "imp",
        (3, 12),
        '''"""A stand-in for ``imp`` (removed in Python 3.12), for tycho-api's flasgger only.

Written by tycho-client's tests/realserver/setup_server.py into this server environment.
"""

import importlib.machinery
from importlib import reload  # noqa: F401

PY_SOURCE = 1
PKG_DIRECTORY = 5


def find_module(name, path=None):
    spec = importlib.machinery.PathFinder.find_spec(name, path)
    if spec is None:
        raise ImportError(f"No module named {name!r}", name=name)
    if spec.submodule_search_locations:
        return None, list(spec.submodule_search_locations)[0], ("", "", PKG_DIRECTORY)
    return None, spec.origin, (".py", "r", PY_SOURCE)
''',
    ),
    (
        "pipes",
        (3, 13),
        '''"""A stand-in for ``pipes`` (removed in Python 3.13), for docker-compose's ``quote``.

Written by tycho-client's tests/realserver/setup_server.py into this server environment.
"""

from shlex import quote  # noqa: F401
''',
    ),
)
