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
    TypeAdapter,
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
from .errors import FieldError, TychoValidationError, summarize
from .naming import format_name

# compose and envfile are imported inside the validators that need them: `tycho status` and
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
_GUID_SUFFIX = re.compile(r"(?:^|-)([0-9a-f]{32})$")
# Kubernetes label syntax: values (and key names) are <= 63 chars of [A-Za-z0-9-_.], alnum at both
# ends; a key may have a DNS-subdomain prefix and a slash.
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
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
    """The GUID inside ``name``: servers match GUIDs only, so a full ``{name}-{sid}`` is reduced."""
    match = _GUID_SUFFIX.search(name)
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


# -- what real servers refuse and the generated models do not check -----------------------------

SERVER_RULES: dict[str, str] = {
    "template-markers": "no string anywhere in `system` (keys too) holds `{{`, `{%` or `{#`: "
    "servers render the whole compose document as a Jinja template",
    "exposed-service-ports": "a compose service named in `services` has `ports`: servers make a "
    "Kubernetes Service of them, and a Service needs one",
    "exposed-ports-unique": "a compose service named in `services` lists no container port twice: "
    "Kubernetes refuses a Service with a duplicate port",
    "requests-within-limits": "reservations are at most the limits (cpus, and memory with them; "
    "ephemeralStorage): Kubernetes refuses requests above limits",
    "gpus-equal": "reservations.gpus needs limits.gpus, equal to it: Kubernetes refuses other GPU "
    "requests",
    "mount-paths-unique": "no two volumes of a service mount at one container path",
    "gitea-lowercase-username": "with gitea_integration, the username is lowercase: servers name a "
    "pod volume after it",
}
"""The rules tycho-api 1.17.3 (over Kubernetes) enforces that the document cannot say in JSON Schema
(they relate values across the request, or reach the compose document's open keys). The model
validators check them; :func:`server_rule_problems` names the ones a request breaks."""

_TEMPLATE_MARKER = re.compile(r"\{[{%#]")
_LOWERCASE_USERNAME = re.compile(r"^[a-z0-9]([-a-z0-9_.]{0,51}[a-z0-9])?$")
_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY_PARTS = re.compile(r"^([0-9]*\.?[0-9]*)([numkMGTPE]|[KMGTPE]i)?$")
_BOOLEAN_OR_NULL_NAME = re.compile(
    r"^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)"
    r"(=|$)"
)
Loc = tuple[int | str, ...]


def _quantity(text: Any) -> Any:
    """A document-valid quantity as a number (Fraction), or None."""
    from fractions import Fraction

    match = _QUANTITY_PARTS.match(text) if isinstance(text, str) else None
    if match is None or match.group(1) in ("", "."):
        return None
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix.endswith("i"):
        return number * 1024 ** ("KMGTPE".index(suffix[0]) + 1)
    return number * Fraction(10) ** _SUFFIXES[suffix]


def _marked_strings(value: Any, loc: Loc) -> list[Loc]:
    if isinstance(value, str):
        return [loc] if _TEMPLATE_MARKER.search(value) else []
    if isinstance(value, Mapping):
        found: list[Loc] = []
        for key, item in value.items():
            if isinstance(key, str) and _TEMPLATE_MARKER.search(key):
                found.append((*loc, key))
            found.extend(_marked_strings(item, (*loc, key)))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _marked_strings(item, (*loc, i))]
    return []


def _resource_problems(name: str, service: Mapping[str, Any]) -> list[tuple[str, Loc]]:
    resources = _as_mapping(_as_mapping(service.get("deploy")).get("resources"))
    limits = _as_mapping(resources.get("limits"))
    requests = _as_mapping(resources.get("reservations"))
    where: Loc = ("system", "services", name, "deploy", "resources", "reservations")
    found: list[tuple[str, Loc]] = []
    compared = ["ephemeralStorage"]
    if "cpus" in limits and "cpus" in requests:
        compared += ["cpus", "memory"]  # servers write memory only beside cpus
    for key in compared:
        low, high = _quantity(requests.get(key)), _quantity(limits.get(key))
        if key == "ephemeralStorage" and (not low or not high):
            continue  # servers leave out "0"
        if low is not None and high is not None and low > high:
            found.append(("requests-within-limits", (*where, key)))
    if "gpus" in requests and _quantity(requests.get("gpus")) != _quantity(limits.get("gpus")):
        found.append(("gpus-equal", (*where, "gpus")))
    return found


def _as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _server_rules_broken(request: Mapping[str, Any]) -> list[tuple[str, Loc]]:
    system = _as_mapping(request.get("system"))
    found = [("template-markers", loc) for loc in _marked_strings(system, ("system",))]
    services = _as_mapping(system.get("services"))
    for name in _as_mapping(request.get("services")):
        service = services.get(name)
        if not isinstance(service, Mapping):
            continue
        ports = [str(p).rsplit(":", 1)[-1] for p in service.get("ports") or []]
        if not ports:
            found.append(("exposed-service-ports", ("services", name)))
        elif len(set(ports)) != len(ports):
            found.append(("exposed-ports-unique", ("system", "services", name, "ports")))
    for name, service in services.items():
        if not isinstance(service, Mapping):
            continue
        found.extend(_resource_problems(name, service))
        paths = [str(v).rsplit(":", 1)[-1] for v in service.get("volumes") or []]
        if len(set(paths)) != len(paths):
            found.append(("mount-paths-unique", ("system", "services", name, "volumes")))
    if any(_as_mapping(s).get("gitea_integration") is True for s in services.values()):
        username = _principal_object(request.get("principal")).get("username")
        if isinstance(username, str) and not _LOWERCASE_USERNAME.match(username):
            found.append(("gitea-lowercase-username", ("principal", "username")))
    return found


def server_rule_problems(request: Mapping[str, Any]) -> list[str]:
    """The :data:`SERVER_RULES` a start request (its JSON form) breaks, as ``rule: field``."""
    from .errors import format_loc

    return [f"{rule}: {format_loc(loc)}" for rule, loc in _server_rules_broken(request)]


# -- what the document says with `not`, which the generated models leave out -----------------

_IMPLICIT: TypeAdapter[str] | None = None
_TEXT_CHECKS: dict[str, TypeAdapter[str]] = {}


def _reads_as_non_string(text: str) -> bool:
    """Whether YAML 1.1 (PyYAML, as servers use it) reads ``text`` unquoted as anything but
    the string itself (the document's ``YamlImplicitScalar``)."""
    global _IMPLICIT
    if _IMPLICIT is None:
        _IMPLICIT = TypeAdapter(_generated.YamlImplicitScalar)
    try:
        _IMPLICIT.validate_python(text)
    except ValueError:
        return False
    return True


def _fits(alias: str, value: Any) -> bool:
    """Whether ``value`` is valid for the document's schema ``alias`` (a generated alias)."""
    if alias not in _TEXT_CHECKS:
        _TEXT_CHECKS[alias] = TypeAdapter(getattr(_generated, alias))
    try:
        _TEXT_CHECKS[alias].validate_python(value)
    except ValueError:
        return False
    return True


_UNQUOTED = "servers write it unquoted into YAML, where it would not read back as this string"


def _principal_object(text: Any) -> Mapping[str, Any]:
    try:
        return _as_mapping(json.loads(text)) if isinstance(text, str) else {}
    except ValueError:
        return {}


def _principal_problems(principal: Mapping[str, Any]) -> list[str]:
    """The principal's ``contentSchema``, which pydantic does not see inside the string."""
    found: list[str] = []
    username = principal.get("username")
    if not isinstance(username, str):
        return ['must be a JSON object with a string "username"']
    if not username or len(username) > 63 or not _LABEL_VALUE.match(username):
        found.append(
            "username must be a Kubernetes label value: at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    elif _reads_as_non_string(username):
        found.append(f"username: {_UNQUOTED}")
    elif username == "shared":
        found.append("username 'shared' collides with the shared directory servers mount")
    for key, value in principal.items():
        if not isinstance(key, str) or not _fits("EnvName", key) or _reads_as_non_string(key):
            found.append(
                "every key must be an environment variable name (servers copy the "
                "principal into the environment)"
            )
        elif key != "username" and not (
            _fits("YamlScalarText", value) and not _reads_as_non_string(value)
        ):
            found.append(f"{key}: must be letters, digits or ._/+-:=@% ({_UNQUOTED})")
    return found


def _service_not_rules(name: str, service: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    loc: Loc = ("system", "services", name)
    found: list[tuple[Loc, str]] = []
    image = service.get("image")
    if isinstance(image, str) and _reads_as_non_string(image):
        found.append(((*loc, "image"), _UNQUOTED))
    conn = service.get("conn_string")
    if isinstance(conn, str) and conn and _reads_as_non_string(conn):
        found.append(((*loc, "conn_string"), _UNQUOTED))
    entrypoint = service.get("entrypoint")
    words = entrypoint.split() if isinstance(entrypoint, str) else entrypoint or []
    for index, word in enumerate(words if isinstance(words, list) else []):
        if isinstance(word, str) and "'" in word and '"' in word:
            where = (
                (*loc, "entrypoint") if isinstance(entrypoint, str) else (*loc, "entrypoint", index)
            )
            found.append(
                (
                    where,
                    "a word holds both ' and \": servers write the command as a "
                    "Python literal into YAML, which breaks",
                )
            )
    for key in ("env", "environment"):
        for index, item in enumerate(service.get(key) or []):
            if isinstance(item, str) and _BOOLEAN_OR_NULL_NAME.match(item):
                found.append(((*loc, key, index), f"the variable name: {_UNQUOTED}"))
    resources = _as_mapping(_as_mapping(service.get("deploy")).get("resources"))
    for kind in ("limits", "reservations"):
        amounts = _as_mapping(resources.get(kind))
        if "cpus" in amounts and "memory" not in amounts:
            found.append(
                (
                    (*loc, "deploy", "resources", kind),
                    "cpus needs memory beside it: "
                    "servers write memory with cpus, and write 'None' when it is missing",
                )
            )
    kube = _as_mapping(_as_mapping(service.get("ext")).get("kube"))
    for probe_key in ("livenessProbe", "readinessProbe"):
        probe = _as_mapping(kube.get(probe_key))
        where = (*loc, "ext", "kube", probe_key)
        http_get = _as_mapping(probe.get("httpGet"))
        texts: list[tuple[Loc, Any]] = [((*where, "httpGet", "path"), http_get.get("path"))]
        for header, value in _as_mapping(http_get.get("httpHeaders")).items():
            texts += [
                ((*where, "httpGet", "httpHeaders"), header),
                ((*where, "httpGet", "httpHeaders", header), value),
            ]
        cmd = probe.get("cmd")
        texts += [
            ((*where, "cmd", i), arg) for i, arg in enumerate(cmd or []) if isinstance(cmd, list)
        ]
        found += [
            (at, _UNQUOTED)
            for at, text in texts
            if isinstance(text, str) and _reads_as_non_string(text)
        ]
    return found


def _not_rules_broken(request: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    for key in ("name", "serviceaccount"):
        value = request.get(key)
        if isinstance(value, str) and _reads_as_non_string(value):
            found.append(((key,), _UNQUOTED))
    for key in _as_mapping(request.get("env")):
        if _reads_as_non_string(key):
            found.append((("env", key), f"the variable name: {_UNQUOTED}"))
    services = _as_mapping(_as_mapping(request.get("system")).get("services"))
    for name, service in services.items():
        if _reads_as_non_string(name):
            found.append((("system", "services", name), f"the service name: {_UNQUOTED}"))
        found.extend(_service_not_rules(name, _as_mapping(service)))
    return found


def start_request_problems(request: Mapping[str, Any]) -> list[FieldError]:
    """What real servers refuse in a start request (its JSON form) that the generated models do
    not check: the document's ``not`` rules, the principal's ``contentSchema`` and the
    :data:`SERVER_RULES`."""
    problems = [FieldError(loc, msg) for loc, msg in _not_rules_broken(request)]
    principal = request.get("principal")
    if isinstance(principal, str):
        problems += [
            FieldError(("principal",), msg)
            for msg in _principal_problems(_principal_object(principal))
        ]
    problems += [FieldError(loc, SERVER_RULES[rule]) for rule, loc in _server_rules_broken(request)]
    return problems


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
        if isinstance(data, Mapping):
            from .compose import normalize_compose, validate_normalized

            normalized = data if _built(info) else normalize_compose(data)
            validate_normalized(normalized)
            return normalized
        return data


class StartRequest(_generated.StartRequest):
    """A request to start a system; see ``openapi/tycho.yaml`` (``StartRequest``).

    - ``name`` is turned into a DNS label by :func:`tycho_client.format_name` (at most 30
      characters, so that the ``{name}-{sid}`` servers derive fits a 63-character label value).
    - ``env`` takes a mapping or ``.env`` text (parsed by :func:`tycho_client.parse_env`); numbers
      become strings. Its values never appear in ``repr()`` or in validation errors.
    - ``system`` is normalized and checked for what real servers fail on (:class:`ComposeSystem`).
    - ``env`` values must survive the server's ``KEY=value`` handling (no ``=``, ``"`` or ``\\``).
    - ``principal`` must be the JSON *string* servers read (see :func:`make_principal`).
    - every key of ``services`` must name a compose service.
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

    @field_validator("principal")
    @classmethod
    def principal_is_json_object_text(cls, value: str) -> str:
        # Servers json.loads() it, read "username" and copy every entry into the environment;
        # make_principal() builds one.
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError('must be JSON text such as {"username": "renci"}') from None
        if not isinstance(parsed, dict):
            raise ValueError('must be a JSON object with a string "username"')
        problems = _principal_problems(parsed)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("env")
    @classmethod
    def env_survives_the_server(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        from .compose import env_item_problem

        for key, item in (value or {}).items():
            problem = env_item_problem(f"{key}={item}")
            if problem:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def services_name_compose_services(self) -> StartRequest:
        unknown = sorted(set(self.services or {}) - set(self.system.services))
        if unknown:
            message = (
                f"services names {', '.join(unknown)}, which the compose document does not define"
            )
            raise TychoValidationError(
                message, [FieldError(("services", name), message) for name in unknown]
            )
        # The document's own repr masks this request's .env values too.
        self.system._masked = tuple(self._env_secrets())
        return self

    @model_validator(mode="after")
    def what_real_servers_refuse(self) -> StartRequest:
        # Principal problems were reported by its own validator.
        problems = [p for p in start_request_problems(wire_dict(self)) if p.loc != ("principal",)]
        if problems:
            shown = summarize(f"{p.path}: {p.msg}" for p in problems)
            raise TychoValidationError(f"real Tycho servers refuse this request: {shown}", problems)
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
        for key, item in (value or {}).items():
            if not _LABEL_KEY.match(key):
                raise ValueError(f"label key {key!r} is not a valid Kubernetes label key")
            if not _LABEL_VALUE.match(item):
                raise ValueError(
                    f"label {key!r}: value must be at most 63 characters of letters, digits, "
                    "'-', '_' or '.', starting and ending with a letter or digit"
                )
        return value


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
