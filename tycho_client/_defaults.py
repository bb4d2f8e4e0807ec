"""Defaults that both the library and the ``tycho`` command name, in a module that imports nothing
(``tycho --help`` shows them without importing httpx)."""

from __future__ import annotations

DEFAULT_URL = "http://localhost:5000"
"""Where a client looks for the Tycho API when it is given no URL."""

DEFAULT_SERVICE_NAME = "tycho-api"
"""The Kubernetes Service that discovery looks for."""
