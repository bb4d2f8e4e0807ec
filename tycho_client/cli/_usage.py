"""Usage errors worded for people: an unknown command or option is named with the closest valid
spellings (difflib) and the help that lists the right ones.

Imported only when a command line is wrong, so ``difflib`` costs the other runs nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from tycho_client.errors import escape_controls

from ._arguments import COMMANDS, GLOBAL_OPTIONS, HELP
from ._options import Option

MAX_NAMED = 3
"""At most this many unknown options, and this many suggestions for each, in the one line."""
CUTOFF = 0.6  # difflib's default: below it, a spelling is not suggested
MARGIN = 0.05  # suggestions spelt nearly as well as the best one are named beside it


def _quoted(text: str) -> str:
    return f"'{escape_controls(text)}'"


def _either(names: Sequence[str]) -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``."""
    quoted = [_quoted(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _closest(word: str, candidates: Sequence[str]) -> list[str]:
    """The candidates ``word`` abbreviates, else those spelt most like it (difflib's ratio, at
    least 0.6, and within 0.05 of the best), compared without their leading dashes."""
    stems: dict[str, str] = {}
    for candidate in candidates:
        stems.setdefault(candidate.lstrip("-"), candidate)  # --terse before -terse
    stem = word.lstrip("-")
    if not stem:
        return []
    started = [candidate for key, candidate in stems.items() if key.startswith(stem)]
    if started:
        return started[:MAX_NAMED]
    scored = sorted(
        ((difflib.SequenceMatcher(None, stem, key).ratio(), candidate)
         for key, candidate in stems.items()),
        key=lambda pair: -pair[0],
    )  # fmt: skip
    best = scored[0][0] if scored else 0.0
    if best < CUTOFF:
        return []
    return [candidate for ratio, candidate in scored if ratio >= best - MARGIN][:MAX_NAMED]


def unknown_command(word: str) -> str:
    """What to say about a command word that names no command."""
    close = _closest(word, list(COMMANDS))
    if close:
        return f"unknown command {_quoted(word)}: did you mean {_either(close)}?"
    return f"unknown command {_quoted(word)}; the commands are {', '.join(COMMANDS)}"


def _flags(options: Sequence[Option]) -> list[str]:
    return [flag for option in options if not option.positional for flag in option.flags]


def _is_option(word: str) -> bool:
    """An option-like word (``-x``, ``--name=value``), not ``-`` (stdin) nor a negative number."""
    return word.startswith("-") and word != "-" and not word[1:2].isdigit()


def unknown_arguments(command: str, extras: Sequence[str]) -> str:
    """What to say about the words of a ``command`` line that no option or argument took."""
    unknown = [word.split("=", 1)[0] for word in extras if _is_option(word)]
    if not unknown:
        others = f" (and {len(extras) - 1} more)" if len(extras) > 1 else ""
        return f"unexpected argument {_quoted(extras[0])}{others}"
    own = _flags(list(COMMANDS[command].options()))
    valid = own + _flags([HELP, *GLOBAL_OPTIONS])
    told = [_unknown_option(flag, command, own, valid) for flag in unknown[:MAX_NAMED]]
    left = len(unknown) - MAX_NAMED
    if left > 0:
        told.append(f"and {left} more unknown option{'s' if left > 1 else ''}")
    return "; ".join(told)


def _unknown_option(flag: str, command: str, own: Sequence[str], valid: Sequence[str]) -> str:
    if flag in own:  # given before the command word, where only the global options go
        return f"{_quoted(flag)} is an option of 'tycho {command}': give it after the command"
    close = _closest(flag, valid)
    if close:
        return f"unknown option {_quoted(flag)}: did you mean {_either(close)}?"
    elsewhere = [f"tycho {name}" for name, other in COMMANDS.items()
                 if flag in _flags(list(other.options()))]  # fmt: skip
    if elsewhere:
        return f"unknown option {_quoted(flag)}: it is an option of {_either(elsewhere)}"
    return f"unknown option {_quoted(flag)}"
