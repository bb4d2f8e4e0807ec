"""Optional dependencies: import one, or say which extra installs it.

The core install (``pip install tycho-client``) is what a client of a known URL needs. Kubernetes
discovery and the fake Tycho need more; each import site asks :func:`require` first, so a
missing package is a :class:`~tycho_client.errors.TychoMissingDependencyError` naming the extra,
not a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from tycho_client.errors import TychoMissingDependencyError

__all__ = ["KUBERNETES", "TESTING", "require"]

KUBERNETES = "kubernetes"
"""The extra of :class:`~tycho_client.TychoClientFactory` (Kubernetes discovery)."""

TESTING = "testing"
"""The extra of :mod:`tycho_client.testing`, its pytest fixtures, ``tycho mock`` and
``tycho validate`` (JSON Schema validation against the OpenAPI document)."""


def require(module_name: str, extra: str, *, feature: str) -> ModuleType:
    """``module_name`` imported, or a :class:`TychoMissingDependencyError` saying that
    ``feature`` needs it and which extra of tycho-client installs it."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # The module itself or one of its own dependencies is absent: the extra brings both.
        missing = exc.name or module_name
        raise TychoMissingDependencyError(
            f"{feature} needs the package {missing!r}, which is not installed: "
            f"pip install 'tycho-client[{extra}]'",
            name=missing,
            extra=extra,
        ) from exc
