"""Rules the document says with keywords the generated models leave out: ``not`` (text that YAML
would read as something else, quotes in commands), ``dependentRequired`` and the principal's
``contentSchema``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter

from .._data import mapping
from .._generated import models as generated
from ..errors import Loc
from ._rule import Broken, Registrar, breaking, items, services

__all__ = ["RULES", "is_label_value", "reads_as_non_string"]

rule: Registrar = Registrar()

_UNQUOTED = "servers write it unquoted into YAML, where it would not read back as this string"
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_BOOLEAN_OR_NULL_NAME = re.compile(
    r"^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)"
    r"(=|$)"
)
_FITS: dict[str, TypeAdapter[str]] = {}


def _fits(alias: str, value: Any) -> bool:
    """Whether ``value`` is valid for the document's schema ``alias`` (a generated alias)."""
    if alias not in _FITS:
        _FITS[alias] = TypeAdapter(getattr(generated, alias))
    try:
        _FITS[alias].validate_python(value)
    except ValueError:
        return False
    return True


def reads_as_non_string(text: str) -> bool:
    """Whether YAML 1.1 (PyYAML, as servers use it) reads ``text`` unquoted as anything but the
    string itself (the document's ``YamlImplicitScalar``)."""
    return _fits("YamlImplicitScalar", text)


def is_label_value(text: str) -> bool:
    """Whether ``text`` is a Kubernetes label value (at most 63 characters)."""
    return len(text) <= 63 and _LABEL_VALUE.fullmatch(text) is not None


def _probe_texts(name: str, service: Mapping[str, Any]) -> Iterator[tuple[Loc, Any]]:
    kube = mapping(mapping(service.get("ext")).get("kube"))
    for key in ("livenessProbe", "readinessProbe"):
        where = ("system", "services", name, "ext", "kube", key)
        probe = mapping(kube.get(key))
        http_get = mapping(probe.get("httpGet"))
        yield (*where, "httpGet", "path"), http_get.get("path")
        for header, value in mapping(http_get.get("httpHeaders")).items():
            yield (*where, "httpGet", "httpHeaders"), header
            yield (*where, "httpGet", "httpHeaders", header), value
        yield from (((*where, "cmd", i), arg) for i, arg in enumerate(items(probe, "cmd")))


@rule(
    "yaml-plain-text",
    "a text servers write unquoted into YAML (names, image, conn_string, variable names, "
    "probe paths, headers and commands) does not read as a number, boolean or null",
    {
        "name that YAML reads as a number": breaking(name="123"),
        "serviceaccount that YAML reads as a number": breaking(serviceaccount="123"),
        "settings key that YAML reads as null": breaking(env={"null": "x"}),
        "compose service named like a YAML boolean": breaking(added={"true": {"image": "busybox"}}),
        "image that YAML reads as a number": breaking(web={"image": "1.5"}),
        "image that YAML reads as a boolean": breaking(web={"image": "yes"}),
        "conn_string that YAML reads as a boolean": breaking(web={"conn_string": "true"}),
        "env item named like a YAML boolean": breaking(web={"env": ["true=1"]}),
        "probe path that YAML reads as a boolean": breaking(
            web={"ext": {"kube": {"livenessProbe": {"httpGet": {"port": 80, "path": "yes"}}}}}
        ),
    },
    documented=True,
)
def _yaml_plain_text(request: Mapping[str, Any]) -> Iterator[Broken]:
    def misread(text: Any) -> bool:
        return isinstance(text, str) and reads_as_non_string(text)

    for key in ("name", "serviceaccount"):
        if misread(request.get(key)):
            yield Broken((key,), _UNQUOTED)
    for key in mapping(request.get("env")):
        if misread(key):
            yield Broken(("env", key), f"the variable name: {_UNQUOTED}")
    for name, service in services(request):
        loc = ("system", "services", name)
        if misread(name):
            yield Broken(loc, f"the service name: {_UNQUOTED}")
        for key in ("image", "conn_string"):
            if service.get(key) and misread(service.get(key)):
                yield Broken((*loc, key), _UNQUOTED)
        for key in ("env", "environment"):
            for index, item in enumerate(items(service, key)):
                if isinstance(item, str) and _BOOLEAN_OR_NULL_NAME.match(item):
                    yield Broken((*loc, key, index), f"the variable name: {_UNQUOTED}")
        yield from (
            Broken(at, _UNQUOTED) for at, text in _probe_texts(name, service) if misread(text)
        )


@rule(
    "entrypoint-quotes",
    "a word holds both ' and \": servers write the command as a Python literal into YAML, "
    "which breaks",
    {"entrypoint word with both quotes": breaking(web={"entrypoint": ["say", 'it\'s "so"']})},
    documented=True,
)
def _entrypoint_quotes(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        loc = ("system", "services", name, "entrypoint")
        entrypoint = service.get("entrypoint")
        words = entrypoint.split() if isinstance(entrypoint, str) else items(service, "entrypoint")
        for index, word in enumerate(words):
            if isinstance(word, str) and "'" in word and '"' in word:
                yield Broken(loc if isinstance(entrypoint, str) else (*loc, index))


@rule(
    "cpus-with-memory",
    "cpus needs memory beside it: servers write memory with cpus, and write 'None' when it "
    "is missing",
    {"cpus without memory": breaking(web={"deploy": {"resources": {"limits": {"cpus": "1"}}}})},
    documented=True,
)
def _cpus_with_memory(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        resources = mapping(mapping(service.get("deploy")).get("resources"))
        for kind in ("limits", "reservations"):
            amounts = mapping(resources.get(kind))
            if "cpus" in amounts and "memory" not in amounts:
                yield Broken(("system", "services", name, "deploy", "resources", kind))


def _username_problems(username: str) -> Iterator[str]:
    if not username or not is_label_value(username):
        yield (
            "username must be a Kubernetes label value: at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    elif reads_as_non_string(username):
        yield f"username: {_UNQUOTED}"
    elif username == "shared":
        yield "username 'shared' collides with the shared directory servers mount"


def _principal(**entries: str) -> str:
    return json.dumps({"username": "renci", **entries})


def _principal_problems(principal: Mapping[str, Any]) -> Iterator[str]:
    username = principal.get("username")
    if not isinstance(username, str):
        yield 'must be a JSON object with a string "username"'
        return
    yield from _username_problems(username)
    for key, value in principal.items():
        if not _fits("EnvName", key) or reads_as_non_string(key):
            yield (
                "every key must be an environment variable name (servers copy the "
                "principal into the environment)"
            )
        elif key != "username" and not (
            _fits("YamlScalarText", value) and not reads_as_non_string(value)
        ):
            yield f"{key}: must be letters, digits or ._/+-:=@% ({_UNQUOTED})"


@rule(
    "principal-content",
    "`principal` is JSON text of an object whose `username` is a label value and whose "
    "entries are environment variables servers write unquoted into YAML",
    {
        what: breaking(principal=text)
        for what, text in {
            "username with a space": '{"username": "a b"}',
            "username shared": '{"username": "shared"}',
            "username that YAML reads as a boolean": '{"username": "yes"}',
            "principal value with ': '": _principal(host="a: b"),
            "principal value that YAML reads as a number": _principal(host="5"),
            "principal key that is no environment name": _principal(**{"a b": "x"}),
            "principal that is not JSON": "renci",
        }.items()
    },
    documented=True,
)
def _principal_content(request: Mapping[str, Any]) -> Iterator[Broken]:
    text = request.get("principal")
    if not isinstance(text, str):
        return  # the models say what a principal must be
    try:
        principal = json.loads(text)
    except (ValueError, RecursionError):
        yield Broken(("principal",), 'must be JSON text such as {"username": "renci"}')
        return
    if not isinstance(principal, dict):
        yield Broken(("principal",), 'must be a JSON object with a string "username"')
        return
    yield from (Broken(("principal",), message) for message in _principal_problems(principal))


RULES = tuple(rule.rules)
