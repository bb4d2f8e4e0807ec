"""Reading a compose file and its ``.env`` into a start request, for ``up`` and ``validate``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tycho_client.errors import TychoValidationError

from ._runtime import CommandError, read_text

if TYPE_CHECKING:
    from tycho_client.models import StartRequest


@dataclass(frozen=True)
class ComposeProject:
    path: Path
    system: dict[str, Any]  # as loaded: ${VAR} is substituted when the request is built
    env: dict[str, str]
    default_name: str  # the compose file's directory name, not yet a DNS label


def load_project(file: str, env_file: str | None) -> ComposeProject:
    """Load ``file`` and the ``.env`` beside it (or ``env_file``, which must exist).

    A missing default ``.env`` means no settings, as with docker compose.
    """
    from tycho_client.compose import load_compose
    from tycho_client.envfile import parse_env

    path = Path(file)
    text = read_text(path, "compose file")
    env_path = Path(env_file) if env_file is not None else path.parent / ".env"
    has_env = env_file is not None or env_path.is_file()
    env_text = read_text(env_path, "env file") if has_env else ""
    env = parse_env(env_text, source=str(env_path))  # its errors name the .env file and line
    with naming_file(path):
        system = load_compose(text, source=str(path))
    return ComposeProject(path, system, env, path.resolve().parent.name)


def build_request(project: ComposeProject, name: str | None) -> StartRequest:
    """The validated start request ``TychoClient.up`` would send for ``project``."""
    from tycho_client._core import TychoCore

    with naming_file(project.path):
        return TychoCore().build_up_request(
            name or project.default_name,
            project.system,
            project.env,
            services=None,
            serviceaccount=None,
        )


def redacted_request(project: ComposeProject, request: StartRequest) -> dict[str, Any]:
    """``request`` for showing to people: no ``.env`` value, in ``env`` or in ``system``.

    ``StartRequest.redacted()`` masks ``env`` only, but ``${VAR}`` has put the same values into
    the compose document; so the document is shown interpolated with masked values instead.
    """
    from tycho_client.compose import interpolate, normalize_compose
    from tycho_client.models import REDACTED

    shown = request.redacted()
    # An empty value is no secret, and masking it would hide which ${VAR:-default} applied.
    masked_env = {key: REDACTED if value else "" for key, value in project.env.items()}
    system = interpolate(project.system, masked_env)
    try:
        shown["system"] = normalize_compose(system)
    except TychoValidationError:  # a masked value where a port belongs: show it as written
        shown["system"] = system
    return shown


@contextmanager
def naming_file(path: Path) -> Iterator[None]:
    """Validation errors inside say which file they are about (exit 2, like any usage error)."""
    try:
        yield
    except TychoValidationError as exc:
        if str(path) in exc.message:
            raise
        raise CommandError(f"{path}: {exc.message}") from exc
