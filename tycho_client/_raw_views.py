# Generated from aio.py by scripts/generate.py: edit aio.py, not this file.
"""``client.with_raw_response``: the raw views of both faces.

Generated from :mod:`tycho_client.aio` by ``scripts/generate.py``: edit that file, not this one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from typing_extensions import Unpack

from ._config import CallOptions
from ._generated.operations import DELETE, MODIFY, START, STATUS
from ._raw import RawResponse
from .models import (
    ComposeSystem,
    DeleteRequest,
    DeleteResponse,
    ModifyRequest,
    ModifyResponse,
    StartRequest,
    StartResponse,
    StatusRequest,
    StatusResponse,
)

if TYPE_CHECKING:
    from .aio import AsyncTychoClient
    from .client import TychoClient

__all__ = ["AsyncTychoClientWithRawResponse", "TychoClientWithRawResponse"]


class AsyncTychoClientWithRawResponse:
    """``client.with_raw_response`` of :class:`~tycho_client.AsyncTychoClient`: each operation
    with the same parameters and checks, answering with the
    :class:`~tycho_client.RawResponse` behind its model."""

    def __init__(self, client: AsyncTychoClient) -> None:
        self._client = client

    async def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[dict[str, Any]]:
        """:meth:`AsyncTychoClient.request`, answering with its RawResponse."""
        return await self._client._exchange_service(service, request, options)

    async def start(
        self, request: StartRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[StartResponse]:
        """:meth:`AsyncTychoClient.start`, answering with its RawResponse."""
        return await self._client._exchange(START, self._client._start_request(request), options)

    async def status(
        self,
        request: StatusRequest | Mapping[str, Any] | str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StatusResponse]:
        """:meth:`AsyncTychoClient.status`, answering with its RawResponse."""
        return await self._client._exchange(
            STATUS, self._client._by_guid(request, "name", "list"), options
        )

    async def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> RawResponse[DeleteResponse]:
        """:meth:`AsyncTychoClient.delete`, answering with its RawResponse."""
        return await self._client._exchange(
            DELETE, self._client._by_guid(request, "name", "down"), options
        )

    async def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[ModifyResponse]:
        """:meth:`AsyncTychoClient.modify`, answering with its RawResponse."""
        return await self._client._exchange(MODIFY, request, options)

    async def up(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | ComposeSystem,
        settings: str | Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StartResponse]:
        """:meth:`AsyncTychoClient.up`, answering with its RawResponse."""
        return await self._client._exchange(
            START,
            self._client._up_request(name, system, settings, services, serviceaccount),
            options,
        )


class TychoClientWithRawResponse:
    """``client.with_raw_response`` of :class:`~tycho_client.TychoClient`: each operation
    with the same parameters and checks, answering with the
    :class:`~tycho_client.RawResponse` behind its model."""

    def __init__(self, client: TychoClient) -> None:
        self._client = client

    def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[dict[str, Any]]:
        """:meth:`TychoClient.request`, answering with its RawResponse."""
        return self._client._exchange_service(service, request, options)

    def start(
        self, request: StartRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.start`, answering with its RawResponse."""
        return self._client._exchange(START, self._client._start_request(request), options)

    def status(
        self,
        request: StatusRequest | Mapping[str, Any] | str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StatusResponse]:
        """:meth:`TychoClient.status`, answering with its RawResponse."""
        return self._client._exchange(
            STATUS, self._client._by_guid(request, "name", "list"), options
        )

    def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> RawResponse[DeleteResponse]:
        """:meth:`TychoClient.delete`, answering with its RawResponse."""
        return self._client._exchange(
            DELETE, self._client._by_guid(request, "name", "down"), options
        )

    def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[ModifyResponse]:
        """:meth:`TychoClient.modify`, answering with its RawResponse."""
        return self._client._exchange(MODIFY, request, options)

    def up(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | ComposeSystem,
        settings: str | Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.up`, answering with its RawResponse."""
        return self._client._exchange(
            START,
            self._client._up_request(name, system, settings, services, serviceaccount),
            options,
        )
