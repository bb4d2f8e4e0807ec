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

from ._version import __version__

# typing is not imported at run time: it costs `tycho --help` ~15 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .aio import AsyncTychoClient as AsyncTychoClient
    from .client import TychoClient as TychoClient
    from .discovery import TychoClientFactory as TychoClientFactory
    from .envfile import parse_env as parse_env
    from .errors import (
        TychoAPIError as TychoAPIError,
        TychoComposeError as TychoComposeError,
        TychoConnectionError as TychoConnectionError,
        TychoDiscoveryError as TychoDiscoveryError,
        TychoDownError as TychoDownError,
        TychoEnvError as TychoEnvError,
        TychoError as TychoError,
        TychoHTTPError as TychoHTTPError,
        TychoNameError as TychoNameError,
        TychoNotFoundError as TychoNotFoundError,
        TychoNotReadyError as TychoNotReadyError,
        TychoRateLimitError as TychoRateLimitError,
        TychoResponseError as TychoResponseError,
        TychoServerError as TychoServerError,
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


_LOCATIONS = {
    "TychoClient": "client",
    "AsyncTychoClient": "aio",
    "TychoClientFactory": "discovery",
    "parse_env": "envfile",
    "format_name": "naming",
    **dict.fromkeys(
        [
            "TychoAPIError",
            "TychoComposeError",
            "TychoConnectionError",
            "TychoDiscoveryError",
            "TychoDownError",
            "TychoEnvError",
            "TychoError",
            "TychoHTTPError",
            "TychoNameError",
            "TychoNotFoundError",
            "TychoNotReadyError",
            "TychoNotReadyError",
            "TychoRateLimitError",
            "TychoResponseError",
            "TychoServerError",
            "TychoTimeoutError",
            "TychoTransportError",
            "TychoValidationError",
        ],
        "errors",
    ),
    **dict.fromkeys(
        [
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
        ],
        "models",
    ),
}

__all__ = [
    "AsyncTychoClient",
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
    "TychoAPIError",
    "TychoClient",
    "TychoClientFactory",
    "TychoComposeError",
    "TychoConnectionError",
    "TychoDiscoveryError",
    "TychoDownError",
    "TychoEnvError",
    "TychoError",
    "TychoHTTPError",
    "TychoNameError",
    "TychoNotFoundError",
    "TychoNotReadyError",
    "TychoRateLimitError",
    "TychoResponseError",
    "TychoServerError",
    "TychoTimeoutError",
    "TychoTransportError",
    "TychoValidationError",
    "__version__",
    "format_name",
    "parse_env",
]


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'tycho_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
