"""The request pipeline: from what a caller has to the validated request that is sent. No HTTP.

``up`` (both clients and ``tycho up``) runs every step once, in this order::

    compose text ─ load_compose ─┐
    .env text ──── parse_env ────┴ interpolate ─ normalize ─ derive services ─┐
    name ───────── format_name ───────────────────────────────────────────────┴ rules, StartRequest

Each step runs on what the steps before could make of the input and keeps its problems, so that
one run reports them all (a problem a later step meets again is named once); the rules are
checked here, and :class:`~tycho_client.models.StartRequest` then only checks the fields (it is
told, through the validation context, that the document is normalized, its rules checked and the
name formatted). ``start`` with a
mapping fills ``principal`` and ``serviceaccount`` and lets the model normalize, once. Every other
operation validates its mapping into its model. :func:`prepare` turns a model into the bytes sent.
"""

from __future__ import annotations

import copy
import functools
import getpass
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from ._data import number_as_string
from ._generated.operations import DELETE, OPERATIONS, Operation
from ._limits import MAX_FILE_BYTES
from ._problems import Problems
from .errors import (
    FieldError,
    Loc,
    TychoComposeError,
    TychoComposeWarning,
    TychoValidationError,
    format_loc,
    summarize,
)
from .models import BUILT, StartRequest, make_principal, request_model, wire_dict
from .naming import format_name, guid_in

__all__ = [
    "DEFAULT_SERVICE_ACCOUNT",
    "PreparedRequest",
    "for_gpu_assertion",
    "prepare",
    "prepare_down",
    "prepare_service",
    "resolve_username",
    "start_request",
    "up_request",
    "validate_request",
    "with_integer_gpus",
]

DEFAULT_SERVICE_ACCOUNT: Final = "default"
FALLBACK_USERNAME: Final = "anonymous"
"""The principal's user when no option, ``TYCHO_USERNAME`` nor OS user is available."""

_SERVICE = re.compile(r"[A-Za-z0-9_-]+")

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, ready to send."""

    operation: str
    """The operation's name (the document's ``operationId``), or a generic request's service."""
    path: str
    content: bytes = field(repr=False)
    idempotent: bool
    """Safe to send again once the server may have seen it (``x-safe-to-retry``)."""
    model: BaseModel | None = field(default=None, repr=False)
    routed: bool = True
    """Real servers route the path (``x-routed``): a 404 from one that does not is explained."""


def resolve_username(option: str | None) -> str:
    """The principal's user, read at call time: the option, ``TYCHO_USERNAME``, the OS user."""
    if option:
        return option
    from_env = os.environ.get("TYCHO_USERNAME", "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser() or FALLBACK_USERNAME
    except (OSError, KeyError, ImportError):
        # No login name (a container running as an unnamed uid).
        return FALLBACK_USERNAME


# ------------------------------------------------------------------------------- start and up


def up_request(
    name: str,
    system: Mapping[str, Any] | str | os.PathLike[str] | BaseModel,
    settings: str | Mapping[str, Any] | None = None,
    *,
    services: Mapping[str, Any] | None = None,
    serviceaccount: str | None = None,
    username: str | None = None,
    source: str | None = None,
    env_source: str | None = None,
) -> StartRequest:
    """The start request real servers expect for a compose document and its ``.env``.

    ``system`` is a mapping, compose YAML text (``source`` names its file in errors), a compose
    file's path (a :class:`pathlib.Path`), or a :class:`~tycho_client.models.ComposeSystem`;
    ``settings`` is ``.env`` text (``env_source`` names its file) or a mapping; ``None`` is no
    settings, except beside a compose file's path, where its folder's ``.env`` is read if there
    is one (as ``docker compose`` and ``tycho up`` do). ``${VAR}`` in the document is substituted
    from ``settings`` only, never from the process environment; so is ``COMPOSE_PROFILES`` read,
    the profiles whose services start.

    Every problem of the name, the settings and the document is found in one call: the error
    raised has the type of the first (:class:`~tycho_client.errors.TychoComposeError` for the
    YAML, :class:`~tycho_client.errors.TychoEnvError`, :class:`~tycho_client.errors.TychoNameError`,
    then the document's and the request's) and lists them all in ``errors``. A ``${VAR}`` the
    settings do not set, used without a default, is sent as written with a
    :class:`~tycho_client.errors.TychoComposeWarning` naming it.
    """
    # Here, not at the top: status and delete requests need no compose or .env code.
    from .compose import derive_normalized_services, interpolate_collecting, normalize_collecting
    from .envfile import parse_env_collecting

    # Each step runs on what the steps before it could make of the input, so that one run
    # finds every problem; the first step with one decides the error's type.
    # The files first (a YAML error keeps its line, column and excerpt on the error raised).
    found = Problems()
    if isinstance(system, os.PathLike):
        path = Path(system)
        system, source = _read(path, "the compose file"), str(path)
        if settings is None and (path.parent / ".env").exists():
            env_source = str(path.parent / ".env")
            settings = _read(path.parent / ".env", "the .env file")
    document: Mapping[str, Any] = found.step(_compose_document, system, source) or {}
    if settings is None or isinstance(settings, str):
        env, env_error = parse_env_collecting(settings or "", source=env_source)
        found.add(env_error)
    elif isinstance(settings, Mapping):
        env, env_error = {key: number_as_string(value) for key, value in settings.items()}, None
    else:
        raise _not_a_mapping("settings", type(settings), "or .env text")
    formatted = found.step(format_name, name) or _STAND_IN_NAME
    found.raise_any(unless=bool(document))  # nothing more to check without a document
    interpolated = interpolate_collecting(
        document, {k: v for k, v in env.items() if isinstance(v, str)}
    )
    found.add_all(TychoComposeError, "invalid compose document", interpolated.errors)
    try:
        normalized, errors = normalize_collecting(interpolated.system, profiles=_profiles(env))
        found.add_all(TychoComposeError, "invalid compose document", errors)
        if normalized is None:  # nothing more to check without a document
            found.fail()
        data = {
            "name": formatted,
            "system": normalized,
            "env": env,
            "services": (
                (found.step(derive_normalized_services, normalized, quiet=True) or {})
                if services is None
                else dict(services)
            ),
            "principal": make_principal(resolve_username(username)),
            "serviceaccount": serviceaccount or DEFAULT_SERVICE_ACCOUNT,
        }
        request = _checked_start_request(data, found)
        if request is None or found.first is not None:
            found.fail()
    finally:
        # Not for a variable whose every use is a problem already (an undefined port's), nor
        # when the .env has a bad line (which may be where it is set).
        unset = {n: locs for n, locs in interpolated.unset.items() if not found.all_named(locs)}
        _warn_unset(unset if env_error is None else {})
    return request


def _checked_start_request(data: dict[str, Any], found: Problems) -> StartRequest | None:
    """``data``, built by :func:`up_request`, checked against every rule and the model; the
    problems go to ``found``."""
    from .rules import problems

    broken = problems(data)
    compose = [problem for problem in broken if problem.loc[:1] == ("system",)]
    found.add_all(TychoComposeError, "invalid StartRequest: invalid compose document", compose)
    rest = [problem for problem in broken if problem.loc[:1] != ("system",)]
    message = "invalid StartRequest: real Tycho servers would not run this request as sent"
    found.add_all(TychoValidationError, message, rest)
    try:
        return validate_request(StartRequest, data, built=True)
    except TychoValidationError as exc:
        found.add(exc)
        return None


_STAND_IN_NAME = "x"
"""The name the rest of the request is checked with when the one given has no letter or digit."""


def _warn_unset(unset: Mapping[str, Sequence[Loc]]) -> None:
    """A :class:`~tycho_client.errors.TychoComposeWarning` for each variable used without a
    default that the settings do not set (as docker compose warns): it is sent as written."""
    for name, locs in unset.items():
        where = summarize(format_loc(loc) for loc in locs)
        message = (
            f"{name} is not set in .env, so ${{{name}}} is sent as written ({where}): define it "
            f"in .env, or write $${name} where the container itself should read ${name}"
        )
        warning = TychoComposeWarning(message, path=format_loc(locs[0]), variable=name)
        warnings.warn(warning, stacklevel=3)


def _profiles(env: Mapping[str, Any]) -> list[str]:
    """The profiles ``COMPOSE_PROFILES`` in the settings activates, as docker compose reads it."""
    text = env.get("COMPOSE_PROFILES")
    names = text.split(",") if isinstance(text, str) else []
    return [name.strip() for name in names if name.strip()]


def _read(path: Path, what: str) -> str:
    """A file a caller named, read as the CLI reads files: a regular file, bounded."""
    from ._files import FileReadError, read_text

    try:
        return read_text(path, what, MAX_FILE_BYTES)
    except FileReadError as exc:
        raise TychoComposeError(exc.message, [FieldError(("system",), exc.message)]) from None


_FILE_NAME = re.compile(r"[^\n:{}]*\.ya?ml|[^\n:{}]*/[^\n:{}]*")


def _compose_document(system: object, source: str | None) -> Mapping[str, Any]:
    """The compose document ``system`` gives: a mapping, a model of one, or YAML text."""
    from .compose import load_compose

    if isinstance(system, Mapping):
        return system
    if isinstance(system, BaseModel):
        return wire_dict(system)
    if not isinstance(system, str):
        raise _not_a_mapping("system", type(system), "compose YAML text or a pathlib.Path")
    try:
        return load_compose(system, source=source)
    except TychoComposeError as exc:
        if source is None and _FILE_NAME.fullmatch(system.strip()):
            hint = (
                f"system is compose YAML text, and {system.strip()!r} looks like a file name: "
                f"pass pathlib.Path({system.strip()!r}) to read the file"
            )
            raise TychoComposeError(hint, [FieldError(("system",), hint)]) from None
        raise exc from None


def start_request(request: StartRequest | Mapping[str, Any], username: str | None) -> StartRequest:
    """``request`` as a StartRequest, ``principal`` and ``serviceaccount`` filled in if absent."""
    if isinstance(request, StartRequest):
        if request.serviceaccount is None:
            return request.model_copy(update={"serviceaccount": DEFAULT_SERVICE_ACCOUNT})
        return request
    if isinstance(request, Mapping):
        data = dict(request)
        if isinstance(data.get("system"), str):  # compose YAML text, as up() takes it
            data["system"] = _compose_document(data["system"], None)
        if data.get("principal") is None:
            data["principal"] = make_principal(resolve_username(username))
        if data.get("serviceaccount") is None:
            data["serviceaccount"] = DEFAULT_SERVICE_ACCOUNT
        return validate_request(StartRequest, data)
    return validate_request(StartRequest, request)


def with_integer_gpus(request: Mapping[str, Any]) -> dict[str, Any]:
    """A start request's JSON form as tycho-api 1.14.0 - 1.17.1 need it (they assert it): an
    integer ``gpus`` in both ``limits`` and ``reservations`` of every compose service, the count
    asked for (``"1"`` becomes ``1``; reservations take the limit's) or else ``0``.

    Only for those releases: on the others a ``gpus``, ``0`` included, renders a GPU resource and
    a toleration of GPU nodes' taint, so no-GPU pods could be placed on GPU nodes. A copy; what is
    not a mapping where one is expected is left as it is.
    """
    from .compose.normalize import gpu_count

    body: dict[str, Any] = copy.deepcopy(dict(request))
    system = body.get("system")
    services = system.get("services") if isinstance(system, dict) else None
    for service in services.values() if isinstance(services, dict) else ():
        if not isinstance(service, dict):
            continue
        deploy = service.setdefault("deploy", {})
        resources = deploy.setdefault("resources", {}) if isinstance(deploy, dict) else None
        if not isinstance(resources, dict):
            continue
        limits = resources.setdefault("limits", {})
        reservations = resources.setdefault("reservations", {})
        if not isinstance(limits, dict) or not isinstance(reservations, dict):
            continue
        asked = limits.get("gpus")
        limits["gpus"] = 0 if asked is None else gpu_count(asked)
        reserved = reservations.get("gpus")
        reservations["gpus"] = limits["gpus"] if reserved is None else gpu_count(reserved)
    return body


def for_gpu_assertion(request: StartRequest) -> StartRequest:
    """``request`` with :func:`with_integer_gpus` applied, checked again."""
    return validate_request(StartRequest, with_integer_gpus(wire_dict(request)), built=True)


# ------------------------------------------------------------------------------ preparation


def prepare(operation: Operation[Any, Any], request: object) -> PreparedRequest:
    """``request`` (its model, a mapping, or ``None`` for an empty one) validated into the
    operation's request model and made the JSON body of its path."""
    if request is None:
        return _prepare_empty(operation)
    validated = validate_request(request_model(operation), request)
    content = json.dumps(wire_dict(validated)).encode("utf-8")
    return PreparedRequest(
        operation.name,
        operation.path,
        content,
        operation.safe_to_retry,
        validated,
        operation.routed,
    )


@functools.lru_cache(maxsize=8)
def _prepare_empty(operation: Operation[Any, Any]) -> PreparedRequest:
    # `status()` with no request, the most frequent call, built once (P2: 5 us a call).
    return prepare(operation, {})


def prepare_service(service: str, request: Mapping[str, Any] | BaseModel | None) -> PreparedRequest:
    """A generic ``POST /system/{service}`` with any JSON object (no model validation); the
    operations table says whether it is safe to retry."""
    if not isinstance(service, str) or not _SERVICE.fullmatch(service):
        raise TychoValidationError(
            "service must be a path segment such as 'start' or 'status'",
            [FieldError(("service",), "must be letters, digits, '-' or '_'")],
        )
    if request is None:
        data: Any = {}
    elif isinstance(request, BaseModel):
        data = wire_dict(request)
    elif isinstance(request, Mapping):
        data = dict(request)
    else:
        raise _not_a_mapping("request", type(request))
    try:
        content = json.dumps(data, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        # The message names a type or a float, never a value that may be secret.
        raise TychoValidationError(f"request is not JSON-serializable: {exc}") from None
    known = next((op for op in OPERATIONS.values() if op.name == service), None)
    path = known.path if known is not None else f"/system/{service}"
    if known is None:
        return PreparedRequest(service, path, content, idempotent=False)
    return PreparedRequest(service, path, content, known.safe_to_retry, routed=known.routed)


def prepare_down(names: Iterable[str] | str) -> list[PreparedRequest]:
    """One delete per GUID (or full name) of ``names``, every name checked before any is sent.

    A system name (as ``status`` shows it) is only checked to be one: ``down`` looks it up.
    """
    listed = [names] if isinstance(names, str) else list(names)
    prepared: list[PreparedRequest] = []
    errors: list[FieldError] = []
    for index, name in enumerate(listed):
        try:
            if isinstance(name, str) and name.strip() and guid_in(name) is None:
                format_name(name)  # a system name: a name can be made of it
            else:
                prepared.append(prepare(DELETE, {"name": name}))
        except TychoValidationError as exc:
            errors.extend(FieldError(("names", index, *e.loc[1:]), e.msg) for e in exc.errors)
    if errors:
        shown = summarize(f"{e.path}: {e.msg}" for e in errors)
        raise TychoValidationError(f"invalid names for down: {shown}", errors)
    return prepared


# ------------------------------------------------------------------------------- validation


def validate_request(model: type[ModelT], request: object, *, built: bool = False) -> ModelT:
    """``request`` (a model or a mapping) as ``model``; a TychoValidationError names the path.

    ``built``: the data comes from :func:`up_request`, already normalized, so the model's
    validators only check it.
    """
    if isinstance(request, model):
        return request
    if isinstance(request, BaseModel):  # e.g. the generated model: re-check it with ours
        data: Any = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif isinstance(request, Mapping):
        data = request
    else:
        raise _not_a_mapping("request", type(request), f"or a {model.__name__}")
    try:
        return model.model_validate(data, context={BUILT: True} if built else None)
    except ValidationError as exc:
        # `from None`: the pydantic error (and the input it may hold) stays out of tracebacks.
        raise unwrap_validation_error(exc, model.__name__) from None


def unwrap_validation_error(exc: ValidationError, model: str) -> TychoValidationError:
    """The pydantic error as a TychoValidationError, or as the specific one a validator raised.

    Our validators raise TychoNameError, TychoEnvError and TychoComposeError, which pydantic
    wraps; the caller gets that error back (with its line or paths) under the field's path, and
    the other problems appended to its ``errors``.
    """
    from .models import plain_problem

    details = exc.errors(include_input=False, include_url=False)
    specific: tuple[tuple[int | str, ...], TychoValidationError] | None = None
    others: list[FieldError] = []
    for detail in details:
        cause = detail.get("ctx", {}).get("error")
        if specific is None and isinstance(cause, TychoValidationError):
            specific = (tuple(detail["loc"]), cause)
        else:
            # "[key]": pydantic's mark of a mapping's key, which the message names.
            loc = tuple(part for part in detail["loc"] if part != "[key]")
            others.append(FieldError(loc, plain_problem(detail), detail["type"]))
    if specific is None:
        shown = summarize(f"{e.path}: {e.msg}" for e in others)
        return TychoValidationError(f"invalid {model}: {shown}", others)
    loc, error = specific
    relocated = [
        item if item.loc[: len(loc)] == loc else FieldError((*loc, *item.loc), item.msg, item.type)
        for item in error.errors
    ] or [FieldError(loc, error.message)]
    path = format_loc(loc)
    where = "" if not loc or path in error.message else f"{path}: "
    error.message = f"invalid {model}: {where}{error.message}"
    error.args = (error.message,)
    error.errors = [*relocated, *others]
    return error


def _not_a_mapping(what: str, kind: type, alternative: str = "") -> TychoValidationError:
    wanted = f"a mapping {alternative}".strip()
    message = f"{what} must be {wanted}, not {kind.__name__}"
    return TychoValidationError(message, [FieldError((what,), message)])
