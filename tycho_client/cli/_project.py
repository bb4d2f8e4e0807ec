"""A compose file and its ``.env``, or flags for one container, into a start request.

For ``up`` and ``validate``. Files are read by :func:`read_text` (regular files or stdin,
bounded); the request is built by :func:`tycho_client.build.up_request`, the same pipeline the
clients' ``up`` runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tycho_client.errors import FieldError, TychoComposeError, TychoValidationError, format_loc

from ._output import error_line, tell, warn
from ._runtime import EXIT_USAGE, STDIN, CommandError, read_text

if TYPE_CHECKING:
    from tycho_client.errors import TychoComposeWarning
    from tycho_client.models import StartRequest

# The names docker compose looks for in the current folder, in its order of preference.
DEFAULT_COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
QUICK_SOURCE = "the --image flags"
_PUNCTUATION = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ComposeProject:
    source: str  # what errors name: the compose file, "stdin", or the quick-launch flags
    system: str | dict[str, Any]  # compose text, or the document the quick-launch flags make
    env: str | dict[str, str]  # .env text, or the settings
    default_name: str  # the compose file's folder (or the image) name, not yet a DNS label
    env_source: str | None = None  # the .env read, or the one that would be (it may not exist)


def compose_files_here() -> list[str]:
    """The compose files of the current folder, in docker compose's order of preference."""
    return [name for name in DEFAULT_COMPOSE_FILES if os.path.isfile(name)]


def compose_file(given: str | None) -> str:
    """``given``, else the compose file in the current folder, found as docker compose does."""
    if given is not None:
        return given
    found = compose_files_here()
    if not found:
        raise CommandError(
            "no compose file: give -f PATH (or --image IMAGE), or run where one of "
            f"{', '.join(DEFAULT_COMPOSE_FILES)} is"
        )
    if len(found) > 1:
        warn(f"found {' and '.join(found)}; using {found[0]}")
    return found[0]


def folder_of(file: str) -> Path:
    """The folder whose name ``tycho up`` gives a system started from ``file`` (``-``: the
    current folder) unless ``--name`` is given."""
    return Path.cwd() if file == STDIN else Path(file).resolve().parent


def name_here() -> tuple[str, str] | None:
    """The system name ``tycho up`` gives a system started from the compose file of the current
    folder (without ``--name``), and that file; ``None`` where there is no compose file.

    Only the file's presence counts, not its content: ``down`` must work on a file that no
    longer loads. A folder name with no letter or digit is a usage error, as for ``up``."""
    from tycho_client.naming import format_name

    found = compose_files_here()
    if not found:
        return None
    with naming_source(found[0]):
        return format_name(folder_of(found[0]).name), found[0]


def load_project(file: str, env_file: str | None) -> ComposeProject:
    """Read ``file`` (``-``: stdin) and the ``.env`` beside it (or ``env_file``, which must
    exist). A missing default ``.env`` means no settings, as with docker compose; for stdin the
    default ``.env`` is the current folder's. Both are checked when the request is built, so
    that their problems are reported together."""
    if file == STDIN and env_file == STDIN:
        raise CommandError("-f - and --env-file - cannot both read stdin")
    source = "stdin" if file == STDIN else file
    text = read_text(file, "compose file")
    folder = folder_of(file)
    default = Path(".env") if file == STDIN else Path(file).parent / ".env"
    env_text, env_source = _read_env(env_file, default)
    return ComposeProject(source, text, env_text, folder.name, env_source)


def _read_env(env_file: str | None, default: Path) -> tuple[str, str]:
    """The settings file's text and its name in messages."""
    if env_file is None:
        if not os.path.lexists(default):
            return "", str(default)
        env_file = str(default)  # it exists: read_text refuses it if it is no regular file
    return read_text(env_file, "env file"), "stdin" if env_file == STDIN else env_file


def _load_env(env_file: str, default: Path) -> dict[str, str]:
    from tycho_client.envfile import parse_env

    text, source = _read_env(env_file, default)
    return parse_env(text, source=source)  # its errors name the file and the line


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


def build_request(
    project: ComposeProject, name: str | None, *, strict: bool = False
) -> StartRequest:
    """The validated start request ``TychoClient.up`` would send for ``project``: the same
    pipeline (:func:`tycho_client.build.up_request`), which finds every problem at once.

    What it warns about is printed, ``tycho: warning: FILE: ...`` (problems or not); with
    ``strict`` as errors, and the warnings alone are a usage error.
    """
    import warnings

    from tycho_client.build import up_request
    from tycho_client.errors import TychoComposeWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TychoComposeWarning)
        try:
            with naming_source(project.source, project.env_source):
                request = up_request(
                    name or project.default_name,
                    project.system,
                    project.env,
                    source=project.source,
                    env_source=project.env_source,
                )
        finally:
            notes = [
                _note(project, w.message)
                for w in caught
                if isinstance(w.message, TychoComposeWarning)
            ]
            for note in notes:
                (error_line if strict else warn)(note)
            for other in caught:  # not ours: shown as Python would have shown it
                if not isinstance(other.message, TychoComposeWarning):
                    warnings.showwarning(
                        other.message, other.category, other.filename, other.lineno
                    )
    if strict and notes:
        count = f"{len(notes)} warning{'s' if len(notes) > 1 else ''}"
        raise CommandError(f"--strict: the {count} above counted as errors")
    return request


def _note(project: ComposeProject, warning: TychoComposeWarning) -> str:
    """A warning of the pipeline as the CLI says it: its file, and for a variable how to set it
    (never its value)."""
    name, env = warning.variable, project.env_source or ".env"
    if name is None:
        return f"{project.source}: {warning.message.removeprefix('system.')}"
    where = f"${{{name}}} is sent as written ({warning.path.removeprefix('system.')})"
    if project.source == QUICK_SOURCE:
        return f"{project.source}: {name} is not set: pass it with -e {name}=VALUE; {where}"
    if name in os.environ:  # a name only: the value is never read
        return (
            f"{project.source}: {name} is set in your shell, but tycho reads variables only "
            f"from {env} (docker compose would take the shell's): add it to {env}, or pass "
            f"another file with --env-file; {where}"
        )
    return (
        f"{project.source}: {name} is not set in {env}: {where}; define it there, or write "
        f"$${name} where the container itself should read ${name}"
    )


def report_problems(failure: SourcedValidationError) -> int:
    """Every problem of ``failure`` on its own line, in full, where it is: ``FILE:LINE: ...``
    for a ``.env`` line, ``FILE:LINE:COLUMN: ...`` and the line with a caret for YAML, ``FILE:
    services.web.ports[0]: ...`` for a compose field. Returns the exit code, 2."""
    error = failure.error
    for problem in error.errors or [FieldError((), error.message)]:
        error_line(_located(failure, problem))
        if problem.type == "yaml" and isinstance(error, TychoComposeError) and error.excerpt:
            for line in error.excerpt.splitlines():
                tell(f"    {line}")
    return EXIT_USAGE


def _located(failure: SourcedValidationError, problem: FieldError) -> str:
    loc, message = problem.loc, problem.msg
    head = loc[0] if loc else None
    if head == "env" and len(loc) > 1 and str(loc[1]).startswith("line "):
        return f"{failure.env_source or '.env'}:{str(loc[1])[5:]}: {message}"
    if head == "env":
        return f"{failure.env_source or '.env'}: {format_loc(loc[1:])}: {message}"
    if head in ("system", "services"):
        # The compose file's own path: `system` is the request's name for the whole file.
        path = "" if loc == ("system",) else f"{format_loc(loc[1:] if head == 'system' else loc)}: "
        error, where = failure.error, failure.source
        if problem.type == "yaml" and isinstance(error, TychoComposeError) and error.line:
            where = f"{failure.source}:{error.line}:{error.column}"
        return f"{where}: {path}{message}"
    return message if not loc or head == "name" else f"{format_loc(loc)}: {message}"


def given_name(project: ComposeProject, name: str | None) -> str | None:
    """The name the system is named after when a person chose it: ``-n NAME``, or the compose
    file's folder. None for quick launch without ``-n`` (the name comes from the image)."""
    if name:
        return name
    return None if project.source == QUICK_SOURCE else project.default_name


def renamed(given: str, used: str) -> bool:
    """Whether the system name ``used`` (``format_name(given)``) changed more of ``given`` than
    case and punctuation: a character outside ASCII was spelt in ASCII or dropped, or the name
    was shortened to fit. ``Data Lab`` -> ``data-lab`` is what anyone expects of a DNS name;
    ``Mon Café ☕ app`` -> ``mon-cafe-app``, or a long name cut and given a hash, is news."""
    return not given.isascii() or used != _PUNCTUATION.sub("-", given.lower()).strip("-")


@contextmanager
def naming_source(source: str, env_source: str | None = None) -> Iterator[None]:
    """Validation errors inside say which file they are about (exit 2, like any usage error).

    The error keeps its field errors (``validate`` and ``up`` print each one).
    """
    try:
        yield
    except TychoValidationError as exc:
        raise SourcedValidationError(source, exc, env_source) from exc


class SourcedValidationError(CommandError):
    """A :class:`TychoValidationError` with the files (or flags) it is about."""

    def __init__(
        self, source: str, error: TychoValidationError, env_source: str | None = None
    ) -> None:
        named = error.message if source in error.message else f"{source}: {error.message}"
        super().__init__(named)
        self.source = source
        self.env_source = env_source
        self.error = error
