"""What real Tycho servers do with each compose key, and the rules that refuse the keys whose
silent loss would change what runs.

Servers (tycho-api ``model.py``, ``kube.py`` and the pod template; the same in every release
from 1.12.0 to the 2024 builds) read a few keys of each service and ignore every other one
without a word. Each key of the compose specification, and each of Tycho's own, is in one of
:data:`SERVICE_KEYS` or :data:`TOP_LEVEL_KEYS`:

- ``honoured``: servers read it;
- ``resolved``: tycho-client resolves it before sending, as docker compose does
  (:mod:`tycho_client.compose`);
- ``ignored``: servers ignore it and what runs is the same (or the cluster does it anyway);
- ``refused``: servers ignore it and the container would run other than written; a value that
  asks for nothing (``false``, empty, ``restart: always``) is ignored.

A key in neither list is no compose key: :func:`unknown_keys` finds them (the pipeline warns,
naming a close match). The README's "Compose files" table says the same (a test compares them).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._data import mapping
from ..errors import Loc
from ._rule import Broken, Registrar, breaking, services

__all__ = ["KEY_USES", "RULES", "SERVICE_KEYS", "TOP_LEVEL_KEYS", "KeyUse", "unknown_keys"]

rule: Registrar = Registrar()

# fmt: off
_PRIVILEGES = (
    "privileged", "cap_add", "cap_drop", "security_opt", "devices", "device_cgroup_rules",
    "sysctls", "ulimits", "read_only", "shm_size", "userns_mode", "pid", "ipc", "uts", "cgroup",
    "cgroup_parent", "group_add", "runtime", "oom_kill_disable", "oom_score_adj", "storage_opt",
)
_RESOURCES = (
    "cpus", "cpu_count", "cpu_percent", "cpu_shares", "cpu_period", "cpu_quota",
    "cpu_rt_runtime", "cpu_rt_period", "cpuset", "mem_limit", "mem_reservation", "memswap_limit",
    "mem_swappiness", "pids_limit", "blkio_config", "gpus",
)
# fmt: on
_ONE_NETWORK = "the containers of a system share one network, the pod's"
_ONE_CONTAINER = (
    "they run exactly one container per service; remove it (a service with `profiles` is left out)"
)
_RESTARTED = (
    "Kubernetes restarts every container of a Tycho system whenever it stops, so a container "
    "cannot run just once; remove it (`always` and `unless-stopped` are ignored)"
)


def _asks_for_something(value: Any) -> bool:
    """A value other than null, false, 0 or empty: it asks the container to be different."""
    return value not in (None, False, 0, "", [], {})


def _stops(value: Any) -> bool:
    text = "no" if value is False else str(value)
    return text in ("no", "none") or text.startswith("on-failure")


def _not_one(value: Any) -> bool:
    return value is not None and str(value).strip() != "1"


def _own_network(value: Any) -> bool:
    text = str(value)
    return (
        value is not None and text not in ("bridge", "default") and not text.startswith("service:")
    )


@dataclass(frozen=True)
class KeyUse:
    """Compose keys real servers treat alike: what happens to them, and why, in plain words."""

    keys: tuple[str, ...]
    use: str
    """``honoured``, ``resolved``, ``ignored`` or ``refused``."""
    why: str
    """What servers (or tycho-client) do with them; for ``refused``, also what to write."""
    refuses: Callable[[Any], bool] = _asks_for_something
    """Which values of a ``refused`` key are refused (the others are ignored)."""


SERVICE_KEYS: tuple[KeyUse, ...] = (
    KeyUse(("image",), "honoured", "the image the container runs"),
    KeyUse(("entrypoint",), "honoured", "the container's whole command line"),
    KeyUse(("environment", "env"), "honoured", "`env` is Tycho's; servers read it when non-empty"),
    KeyUse(("ports", "expose"), "honoured", "the first port of `ports` gets a Kubernetes Service"),
    KeyUse(("volumes",), "honoured", "PersistentVolumeClaims only: pvc://<claim>[/<sub>]:<path>"),
    KeyUse(("deploy",), "honoured", "`resources`: cpus, memory, gpus, ephemeralStorage"),
    KeyUse(("ext",), "honoured", "Tycho's: Kubernetes probes under `ext.kube`"),
    KeyUse(
        ("conn_string", "proxy_rewrite", "proxy_rewrite_rule", "gitea_integration"),
        "honoured",
        "Tycho's: read from the service whose name sorts last",
    ),
    KeyUse(
        ("extends",), "resolved", "merged from a service of the same file, as docker compose does"
    ),
    KeyUse(
        ("profiles",),
        "resolved",
        "a service with profiles is left out, as `docker compose up` leaves it, unless "
        "COMPOSE_PROFILES in .env names one of them",
    ),
    KeyUse(
        ("command",),
        "resolved",
        "appended to `entrypoint`, as docker runs them; without an `entrypoint`, refused",
    ),
    KeyUse(("container_name", "hostname", "domainname"), "ignored", "Kubernetes names them"),
    KeyUse(("labels", "annotations", "label_file"), "ignored", "docker's metadata"),
    KeyUse(("logging",), "ignored", "the cluster keeps what containers write to stdout"),
    KeyUse(
        ("healthcheck",),
        "ignored",
        "docker only marks the container unhealthy; Kubernetes probes go under `ext.kube`",
    ),
    KeyUse(("depends_on",), "ignored", "the containers of a system start together, in one pod"),
    KeyUse(
        ("links", "external_links", "networks", "dns", "dns_opt", "dns_search", "mac_address"),
        "ignored",
        f"{_ONE_NETWORK}: they reach each other at localhost",
    ),
    KeyUse(("platform", "pull_policy"), "ignored", "nodes pull the image for their platform"),
    KeyUse(
        ("stop_signal", "stop_grace_period"),
        "ignored",
        "Kubernetes stops containers with SIGTERM, then SIGKILL after 30 s",
    ),
    KeyUse(("init", "tmpfs"), "ignored", "the process runs as PID 1; its paths stay writable"),
    KeyUse(("build",), "ignored", "servers run `image` from its registry: push it after building"),
    KeyUse(("develop", "attach"), "ignored", "docker compose's own development features"),
    KeyUse(("credential_spec", "isolation"), "ignored", "for Windows containers"),
    KeyUse(
        ("user",),
        "refused",
        "containers run as the ids of the top-level `security_context` (or the server's "
        "default); write `security_context: {runAsUser: 1000, runAsGroup: 1000}` at the top "
        "of the file instead (it applies to every service)",
    ),
    KeyUse(
        ("working_dir",),
        "refused",
        "the container starts in its image's directory; change directory in the entrypoint "
        "instead, e.g. `entrypoint: [sh, -c, 'cd /app && exec ./run']`",
    ),
    KeyUse(
        ("env_file",),
        "refused",
        "they read no files; list the variables under `environment` instead (a value can come "
        "from .env as ${VAR})",
    ),
    KeyUse(
        ("secrets", "configs"),
        "refused",
        "they mount no secrets or configs; pass the value as a variable from .env, or mount the "
        "file from a PersistentVolumeClaim under `volumes`",
    ),
    KeyUse(
        ("volumes_from",),
        "refused",
        "they share no volumes this way; list the same pvc:// volumes under `volumes`",
    ),
    KeyUse(
        _PRIVILEGES,
        "refused",
        "every container runs with the cluster's defaults; remove it if the service runs "
        "without it",
    ),
    KeyUse(
        _RESOURCES,
        "refused",
        "they set resources from `deploy.resources` only; write the amount under "
        "`deploy.resources.limits` (or `reservations`): cpus, memory, gpus",
    ),
    KeyUse(("restart",), "refused", _RESTARTED, _stops),
    KeyUse(("scale",), "refused", _ONE_CONTAINER, _not_one),
    KeyUse(
        ("network_mode",),
        "refused",
        f"{_ONE_NETWORK}, as with `network_mode: service:...`; remove it",
        _own_network,
    ),
    KeyUse(
        ("extra_hosts",),
        "refused",
        "they add no host names to containers; use names the cluster's DNS knows",
    ),
    KeyUse(
        ("tty", "stdin_open"),
        "refused",
        "Kubernetes gives the container no terminal and no input, so a shell started for one "
        "exits (and is restarted); remove it, and give the service a command that keeps running",
    ),
    KeyUse(
        ("post_start", "pre_stop"),
        "refused",
        "they run no lifecycle hooks; run the command from the entrypoint instead",
    ),
    KeyUse(
        ("use_api_socket", "models", "provider"),
        "refused",
        "a Tycho system has no Docker engine, models or providers; remove it",
    ),
)
"""The keys of a compose service, by what real servers do with them."""

_DEPLOY_REFUSED = {
    "replicas": KeyUse(("deploy.replicas",), "refused", _ONE_CONTAINER, _not_one),
    "restart_policy": KeyUse(
        ("deploy.restart_policy",),
        "refused",
        _RESTARTED.replace("`always` and `unless-stopped` are", "condition `any` is"),
        lambda policy: _stops(mapping(policy).get("condition", "any")),
    ),
}

TOP_LEVEL_KEYS: tuple[KeyUse, ...] = (
    KeyUse(("services",), "honoured", "the containers of the system"),
    KeyUse(("security_context",), "honoured", "Tycho's: the ids every container runs as"),
    KeyUse(("version",), "ignored", "as docker compose ignores it"),
    KeyUse(("name",), "ignored", "the system is named by `-n`, or after the file's folder"),
    KeyUse(
        ("networks", "volumes", "secrets", "configs", "models"),
        "ignored",
        "definitions: a service that uses one is checked where it does",
    ),
    KeyUse(
        ("include",),
        "refused",
        "they get one document and read no other file; copy the services of the included "
        "files into this one",
    ),
)
"""The keys at the top of a compose document, by what real servers do with them."""

KEY_USES = (*SERVICE_KEYS, *_DEPLOY_REFUSED.values(), *TOP_LEVEL_KEYS)
"""Every row of the README's table of compose keys."""
_SERVICE_USE = {key: use for use in SERVICE_KEYS for key in use.keys}
_TOP_LEVEL_USE = {key: use for use in TOP_LEVEL_KEYS for key in use.keys}


def _refused(key: str, use: KeyUse) -> str:
    return f"real Tycho servers ignore `{key}`: {use.why}"


def _refusals(keys: Mapping[str, Any], uses: Mapping[str, KeyUse], loc: Loc) -> Iterator[Broken]:
    for key, value in keys.items():
        use = uses.get(key) if isinstance(key, str) else None
        if use is not None and use.use == "refused" and use.refuses(value):
            yield Broken((*loc, key), _refused(key, use))


@rule(
    "unread-keys",
    "no compose key that real Tycho servers ignore asks the container to run differently "
    "(a user, a working directory, secrets, privileges, resources outside `deploy`, ...)",
    {
        "user": breaking(web={"user": "1000:1000"}),
        "working_dir": breaking(web={"working_dir": "/app"}),
        "env_file": breaking(web={"env_file": ["web.env"]}),
        "secrets": breaking(web={"secrets": ["db_password"]}),
        "privileged": breaking(web={"privileged": True}),
        "mem_limit": breaking(web={"mem_limit": "512m"}),
        "restart: no": breaking(web={"restart": "no"}),
        "deploy.replicas": breaking(
            web={
                "deploy": {
                    "replicas": 2,
                    "resources": {"limits": {"cpus": "0.5", "memory": "256M"}},
                }
            }
        ),
        "network_mode: host": breaking(web={"network_mode": "host"}),
        "tty": breaking(web={"tty": True}),
        "include": breaking(system={"include": ["common.yaml"]}),
    },
    documented=False,
    servers_refuse=False,
    compose=True,
)
def _unread_keys(request: Mapping[str, Any]) -> Iterator[Broken]:
    yield from _refusals(mapping(request.get("system")), _TOP_LEVEL_USE, ("system",))
    for name, service in services(request):
        loc = ("system", "services", name)
        yield from _refusals(service, _SERVICE_USE, loc)
        deploy = mapping(service.get("deploy"))
        for key, use in _DEPLOY_REFUSED.items():
            if key in deploy and use.refuses(deploy[key]):
                yield Broken((*loc, "deploy", key), _refused(f"deploy.{key}", use))


@rule(
    "command-without-entrypoint",
    "real Tycho servers ignore `command`: they run `entrypoint` alone, as the container's whole "
    "command line (the image's own entrypoint is not run); write the whole command line as "
    "`entrypoint`, starting with the image's entrypoint if it has one (docker image inspect)",
    {"command alone": breaking(web={"command": ["nginx", "-g", "daemon off;"]})},
    documented=False,
    servers_refuse=False,
    compose=True,
)
def _command_without_entrypoint(request: Mapping[str, Any]) -> Iterator[Broken]:
    # With an entrypoint, tycho_client.compose appends `command` to it, as docker would run them.
    for name, service in services(request):
        if service.get("command") and not service.get("entrypoint"):
            yield Broken(("system", "services", name, "command"))


def unknown_keys(system: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Each key of ``system`` (at the top and in each service) that is no compose key nor
    Tycho's, nor an ``x-`` extension, with a note: the key it may be a typo of, if any."""
    known = {"top": list(_TOP_LEVEL_USE), "service": list(_SERVICE_USE)}
    yield from _unknown(system, ("system",), known["top"])
    for name, service in services({"system": system}):
        yield from _unknown(service, ("system", "services", name), known["service"])


def _unknown(keys: Mapping[str, Any], loc: Loc, known: list[str]) -> Iterator[tuple[Loc, str]]:
    for key in keys:
        if not isinstance(key, str) or key in known or key.startswith("x-"):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        yield (*loc, key), f"did you mean `{close[0]}`?" if close else ""


RULES = tuple(rule.rules)
