"""tycho-client: the typed Python client for the Tycho API.

Tycho runs a docker-compose system as containers on Kubernetes. This package validates requests
before they are sent, sends them with httpx, parses answers into models generated from the OpenAPI
document (``openapi/tycho.yaml``), raises typed errors (see :mod:`tycho_client.errors`), finds the
API in a cluster (:class:`TychoClientFactory`) and ships a spec-validating fake for tests
(:mod:`tycho_client.testing`).

Names are imported lazily so that ``tycho --help`` does not pay for pydantic and httpx.
"""

from __future__ import annotations

import importlib
import sys
from types import FunctionType, GenericAlias

from ._version import __version__ as __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs 2.4 ms, 10 % of `tycho --help`
# (bench/README.md, "Start-up tricks: measured").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._raw import RawResponse as RawResponse
    from ._retry import RetryPolicy as RetryPolicy
    from .aio import AsyncTychoClient as AsyncTychoClient
    from .client import TychoClient as TychoClient
    from .discovery import TychoClientFactory as TychoClientFactory
    from .envfile import parse_env as parse_env
    from .errors import (
        TychoAmbiguousNameError as TychoAmbiguousNameError,
        TychoAPIError as TychoAPIError,
        TychoComposeError as TychoComposeError,
        TychoComposeWarning as TychoComposeWarning,
        TychoConnectionError as TychoConnectionError,
        TychoDiscoveryError as TychoDiscoveryError,
        TychoDownError as TychoDownError,
        TychoEnvError as TychoEnvError,
        TychoError as TychoError,
        TychoHTTPError as TychoHTTPError,
        TychoMissingDependencyError as TychoMissingDependencyError,
        TychoNameError as TychoNameError,
        TychoNotFoundError as TychoNotFoundError,
        TychoNotReadyError as TychoNotReadyError,
        TychoRateLimitError as TychoRateLimitError,
        TychoReadinessUnknownError as TychoReadinessUnknownError,
        TychoResponseError as TychoResponseError,
        TychoServerError as TychoServerError,
        TychoSystemNotFoundError as TychoSystemNotFoundError,
        TychoTimeoutError as TychoTimeoutError,
        TychoTransportError as TychoTransportError,
        TychoValidationError as TychoValidationError,
    )
    from .models import (
        ComposeService as ComposeService,
        ComposeSystem as ComposeSystem,
        ContainerEndpoint as ContainerEndpoint,
        DeleteRequest as DeleteRequest,
        DeleteResponse as DeleteResponse,
        ErrorResponse as ErrorResponse,
        ErrorResult as ErrorResult,
        ModifyRequest as ModifyRequest,
        ModifyResponse as ModifyResponse,
        ModifyResult as ModifyResult,
        ServiceSpec as ServiceSpec,
        StartRequest as StartRequest,
        StartResponse as StartResponse,
        StartResult as StartResult,
        StatusRequest as StatusRequest,
        StatusResponse as StatusResponse,
        SystemStatus as SystemStatus,
    )
    from .naming import format_name as format_name
    from .traits import ServerTraits as ServerTraits
    from .verify import VerificationReport as VerificationReport


# The public names, each with the module it comes from: the one list. __all__ and the lazy
# loader come from it; the TYPE_CHECKING imports above say the same to type checkers, and
# tests/test_public_api.py checks that the two agree.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "client": ("TychoClient",),
    "_retry": ("RetryPolicy",),
    "_raw": ("RawResponse",),
    "aio": ("AsyncTychoClient",),
    "discovery": ("TychoClientFactory",),
    "envfile": ("parse_env",),
    "naming": ("format_name",),
    "traits": ("ServerTraits",),
    "verify": ("VerificationReport",),
    "errors": (
        "TychoAPIError",
        "TychoAmbiguousNameError",
        "TychoComposeError",
        "TychoComposeWarning",
        "TychoConnectionError",
        "TychoDiscoveryError",
        "TychoDownError",
        "TychoEnvError",
        "TychoError",
        "TychoHTTPError",
        "TychoMissingDependencyError",
        "TychoNameError",
        "TychoNotFoundError",
        "TychoNotReadyError",
        "TychoRateLimitError",
        "TychoReadinessUnknownError",
        "TychoResponseError",
        "TychoServerError",
        "TychoSystemNotFoundError",
        "TychoTimeoutError",
        "TychoTransportError",
        "TychoValidationError",
    ),
    "models": (
        "ComposeService",
        "ComposeSystem",
        "ContainerEndpoint",
        "DeleteRequest",
        "DeleteResponse",
        "ErrorResponse",
        "ErrorResult",
        "ModifyRequest",
        "ModifyResponse",
        "ModifyResult",
        "ServiceSpec",
        "StartRequest",
        "StartResponse",
        "StartResult",
        "StatusRequest",
        "StatusResponse",
        "SystemStatus",
    ),
}
_LOCATIONS = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_LOCATIONS, "__version__"])


def _lazy(package: str, locations: dict[str, str]) -> Callable[[str], Any]:
    """A package's ``__getattr__`` that imports each of its ``locations`` (a name -> its module)
    on first use and keeps it (this package's, and :mod:`tycho_client.testing`'s)."""

    def load(name: str) -> Any:
        module = locations.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    return load


__getattr__: Callable[[str], Any] = _lazy(__name__, _LOCATIONS)


def __dir__() -> list[str]:
    return sorted(__all__)


def _publish(module: str, namespace: dict[str, Any]) -> None:
    """Name ``tycho_client`` as the module of ``module``'s public classes and functions that are
    exported here (as httpx does), so that reprs, pickles and documentation show where users
    import them from; the module's other public names keep ``module``."""
    exported = set(_EXPORTS.get(module.removeprefix(f"{__name__}."), ()))
    for name in namespace.get("__all__", ()):
        value = namespace[name]
        # (Python 3.10 counts an alias such as tuple[int, ...] as a type: not one of ours.)
        if isinstance(value, (type, FunctionType)) and not isinstance(value, GenericAlias):
            value.__module__ = __name__ if name in exported else module
