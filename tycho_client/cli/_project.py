"""Reading a compose file and its ``.env`` for ``up`` and ``validate``; the request is built by
:func:`tycho_client.build.up_request`, the same pipeline the clients' ``up`` runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tycho_client.errors import TychoValidationError

from ._runtime import CommandError, read_text

if TYPE_CHECKING:
    from tycho_client.models import StartRequest


@dataclass(frozen=True)
class ComposeProject:
    path: Path
    text: str  # the compose file as written
    env_path: Path
    env_text: str  # the .env as written ("" when there is none)
    default_name: str  # the compose file's directory name, not yet a DNS label


def load_project(file: str, env_file: str | None) -> ComposeProject:
    """Read ``file`` and the ``.env`` beside it (or ``env_file``, which must exist).

    A missing default ``.env`` means no settings, as with docker compose.
    """
    path = Path(file)
    text = read_text(path, "compose file")
    env_path = Path(env_file) if env_file is not None else path.parent / ".env"
    has_env = env_file is not None or env_path.is_file()
    env_text = read_text(env_path, "env file") if has_env else ""
    return ComposeProject(path, text, env_path, env_text, path.resolve().parent.name)


def build_request(project: ComposeProject, name: str | None) -> StartRequest:
    """The validated start request ``TychoClient.up`` would send for ``project``."""
    from tycho_client.build import up_request

    with naming_file(project.path, project.env_path):
        return up_request(
            name or project.default_name,
            project.text,
            project.env_text,
            source=str(project.path),
            env_source=str(project.env_path),  # .env errors name their own file and line
        )


@contextmanager
def naming_file(path: Path, *named: Path) -> Iterator[None]:
    """Validation errors inside say which file they are about (exit 2, like any usage error):
    ``path``, unless the message already names it or one of ``named``."""
    try:
        yield
    except TychoValidationError as exc:
        if any(str(p) in exc.message for p in (path, *named)):
            raise
        raise CommandError(f"{path}: {exc.message}") from exc
