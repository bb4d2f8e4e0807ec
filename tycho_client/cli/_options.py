"""How ``tycho``'s table of commands and options (``_arguments``) is written: an :class:`Option`,
a :class:`Group` of them, a :class:`Command`; and the types of option values that argparse checks
(:func:`positive_float`, ...), each failure one line naming the value.

``tycho --help`` imports it: it imports neither ``typing`` nor ``dataclasses`` (see ``_parser``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

TYPE_CHECKING = False  # not typing's: see _parser
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    Number = TypeVar("Number", int, float)

# The actions of argparse that take no value on the command line.
_FLAG_ACTIONS = frozenset(
    {"store_true", "store_false", "store_const", "append_const", "count", "help", "version"}
)


class Option:
    """An option (``-o``, ``--output``) or a positional argument (``guid``): its names and the
    keyword arguments of ``ArgumentParser.add_argument``. ``path=True`` marks an option whose value
    is a file name (the completion scripts offer file names there)."""

    __slots__ = ("names", "path", "settings")

    def __init__(self, *names: str, path: bool = False, **settings: Any) -> None:
        self.names = names
        self.settings = settings
        self.path = path

    @property
    def positional(self) -> bool:
        return not self.names[0].startswith("-")

    @property
    def flags(self) -> tuple[str, ...]:
        """What the command line accepts: the names, and for ``--modify`` (a
        BooleanOptionalAction) ``--no-modify`` beside it."""
        if self.settings.get("action") is not argparse.BooleanOptionalAction:
            return self.names
        pairs = ((name, f"--no-{name[2:]}") if name.startswith("--") else (name,)
                 for name in self.names)  # fmt: skip
        return tuple(flag for pair in pairs for flag in pair)

    @property
    def takes_value(self) -> bool:
        action = self.settings.get("action")
        return action not in _FLAG_ACTIONS and action is not argparse.BooleanOptionalAction

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(map(str, self.settings.get("choices") or ()))

    @property
    def summary(self) -> str:
        """The help text up to its first ';' (what the completion scripts show beside it)."""
        text: str = self.settings.get("help") or ""
        return text.split(";")[0].replace("%%", "%")


class Group:
    """Options shown under their own heading in the command's help."""

    __slots__ = ("options", "title")

    def __init__(self, title: str, *options: Option) -> None:
        self.title = title
        self.options = options


class Command:
    """A command: its one-line summary (``tycho --help``), the description and examples of its
    own help, and its arguments in the order the help shows them."""

    __slots__ = ("arguments", "description", "examples", "name", "summary")

    def __init__(
        self, name: str, summary: str, description: str, examples: str, *arguments: Option | Group
    ) -> None:
        self.name = name
        self.summary = summary
        self.description = description
        self.examples = examples
        self.arguments = arguments

    def options(self) -> Iterator[Option]:
        """Every argument, those of groups included, in the order declared."""
        for argument in self.arguments:
            if isinstance(argument, Group):
                yield from argument.options
            else:
                yield argument

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments (and its groups) to ``parser``."""
        for argument in self.arguments:
            if isinstance(argument, Group):
                group = parser.add_argument_group(argument.title)
                for option in argument.options:
                    group.add_argument(*option.names, **option.settings)
            else:
                parser.add_argument(*argument.names, **argument.settings)


# ---------------------------------------------------------------------------- value types

_INFINITY = float("inf")


def positive_float(text: str) -> float:
    """A finite number greater than 0 (a timeout, an interval)."""
    return _number(text, float, "a number", "a number greater than 0", lambda v: 0 < v < _INFINITY)


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (a latency)."""
    return _number(text, float, "a number", "a number of at least 0", lambda v: 0 <= v < _INFINITY)


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (a count)."""
    return _number(text, int, "a whole number", "at least 0", lambda v: v >= 0)


def _number(
    text: str,
    kind: Callable[[str], Number],
    noun: str,
    bound: str,
    within: Callable[[Number], bool],
) -> Number:
    """``text`` read as ``kind``; ``not {noun}`` if it is none, ``must be {bound}`` if it is
    not ``within`` the bound (argparse prints either as the usage error)."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
    if not within(value):  # NaN is within no bound
        raise argparse.ArgumentTypeError(f"must be {bound}: {text!r}")
    return value
