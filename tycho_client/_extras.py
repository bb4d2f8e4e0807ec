"""Optional dependencies: import one, or say which extra installs it.

The core install (``pip install tycho-client``) is what a client needs. The fake Tycho and JSON
Schema validation need jsonschema (the ``testing`` extra); their import sites ask
:func:`require` first, so a missing package is a
:class:`~tycho_client.errors.TychoMissingDependencyError` naming the extra, not a bare
``ModuleNotFoundError``. (Discovery's one optional import, the kubernetes package for ``exec``
and ``auth-provider`` credentials, is reported as a ``TychoDiscoveryError`` by
:mod:`tycho_client._kube`.)
"""

from __future__ import annotations

import importlib
from types import ModuleType

from tycho_client.errors import TychoMissingDependencyError

__all__ = ["TESTING", "require"]

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
