"""Rules of the compose document: what real servers accept in it but cannot run (or crash on).

Each can be checked on a compose document alone (``compose=True``):
:class:`~tycho_client.models.ComposeSystem` and :func:`tycho_client.compose.validate_normalized`
check them on the normalized document, before the models' own patterns speak. The two ``env``
rules also read the request's settings (``env``), written into containers the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._data import mapping, split_outside_variables
from ..errors import Loc
from ..naming import MAX_NAME_LENGTH, is_dns_label
from ._rule import Broken, Registrar, breaking, items, services

__all__ = ["RULES", "SERVER_RESOURCE_KEYS", "container_port_problem", "env_item_problem"]

rule: Registrar = Registrar()
_PORT_NUMBER = re.compile(r"[1-9][0-9]{0,4}")
_REFERENCED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PVC_VOLUME = re.compile(r"pvc://(?P<claim>[^/:]+)(?P<subpath>/[^:]*)?:(?P<path>/[^:]*)")
_PVC_FORM = "pvc://<claim>[/<subpath>]:<container-path>"
SERVER_RESOURCE_KEYS = ("cpus", "gpus", "memory", "ephemeralStorage")
"""The resource keys servers know: they build ``Limits(**amounts)``, which takes exactly these."""


def _each(
    request: Mapping[str, Any], key: str, problem_of: Callable[[Any], str | None]
) -> Iterator[Broken]:
    """The problem of each entry of the list ``key`` of each compose service."""
    for name, service in services(request):
        for index, entry in enumerate(items(service, key)):
            problem = problem_of(entry)
            if problem:
                yield Broken(("system", "services", name, key, index), problem)


@rule(
    "service-names",
    "compose service names are DNS labels (servers name containers after them); one with "
    f"ports has at most {MAX_NAME_LENGTH} characters and starts with a letter (it names a "
    "Kubernetes Service)",
    {"a service name with a capital letter": breaking(added={"Db": {"image": "busybox"}})},
    documented=True,
    compose=True,
)
def _service_names(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        short = is_dns_label(name, MAX_NAME_LENGTH) and name[0].isalpha()
        if service.get("ports") and not short:
            yield Broken(
                ("system", "services", name),
                f"a service with ports needs a name of at most {MAX_NAME_LENGTH} characters of "
                "a-z, 0-9 and '-', starting with a letter: real Tycho servers name its "
                "Kubernetes Service '<service>-<32-hex guid>', which must fit in 63 characters",
            )
        elif not is_dns_label(name):
            yield Broken(
                ("system", "services", name),
                "a service name must be a DNS label (a-z, 0-9, '-', at most 63 characters): "
                "real Tycho servers use it as the Kubernetes container name",
            )


def _literal_port_problem(text: str) -> str | None:
    if _PORT_NUMBER.fullmatch(text) and int(text) <= 65535:
        return None
    variables = _REFERENCED.findall(text)
    if variables:
        names = ", ".join(dict.fromkeys(variables))
        return (
            f"the container port comes from {names}, which is not defined: define it in .env "
            "(real Tycho servers need a literal port number here)"
        )
    return "the container port must be a number from 1 to 65535"


def container_port_problem(entry: str) -> str | None:
    """Why servers would not read a literal container port from a normalized ``ports`` entry
    (``"8080:80"`` or ``"80"``); None: they read its last field."""
    port = split_outside_variables(entry, ":")[-1]
    # Servers read the text between the first and second ':' (or all of it): it must be the port.
    server_view = entry.split(":")[1] if ":" in entry else entry
    problem = _literal_port_problem(port)
    if problem is None and server_view != port:
        return (
            "the host side contains ':' (an undefined ${VAR:-...}?); real Tycho servers would "
            "read the wrong container port: define the variable in .env"
        )
    return problem


@rule(
    "container-ports",
    "every container port of `ports` and `expose` is a literal number from 1 to 65535, read "
    "where servers read it",
    {
        "container port 0": breaking(web={"ports": ["0"]}),
        "container port with a leading zero": breaking(web={"ports": ["080"]}),
        "exposed port 0": breaking(web={"expose": ["0"]}),
    },
    documented=True,
    compose=True,
)
def _container_ports(request: Mapping[str, Any]) -> Iterator[Broken]:
    yield from _each(
        request, "ports", lambda entry: container_port_problem(entry) if _text(entry) else None
    )
    yield from _each(
        request,
        "expose",
        lambda entry: _literal_port_problem(str(entry)) if _text(entry, int) else None,
    )


def _text(value: Any, *also: type) -> bool:
    return isinstance(value, (str, *also)) and not isinstance(value, bool)


@rule(
    "pvc-volumes",
    f"every volume is {_PVC_FORM} with a DNS label as claim: servers mount only "
    "PersistentVolumeClaims",
    {"a host path": breaking(web={"volumes": ["/data:/data"]})},
    documented=True,
    compose=True,
)
def _pvc_volumes(request: Mapping[str, Any]) -> Iterator[Broken]:
    return _each(request, "volumes", _volume_problem)


def _volume_problem(volume: Any) -> str | None:
    form = (
        f"real Tycho servers mount only PersistentVolumeClaims: a volume must be {_PVC_FORM}, "
        "such as pvc://home/alice:/home/jovyan (no host paths, named volumes or :ro suffix)"
    )
    if not isinstance(volume, str):
        return form
    hint = "; it still contains a variable: define it in .env" if "$" in volume else ""
    match = _PVC_VOLUME.fullmatch(volume)
    if not match:
        return form + hint
    if not is_dns_label(match.group("claim")):
        return (
            "the claim name must be a DNS label (a-z, 0-9, '-'): servers also use it as the "
            f"pod's volume name{hint}"
        )
    return None


def _env_name_problem(item: str) -> str | None:
    key, _, value = item.partition("=")
    if not _VARIABLE_NAME.fullmatch(key.strip()):
        return 'must be "KEY=value" with a variable name as KEY'
    if "\0" in value:
        return f"the value of {key} contains a NUL character"
    return None


def _env_equals_problem(item: str) -> str | None:
    key, equals, value = item.partition("=")
    if equals and "=" in value:
        return (
            f"the value of {key} contains '=': real Tycho servers split on every '=' and keep "
            "only the text before the second one"
        )
    return None


def _env_quote_problem(item: str) -> str | None:
    key, _, value = item.partition("=")
    if '"' in value or "\\" in value:
        return (
            f"the value of {key} contains '\"' or '\\': real Tycho servers put it unescaped "
            "inside a double-quoted YAML string, which breaks the pod they generate"
        )
    return None


def env_item_problem(item: str) -> str | None:
    """Why real Tycho servers would mangle the environment item ``KEY=value`` (None: they won't)."""
    return _env_name_problem(item) or _env_equals_problem(item) or _env_quote_problem(item)


def _env_problems(
    request: Mapping[str, Any], problem_of: Callable[[str], str | None]
) -> Iterator[Broken]:
    """The problem of every ``KEY=value`` servers put in a container's environment: the
    settings' and each compose service's."""
    settings: list[tuple[Loc, str]] = [
        (("env", key), f"{key}={value}")
        for key, value in mapping(request.get("env")).items()
        if isinstance(key, str) and isinstance(value, str)
    ]
    for loc, item in settings:
        problem = problem_of(item)
        if problem:
            yield Broken(loc, problem)
    for key in ("env", "environment"):
        yield from _each(request, key, lambda item: problem_of(item) if _text(item) else None)


@rule(
    "env-items",
    'every environment item is "KEY=value" with a variable name as KEY, and its value holds '
    "no NUL, '\"' or '\\': servers write it into a double-quoted YAML string",
    {
        "env item empty": breaking(web={"env": [""]}),
        "environment item empty": breaking(web={"env": [], "environment": [""]}),
        "env value with a double quote": breaking(web={"env": ['A=say "hi"']}),
        "env value with a backslash": breaking(web={"env": ["A=C:\\x"]}),
        "settings value with a double quote": breaking(env={"LOCAL": 'a"b'}),
    },
    documented=True,
    compose=True,
)
def _env_items(request: Mapping[str, Any]) -> Iterator[Broken]:
    return _env_problems(request, lambda item: _env_name_problem(item) or _env_quote_problem(item))


@rule(
    "env-one-equals",
    "no environment value holds '=': servers split each item on every '=' and keep only the "
    "text before the second one",
    {
        "env value with '='": breaking(web={"env": ["A=b=c"]}),
        "settings value with '='": breaking(env={"LOCAL": "a=b"}),
    },
    documented=False,
    servers_refuse=False,
    compose=True,
)
def _env_one_equals(request: Mapping[str, Any]) -> Iterator[Broken]:
    return _env_problems(request, _env_equals_problem)


@rule(
    "env-or-environment",
    "both `env` and `environment` are set: real Tycho servers read only `env`; merge them into one",
    {"env and environment": breaking(web={"env": ["A=1"], "environment": ["B=2"]})},
    documented=False,
    servers_refuse=False,
    compose=True,
)
def _env_or_environment(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        if service.get("env") and service.get("environment"):
            yield Broken(("system", "services", name, "environment"))


@rule(
    "resource-keys",
    f"real Tycho servers accept only {', '.join(SERVER_RESOURCE_KEYS)} here and fail on "
    "anything else",
    {
        "resource key the server does not know": breaking(
            web={"deploy": {"resources": {"limits": {"cpus": "1", "memory": "1G", "pids": "10"}}}}
        )
    },
    documented=True,
    compose=True,
)
def _resource_keys(request: Mapping[str, Any]) -> Iterator[Broken]:
    for name, service in services(request):
        resources = mapping(mapping(service.get("deploy")).get("resources"))
        for kind in ("limits", "reservations"):
            for key in mapping(resources.get(kind)):
                if key not in SERVER_RESOURCE_KEYS:
                    yield Broken(("system", "services", name, "deploy", "resources", kind, key))


@rule(
    "some-service-ports",
    'no service has `ports`: real Tycho servers fail on such a system with "argument of type '
    "'int' is not iterable\" (their fallback port is an integer); publish the port of the "
    "service users connect to",
    {"no service has ports": breaking(web={"ports": []}, services={})},
    documented=True,
    compose=True,
)
def _some_service_ports(request: Mapping[str, Any]) -> Iterator[Broken]:
    compose = dict(services(request))
    if compose and not any(service.get("ports") for service in compose.values()):
        yield Broken(("system", "services"))


RULES = tuple(rule.rules)
