"""The operations of ``openapi/tycho.yaml``: made by ``scripts/generate.py``, never edited by hand.

One :class:`Operation` per ``operationId``: its method and path, the models of its request and of
its successful answer, the ``outcome`` every HTTP 200 answer parses into (the success envelope or
``ErrorResponse``, told apart by ``status``), and what the document's extensions say:
``x-safe-to-retry`` and ``x-routed``.
"""

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from . import models

RequestT = TypeVar("RequestT", bound=BaseModel)
ResponseT = TypeVar("ResponseT", bound=BaseModel)


@dataclass(frozen=True, eq=False)
class Operation(Generic[RequestT, ResponseT]):
    """One operation of the Tycho API document."""

    name: "OperationName"
    """The document's ``operationId``."""
    method: str
    path: str
    request: type[RequestT]
    """The model of the request body, as generated from the document."""
    response: type[ResponseT]
    """The model of a successful answer (``"status": "success"``)."""
    outcome: Any
    """The type of every HTTP 200 answer: ``response`` or ``ErrorResponse`` (a type alias)."""
    safe_to_retry: bool
    """``x-safe-to-retry``: repeating it once the server may have seen it does no harm."""
    routed: bool
    """``x-routed``: real servers route it (``False``: they answer the HTML 404 ``NotRouted``)."""
    summary: str

    def __repr__(self) -> str:
        return f"<Operation {self.name}: {self.method} {self.path}>"


OperationName = Literal["start", "status", "delete", "modify"]
"""The names of the operations (the document's ``operationId``s)."""

START: Operation[models.StartRequest, models.StartResponse] = Operation(
    name="start",
    method="POST",
    path="/system/start",
    request=models.StartRequest,
    response=models.StartResponse,
    outcome=models.StartOutcome,
    safe_to_retry=False,
    routed=True,
    summary="Start a system from a docker-compose document.",
)
STATUS: Operation[models.StatusRequest, models.StatusResponse] = Operation(
    name="status",
    method="POST",
    path="/system/status",
    request=models.StatusRequest,
    response=models.StatusResponse,
    outcome=models.StatusOutcome,
    safe_to_retry=True,
    routed=True,
    summary="List running systems, all or by GUID or by user.",
)
DELETE: Operation[models.DeleteRequest, models.DeleteResponse] = Operation(
    name="delete",
    method="POST",
    path="/system/delete",
    request=models.DeleteRequest,
    response=models.DeleteResponse,
    outcome=models.DeleteOutcome,
    safe_to_retry=True,
    routed=True,
    summary="Delete a system and everything it created.",
)
MODIFY: Operation[models.ModifyRequest, models.ModifyResponse] = Operation(
    name="modify",
    method="POST",
    path="/system/modify",
    request=models.ModifyRequest,
    response=models.ModifyResponse,
    outcome=models.ModifyOutcome,
    safe_to_retry=False,
    routed=False,
    summary="Patch the labels and resources of a running system.",
)

OPERATIONS: dict[OperationName, Operation[Any, Any]] = {
    "start": START,
    "status": STATUS,
    "delete": DELETE,
    "modify": MODIFY,
}
"""Every operation of the document, by name, in the document's order."""
