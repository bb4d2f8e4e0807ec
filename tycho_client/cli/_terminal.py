"""Notes worth reading once: a note for the person at the terminal (the legend of ``tycho up``'s
table) is shown once per terminal session, remembered in the user's state folder
(``$XDG_STATE_HOME/tycho-client``, else ``~/.local/state/tycho-client``).

A terminal session is the process session of the shell (``os.getsid``) and, where ``/proc`` tells
it, when that session's leader started (so that a recycled session id is a new session). Best
effort: where the session or the folder cannot be known, read or written, the note is shown, as
it was before; it never fails a command.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_SESSIONS = 32
"""Sessions remembered for each note; older ones are forgotten, so the file stays small."""


def state_folder() -> Path:
    """Where tycho-client keeps what it remembers between runs (XDG Base Directory)."""
    given = os.environ.get("XDG_STATE_HOME", "")
    root = Path(given) if os.path.isabs(given) else Path.home() / ".local" / "state"
    return root / "tycho-client"


def terminal_session() -> str | None:
    """This process's session: its id, and its leader's start time where /proc tells it."""
    getsid = getattr(os, "getsid", None)
    if getsid is None:
        return None
    session = getsid(0)
    try:
        with open(f"/proc/{session}/stat", "rb") as stat:
            # Fields after the command name (which may hold spaces and parentheses); the 22nd
            # field of the line, starttime, is the 20th of them.
            started = stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return str(session)
    return f"{session}-{started}"


def first_in_session(note: str) -> bool:
    """True unless ``note`` was shown in this terminal session already; remembers that it is
    shown now. True where it cannot tell (no session, no state folder)."""
    try:
        session = terminal_session()
        if session is None:
            return True
        marker = state_folder() / f"{note}.shown"
        try:
            seen = marker.read_text(encoding="ascii").split()
        except FileNotFoundError:
            seen = []
        if session in seen:
            return False
        marker.parent.mkdir(parents=True, exist_ok=True)
        written = marker.with_name(f"{marker.name}.{os.getpid()}")
        kept = [*seen[-(MAX_SESSIONS - 1) :], session]
        written.write_text("".join(f"{line}\n" for line in kept), encoding="ascii")
        os.replace(written, marker)  # whole or not at all, for a run in another terminal
    except (OSError, RuntimeError, UnicodeError):  # RuntimeError: no home folder
        return True
    return True
