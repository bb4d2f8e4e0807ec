"""The Tycho wire models: generated from ``openapi/tycho.yaml``, plus the validators they need.

Everything here is a model datamodel-code-generator made from the document, re-exported, except the
four request models, which add what the document cannot say: names become DNS labels, ``env`` takes
``.env`` text, compose documents are normalized to the form real servers read, and GUIDs are
recognized inside full system names. Those subclasses keep the generated fields, so a request that
validates here also validates against the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._data import number_as_string
from ._generated import models as _generated
from ._generated.models import (
    ComposeService,
    ContainerEndpoint,
    DeleteOutcome,
    DeleteResponse,
    Deploy,
    ErrorResponse,
    ErrorResult,
    ExecProbe,
    Ext,
    HTTPErrorBody,
    HttpProbe,
    ModifyOutcome,
    ModifyResponse,
    ModifyResult,
    Resources,
    SecurityContext,
    ServiceSpec,
    StartOutcome,
    StartResponse,
    StartResult,
    StatusOutcome,
    StatusResponse,
    SystemStatus,
    TcpProbe,
)
from ._generated.operations import Operation, RequestT
from .errors import TychoValidationError, summarize
from .naming import format_name

# compose, envfile and rules are imported inside the validators that need them: `tycho status` and
# `tycho down` build no start request and need neither.

__all__ = [
    "ComposeService",
    "ComposeSystem",
    "ContainerEndpoint",
    "DeleteOutcome",
    "DeleteRequest",
    "DeleteResponse",
    "Deploy",
    "ErrorResponse",
    "ErrorResult",
    "ExecProbe",
    "Ext",
    "HTTPErrorBody",
    "HttpProbe",
    "ModifyOutcome",
    "ModifyRequest",
    "ModifyResponse",
    "ModifyResult",
    "Probe",
    "Resources",
    "SecurityContext",
    "ServiceSpec",
    "StartOutcome",
    "StartRequest",
    "StartResponse",
    "StartResult",
    "StatusOutcome",
    "StatusRequest",
    "StatusResponse",
    "SystemStatus",
    "TcpProbe",
    "make_principal",
    "request_model",
    "wire_dict",
]

Probe: TypeAlias = HttpProbe | TcpProbe | ExecProbe
"""A probe as real servers read it: exactly one of the three kinds (the document's ``Probe``)."""

REDACTED = "***"
BUILT = "tycho_client.built"
"""Validation-context key set by :mod:`tycho_client.build`: the data is normalized already."""
# Kubernetes label keys: a name of <= 63 chars of [A-Za-z0-9-_.], alnum at both ends, with an
# optional DNS-subdomain prefix and a slash (values: tycho_client.rules.is_label_value).
_GUID_SUFFIX = re.compile(r"(?:.*-)?([0-9a-f]{32})", re.DOTALL)
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)

# Our validators wrap user input that may hold secrets (.env values): keep it out of pydantic's
# error messages.
_REQUEST_CONFIG: ConfigDict = ConfigDict(
    extra="allow", populate_by_name=True, hide_input_in_errors=True
)


def make_principal(username: str) -> str:
    """The ``principal`` real servers read: a JSON *string* such as ``{"username": "renci"}``."""
    return json.dumps({"username": username})


def wire_dict(model: Any) -> dict[str, Any]:
    """A request model as the JSON object sent: aliases, and no nulls (servers reject them)."""
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def _guid_of(name: str) -> str:
    """The GUID inside ``name``: servers match GUIDs only, so a full ``{name}-{sid}`` is reduced
    (whatever the name: a request may carry one that :func:`~tycho_client.naming.guid_in`,
    which must tell ids from names, would not take)."""
    match = _GUID_SUFFIX.fullmatch(name)
    return match.group(1) if match else name


_MIN_MASKED_LENGTH = 4
"""Shorter .env values (ports, flags) are not masked inside ``system``: they are no secrets."""


def _mask_values(data: Any, secrets: list[str]) -> Any:
    """``data`` with every occurrence of each of ``secrets`` in its strings replaced by ``***``."""
    if isinstance(data, str):
        for secret in secrets:
            data = data.replace(secret, REDACTED)
        return data
    if isinstance(data, dict):
        return {key: _mask_values(item, secrets) for key, item in data.items()}
    if isinstance(data, list):
        return [_mask_values(item, secrets) for item in data]
    return data


def _built(info: ValidationInfo) -> bool:
    return isinstance(info.context, Mapping) and bool(info.context.get(BUILT))


class ComposeSystem(_generated.ComposeSystem):
    """A docker-compose document, normalized to the form real Tycho servers read.

    Accepts the wider compose forms (integer ports, an ``environment`` mapping, numeric resources,
    ``depends_on`` as a mapping, ``environment: null``) and rewrites them before validation; then
    rejects what real servers accept but cannot run: no service with ``ports``, volumes other than
    ``pvc://``, names Kubernetes refuses (:func:`tycho_client.compose.validate_for_tycho`).
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", populate_by_name=True)
    _masked: tuple[str, ...] = PrivateAttr(default=())
    """The ``.env`` values of the StartRequest holding this document, masked in ``repr()``."""

    def __repr_args__(self) -> Any:
        if not self._masked:
            yield from super().__repr_args__()
            return
        # ${VAR} copied .env values into the document: show it as masked plain data.
        yield from _mask_values(wire_dict(self), list(self._masked)).items()

    @model_validator(mode="before")
    @classmethod
    def normalized_and_runnable(cls, data: Any, info: ValidationInfo) -> Any:
        # Explains what real servers would fail on (e.g. no ports, host-path volumes) before the
        # document's plain patterns get to speak. The request pipeline has normalized already.
        if isinstance(data, Mapping) and not _built(info):
            from .compose import normalize_compose, validate_normalized

            normalized = normalize_compose(data)
            validate_normalized(normalized)
            return normalized
        # Built by tycho_client.build: normalized, and its rules checked, with every other
        # problem of the request (so that the fields are checked here even when a rule fails).
        return data


class StartRequest(_generated.StartRequest):
    """A request to start a system; see ``openapi/tycho.yaml`` (``StartRequest``).

    - ``name`` is turned into a DNS label by :func:`tycho_client.format_name` (at most 30
      characters, so that the ``{name}-{sid}`` servers derive fits a 63-character label value).
    - ``env`` takes a mapping or ``.env`` text (parsed by :func:`tycho_client.parse_env`); numbers
      become strings. Its values never appear in ``repr()`` or in validation errors.
    - ``system`` is normalized and checked for what real servers fail on (:class:`ComposeSystem`).
    - ``principal`` must be the JSON *string* servers read (see :func:`make_principal`).
    - the whole request is checked against every rule of :mod:`tycho_client.rules` (``env``
      values survive the server's ``KEY=value`` handling, every key of ``services`` names a
      compose service, ...).
    """

    model_config: ClassVar[ConfigDict] = _REQUEST_CONFIG
    system: ComposeSystem

    @field_validator("name", mode="before")
    @classmethod
    def name_is_dns_label(cls, value: Any, info: ValidationInfo) -> Any:
        return format_name(value) if isinstance(value, str) and not _built(info) else value

    @field_validator("env", mode="before")
    @classmethod
    def env_is_string_mapping(cls, value: Any) -> Any:
        if isinstance(value, str):
            from .envfile import parse_env

            return parse_env(value)
        if isinstance(value, Mapping):
            return {key: number_as_string(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def what_real_servers_need(self, info: ValidationInfo) -> StartRequest:
        from .rules import problems

        # Built by tycho_client.build, which checked the rules on the request's data.
        found = [] if _built(info) else problems(wire_dict(self), system_checked=True)
        if found:
            shown = summarize(f"{p.path}: {p.msg}" for p in found)
            message = f"real Tycho servers would not run this request as sent: {shown}"
            raise TychoValidationError(message, found)
        # The document's own repr masks this request's .env values too.
        self.system._masked = tuple(self._env_secrets())
        return self

    def _env_secrets(self) -> list[str]:
        # Longest first, so a value containing another is masked whole.
        values = {v for v in (self.env or {}).values() if len(v) >= _MIN_MASKED_LENGTH}
        return sorted(values, key=len, reverse=True)

    def __repr_args__(self) -> Any:
        secrets = self._env_secrets()
        for key, value in super().__repr_args__():
            if key == "env" and isinstance(value, dict):
                yield key, dict.fromkeys(value, REDACTED)
            elif key == "system" and secrets and isinstance(value, BaseModel):
                # ${VAR} copies .env values into the compose document: mask them there too.
                yield key, _mask_values(wire_dict(value), secrets)
            else:
                yield key, value

    def redacted(self) -> dict[str, Any]:
        """The wire form with every ``env`` value replaced by ``***``, for showing to people.

        The same values are masked inside ``system`` too (``${VAR}`` puts them there), except
        ones shorter than 4 characters (ports, flags), which would mask half the document.
        """
        data = wire_dict(self)
        if "env" in data:
            data["env"] = dict.fromkeys(data["env"], REDACTED)
        secrets = self._env_secrets()
        if secrets and "system" in data:
            data["system"] = _mask_values(data["system"], secrets)
        return data


class StatusRequest(_generated.StatusRequest):
    """A status query: ``{}`` for all systems, a ``name`` (GUID) or a ``username``.

    A full system name ``{name}-{sid}`` is reduced to its GUID, which is what servers match.
    """

    model_config: ClassVar[ConfigDict] = _REQUEST_CONFIG

    @field_validator("name", mode="before")
    @classmethod
    def name_is_guid(cls, value: Any) -> Any:
        return _guid_of(value) if isinstance(value, str) else value


class DeleteRequest(_generated.DeleteRequest):
    """A delete request for one system by GUID.

    A full system name ``{name}-{sid}`` is reduced to its GUID: servers delete by GUID label and
    answer success for anything else while deleting nothing.
    """

    model_config: ClassVar[ConfigDict] = _REQUEST_CONFIG

    @field_validator("name", mode="before")
    @classmethod
    def name_is_guid(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            raise ValueError("must be a system GUID, not empty")
        return _guid_of(value.strip())


class ModifyRequest(_generated.ModifyRequest):
    """A modify request: labels to add, and cpu/memory to set as limits and requests.

    Label keys and values are checked against Kubernetes label syntax; numbers for ``cpu`` and
    ``memory`` become strings. ``tycho_guid`` may also be given as ``tycho-guid``.
    """

    model_config: ClassVar[ConfigDict] = _REQUEST_CONFIG

    @field_validator("tycho_guid")
    @classmethod
    def guid_is_guid(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a system GUID, not empty")
        return _guid_of(value.strip())

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def quantity_is_string(cls, value: Any) -> Any:
        return number_as_string(value)

    @field_validator("labels")
    @classmethod
    def labels_are_kubernetes_labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        from .rules import is_label_value

        for key, item in (value or {}).items():
            if not _LABEL_KEY.match(key):
                raise ValueError(f"label key {key!r} is not a valid Kubernetes label key")
            if not is_label_value(item):
                raise ValueError(
                    f"label {key!r}: value must be at most 63 characters of letters, digits, "
                    "'-', '_' or '.', starting and ending with a letter or digit"
                )
        return value


# ------------------------------------------------------------------------ messages in words

# What a value must be, in words with an example, by the field it is (or the list it is in):
# pydantic's own message for a pattern quotes the regular expression.
_FIELD_WORDS = {
    "cpus": "a number of CPUs, such as 0.5 or 500m",
    "cpu": "a number of CPUs, such as 0.5 or 500m",
    "memory": "an amount of memory with its unit, such as 512Mi or 2G",
    "ephemeralStorage": "an amount of storage with its unit, such as 1Gi",
    "gpus": "a whole number of GPUs, such as 1",
    "image": "an image name such as nginx:1.25 (letters, digits and ._/+-:=@%, no blanks)",
    "ports": 'a port such as "8080:80" or "80" (the container port from 1 to 65535)',
    "expose": 'a container port from 1 to 65535, such as "8080"',
    "volumes": "pvc://<claim>[/<subpath>]:<container path>, such as pvc://home/alice:/home/jovyan",
    "port": "a port number such as 8080",
    "name": "a system GUID such as 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7, or a full system name",
    "username": "a user name such as alice (letters, digits, '-', '_' and '.')",
    "conn_string": "a label value such as notebook (letters, digits, '-', '_' and '.')",
    "serviceaccount": "a service account name such as default (a-z, 0-9, '-' and '.')",
    "runAsUser": "a user id such as 1000",
    "runAsGroup": "a group id such as 1000",
    "fsGroup": "a group id such as 1000",
    "env": "KEY=value such as MODE=prod, with no '\"', '\\' or line break in the value",
    "environment": "KEY=value such as MODE=prod, with no '\"', '\\' or line break in the value",
    "path": "a URL path such as /healthz (letters, digits and ._/+-:=@%)",
    "httpHeaders": "an HTTP header name such as X-Token",
}
# ... and what a key of a mapping must be (pydantic puts "[key]" after the key in the path).
_KEY_WORDS = {
    "env": "is not a variable name: letters, digits and '_', not first a digit, such as DB_HOST",
    "services": "is no name for a service with ports: up to 30 of a-z, 0-9 and '-', such as web",
    "labels": "is not a Kubernetes label key such as team or example.com/team",
}
# Text servers put in a Jinja template or a double-quoted YAML string (the document's
# TemplateText, LineText, QuotedText): what it must not hold.
_TEXT_WORDS = (
    "text without `{{`, `{%` or `{#` (servers render the compose document as a Jinja "
    "template), and where written in quotes without '\"', '\\' or control characters"
)
_TYPE_WORDS = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request (misspelt?)",
    "string_type": "must be a string",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
}


def plain_problem(detail: Mapping[str, Any]) -> str:
    """A pydantic error (one item of ``ValidationError.errors()``) in words, with an example of
    a valid value where one helps; never a regular expression nor an error class's name."""
    loc = [part for part in detail.get("loc", ()) if isinstance(part, str)]
    kind = str(detail.get("type", ""))
    message = str(detail.get("msg", ""))
    if kind == "string_pattern_mismatch":
        if loc[:1] == ["env"] and len(loc) == 2:  # a setting's value
            return f"must be {_TEXT_WORDS}"
        if loc[-1:] == ["[key]"] and len(loc) > 1:
            field = loc[-3] if len(loc) > 2 and loc[-3] in _KEY_WORDS else loc[0]
            return _KEY_WORDS.get(field, "is not a name of the form the Tycho API accepts")
        for field in reversed(loc):
            if field in _FIELD_WORDS:
                return f"must be {_FIELD_WORDS[field]}"
        return f"must be {_TEXT_WORDS}"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    message = message.removeprefix("Value error, ")
    # pydantic's other messages are words ("String should have at most 63 characters").
    return message if "pattern" not in message else "is not in the form the Tycho API accepts"


_REFINED: dict[type[BaseModel], type[BaseModel]] = {
    refined.__base__: refined
    for refined in (StartRequest, StatusRequest, DeleteRequest, ModifyRequest)
    if refined.__base__ is not None
}


def request_model(operation: Operation[RequestT, Any]) -> type[RequestT]:
    """The model a request of ``operation`` is validated with: ours where it adds validators
    (a subclass of the generated one), else the generated model itself."""
    refined = _REFINED.get(operation.request)
    if refined is not None and issubclass(refined, operation.request):
        return refined
    return operation.request


class _SignatureOnDemand:
    """``inspect.signature`` of a model whose build is deferred (``defer_build``): pydantic sets
    the real ``__signature__`` only once the model is built, so asking builds it first."""

    def __get__(self, instance: object, owner: type[BaseModel]) -> Any:
        if owner.__dict__.get("__signature__") is self:
            type.__delattr__(owner, "__signature__")
        owner.model_rebuild()
        return owner.__signature__


def _signatures_on_demand() -> None:
    for name in __all__:
        model = globals()[name]
        deferred = isinstance(model, type) and issubclass(model, BaseModel)
        if deferred and not model.__pydantic_complete__:
            type.__setattr__(model, "__signature__", _SignatureOnDemand())


_signatures_on_demand()
