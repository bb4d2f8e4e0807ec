"""The problems :func:`tycho_client.build.up_request` finds, step by step, reported at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

from .errors import FieldError, Loc, TychoValidationError, summarize

T = TypeVar("T")


class Problems:
    """The problems :func:`up_request` finds, step by step."""

    def __init__(self) -> None:
        self.first: TychoValidationError | None = None
        self.errors: list[FieldError] = []
        # The fields named so far, and every start of them 3 keys or longer: a hostile document
        # has thousands of problems, and comparing each with every other one took minutes.
        self._locs: set[Loc] = set()
        self._starts: set[Loc] = set()

    def step(
        self, function: Callable[..., T], *args: Any, quiet: bool = False, **kwargs: Any
    ) -> T | None:
        """``function(*args, **kwargs)``, or None when it raises a TychoValidationError (kept,
        unless ``quiet``: a later step names the same problem better)."""
        try:
            return function(*args, **kwargs)
        except TychoValidationError as exc:
            if not quiet:
                self.add(exc)
            return None

    def add_all(
        self, kind: type[TychoValidationError], what: str, errors: list[FieldError]
    ) -> None:
        if errors:
            shown = summarize(f"{e.path}: {e.msg}" for e in errors)
            self.add(kind(f"{what}: {shown}", errors))

    def add(self, error: TychoValidationError | None) -> None:
        """``error``'s problems, but those about a field an earlier step named already (a port
        normalizing left as written fails the rules and the model too: one problem)."""
        if error is None:
            return
        listed = error.errors or [FieldError((), error.message)]
        fresh = [problem for problem in listed if not self._named(problem.loc)]
        if fresh and self.first is None:
            self.first = error
        self.errors.extend(fresh)
        for problem in fresh:
            self._locs.add(problem.loc)
            self._starts.update(problem.loc[:end] for end in range(3, len(problem.loc) + 1))

    def all_named(self, locs: Iterable[Loc]) -> bool:
        return all(self._named(loc) for loc in locs)

    def _named(self, loc: Loc) -> bool:
        if loc[:1] == ("services",) and len(loc) > 1:  # the request's copy of a compose name
            loc = ("system", *loc)
        if loc in self._locs:
            return True
        # A field and what is inside it; not all of `system.services` for one service.
        return len(loc) >= 3 and (
            loc in self._starts or any(loc[:end] in self._locs for end in range(3, len(loc)))
        )

    def raise_any(self, *, unless: bool = False) -> None:
        """Raise the first step's error, listing every problem found, if there is any and not
        ``unless``."""
        if self.first is not None and not unless:
            self.fail()

    def fail(self) -> NoReturn:
        """Raise the first step's error, listing every problem found."""
        error = self.first or TychoValidationError("invalid start request")
        listed = set(error.errors)
        more = [problem for problem in self.errors if problem not in listed]
        if more:
            error.message = summarize([error.message, *(f"{e.path}: {e.msg}" for e in more)])
            error.args = (error.message,)
        error.errors = list(self.errors)
        raise error
