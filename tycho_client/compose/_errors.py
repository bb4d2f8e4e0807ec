"""How compose code reports a problem: one value's, then the document's."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import FieldError, TychoComposeError, summarize


class Problem(Exception):
    """A problem with one value; the caller knows where the value is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invalid(errors: Sequence[FieldError]) -> TychoComposeError:
    shown = summarize(f"{e.path}: {e.msg}" for e in errors)
    return TychoComposeError(f"invalid compose document: {shown}", errors)
