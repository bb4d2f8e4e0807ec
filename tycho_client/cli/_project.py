"""A compose file and its ``.env``, or flags for one container, into a start request.

For ``up`` and ``validate``. Files are read by :func:`read_text` (regular files or stdin,
bounded); the request is built by :func:`tycho_client.build.up_request`, the same pipeline the
clients' ``up`` runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tycho_client.errors import TychoValidationError

from ._output import warn
from ._runtime import STDIN, CommandError, read_text

if TYPE_CHECKING:
    from tycho_client.models import StartRequest

# The names docker compose looks for in the current folder, in its order of preference.
DEFAULT_COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
QUICK_SOURCE = "the --image flags"


@dataclass(frozen=True)
class ComposeProject:
    source: str  # what errors name: the compose file, "stdin", or the quick-launch flags
    system: dict[str, Any]  # as loaded: ${VAR} is substituted when the request is built
    env: dict[str, str]
    default_name: str  # the compose file's folder (or the image) name, not yet a DNS label


def compose_file(given: str | None) -> str:
    """``given``, else the compose file in the current folder, found as docker compose does."""
    if given is not None:
        return given
    found = [name for name in DEFAULT_COMPOSE_FILES if os.path.isfile(name)]
    if not found:
        raise CommandError(
            "no compose file: give -f PATH (or --image IMAGE), or run where one of "
            f"{', '.join(DEFAULT_COMPOSE_FILES)} is"
        )
    if len(found) > 1:
        warn(f"found {' and '.join(found)}; using {found[0]}")
    return found[0]


def load_project(file: str, env_file: str | None) -> ComposeProject:
    """Load ``file`` (``-``: stdin) and the ``.env`` beside it (or ``env_file``, which must
    exist). A missing default ``.env`` means no settings, as with docker compose; for stdin the
    default ``.env`` is the current folder's."""
    from tycho_client.compose import load_compose

    if file == STDIN and env_file == STDIN:
        raise CommandError("-f - and --env-file - cannot both read stdin")
    source = "stdin" if file == STDIN else file
    text = read_text(file, "compose file")
    folder = Path.cwd() if file == STDIN else Path(file).resolve().parent
    env = _load_env(env_file, Path(".env") if file == STDIN else Path(file).parent / ".env")
    with naming_source(source):
        system = load_compose(text, source=source)
    return ComposeProject(source, system, env, folder.name)


def _load_env(env_file: str | None, default: Path) -> dict[str, str]:
    from tycho_client.envfile import parse_env

    if env_file is None:
        if not os.path.lexists(default):
            return {}
        env_file = str(default)  # it exists: read_text refuses it if it is no regular file
    env_text = read_text(env_file, "env file")
    # Its errors name the .env file and line.
    return parse_env(env_text, source="stdin" if env_file == STDIN else env_file)


def quick_project(
    image: str,
    name: str | None,
    ports: Sequence[str],
    command: str | None,
    volumes: Sequence[str],
    env_pairs: Sequence[str],
    env_file: str | None,
) -> ComposeProject:
    """The compose document of one container built from flags (the original client's quick
    launch, like ``kubectl run`` or ``docker run``). ``-e KEY=VALUE`` values join the
    settings (``env``) and reach the container as ``${KEY}``, so that they are masked like
    ``.env`` values wherever the request is shown."""
    import shlex

    from tycho_client.naming import format_name

    if not image.strip():
        raise CommandError("--image needs an image name")
    if not ports:
        # Real servers fail on a system without ports ("argument of type 'int' is not iterable").
        raise CommandError("--image needs at least one --port: the port users connect to")
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    with naming_source(QUICK_SOURCE):
        service_name = format_name(name or base)
    settings = _load_env(env_file, Path(os.devnull)) if env_file is not None else {}
    environment: list[str] = []
    for text in env_pairs:
        key, equals, value = text.partition("=")
        if not equals or not key.isidentifier() or not key.isascii():
            raise CommandError(f"--env takes KEY=VALUE with KEY a variable name, got {key!r}")
        settings[key] = value
        environment.append(f"{key}=${{{key}}}")
    service: dict[str, Any] = {"image": image}
    if command is not None:
        try:
            # `entrypoint`, as the original client sent it: servers ignore `command`.
            service["entrypoint"] = shlex.split(command)
        except ValueError as exc:
            raise CommandError(f"--command cannot be split: {exc}") from None
    if ports:
        service["ports"] = list(ports)
    if volumes:
        service["volumes"] = list(volumes)
    if environment:
        service["environment"] = environment
    system = {"version": "3", "services": {service_name: service}}
    return ComposeProject(QUICK_SOURCE, system, settings, name or base)


def build_request(project: ComposeProject, name: str | None) -> StartRequest:
    """The validated start request ``TychoClient.up`` would send for ``project``: the same
    pipeline (:func:`tycho_client.build.up_request`), given the loaded document and settings.

    What the pipeline warns about is printed, ``tycho: warning: FILE: ...``, problems or not.
    """
    import warnings

    from tycho_client.build import up_request
    from tycho_client.errors import TychoComposeWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TychoComposeWarning)
        try:
            with naming_source(project.source):
                return up_request(name or project.default_name, project.system, project.env)
        finally:
            for warning in caught:
                if isinstance(warning.message, TychoComposeWarning):
                    warn(f"{project.source}: {warning.message}")
                else:  # not ours: shown as Python would have shown it
                    warnings.showwarning(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )


@contextmanager
def naming_source(source: str) -> Iterator[None]:
    """Validation errors inside say which file they are about (exit 2, like any usage error).

    The error keeps its field errors (``validate`` prints each one).
    """
    try:
        yield
    except TychoValidationError as exc:
        if source in exc.message:
            raise
        raise SourcedValidationError(source, exc) from exc


class SourcedValidationError(CommandError):
    """A :class:`TychoValidationError` with the file (or flags) it is about."""

    def __init__(self, source: str, error: TychoValidationError) -> None:
        super().__init__(f"{source}: {error.message}")
        self.source = source
        self.error = error
