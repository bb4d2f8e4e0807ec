"""The tycho-api releases tycho-client supports, and how each one behaves: the one table.

Every behaviour a client can meet is a column of :data:`RELEASES` (the study behind it, release by
release, is ``docs/internals/releases.md``). The client, the fake Tycho
(``FakeTycho(release=...)``), :meth:`~tycho_client.TychoClient.server_traits`, ``tycho verify``,
the real-server suite and the README's compatibility table all read this table, so a release is
added (or a behaviour corrected) here once.

No release reports its version: what a server is can only be inferred from its answers
(:mod:`tycho_client.traits`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ABORT_ERROR",
    "COMPARISON_ERROR",
    "DEFAULT_RELEASE",
    "FEATURES",
    "GPU_ASSERTION_ERROR",
    "RELEASES",
    "CiRun",
    "Feature",
    "Release",
    "describe",
    "release",
    "versions",
]

COMPARISON_ERROR = "'>=' not supported between instances of 'ValidationError' and 'int'"
"""What 1.12.0 - 1.13.0 answer for a body their own schema rejects (their ``print_exc(error)``
passes the error as a line limit, and that comparison fails)."""
ABORT_ERROR = "name 'abort' is not defined"
"""What 1.14.0 and later answer for a body their own schema rejects (``abort`` is never
imported)."""
GPU_ASSERTION_ERROR = "Fractional GPUs not supported"
"""What 1.14.0 - 1.17.1 answer for a start whose compose services do not all carry an integer
``gpus`` in both ``limits`` and ``reservations`` (an ``assert`` while reading the request, before
anything reaches Kubernetes)."""

Suite = Literal["full", "subset"]


@dataclass(frozen=True)
class CiRun:
    """One run of the real-server suite against a release in CI (``.ci/run``)."""

    suite: Suite
    """``full``: every test; ``subset``: all but the long property runs, which draw fewer
    examples (sized so that ``.ci/run`` stays under 30 minutes on 2 cores)."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Variables added to the server's environment."""

    @property
    def label(self) -> str:
        extra = " ".join(f"{key}={value}" for key, value in self.environment.items())
        return f"{self.suite} suite" + (f" with {extra}" if extra else "")


@dataclass(frozen=True)
class Release:
    """One tycho-api release, as a client meets it: what it reads and how it answers."""

    version: str
    reports_readiness: bool
    """Status entries carry ``is_ready`` (1.16.1 and later); without it, readiness is unknown."""
    gpu_assertion: bool
    """A start needs an integer ``gpus`` in ``limits`` and ``reservations`` of every compose
    service, else it is refused with :data:`GPU_ASSERTION_ERROR` (1.14.0 - 1.17.1)."""
    ephemeral_storage: bool
    """``ephemeralStorage`` is a resource it knows; 1.12.0 - 1.13.0 refuse it."""
    gitea_integration: bool
    """``gitea_integration`` is read; 1.12.0 ignores it."""
    proxy_rewrite_rule: bool
    """``proxy_rewrite_rule`` is read (1.17.1 and 1.17.2 ignore it)."""
    proxy_rewrite: bool
    """``proxy_rewrite: {enabled, target}`` is read (1.17.1 and later)."""
    schema_error: str
    """The error text of a body its own schema rejects: :data:`COMPARISON_ERROR` or
    :data:`ABORT_ERROR`."""
    ambassador_by_variable: bool
    """It finds the ambassador Service by the name in ``AMBASSADOR_SVC_NAME`` (default: none,
    so never) instead of the Service named ``ambassador`` (the 2024 development builds)."""
    ci: tuple[CiRun, ...] = ()
    """How CI runs the real-server suite against it (none: another release stands for it)."""

    @property
    def answers(self) -> tuple[str, bool, bool, bool]:
        """What its answers show (:mod:`tycho_client.traits` tells releases apart by it): the
        schema-error text, the GPU assertion, ``ephemeralStorage``, readiness."""
        return (
            self.schema_error,
            self.gpu_assertion,
            self.ephemeral_storage,
            self.reports_readiness,
        )


_OLD, _NEW = COMPARISON_ERROR, ABORT_ERROR
_CI: dict[str, tuple[CiRun, ...]] = {
    "1.12.0": (CiRun("subset"),),
    "1.16.1": (CiRun("subset"),),
    "1.17.2": (CiRun("subset"),),
    "1.17.3": (CiRun("full"),),
    "1.17.3.dev20240520152141": (
        CiRun("subset", {"AMBASSADOR_SVC_NAME": "ambassador"}),
        CiRun("subset"),
    ),
}

# fmt: off
RELEASES: tuple[Release, ...] = tuple(
    Release(*row, ci=_CI.get(row[0], ()))
    for row in (
        # version                    ready  gpus   ephem. gitea  rule   rewrite schema by_var
        ("1.12.0",                   False, False, False, False, True,  False, _OLD, False),
        ("1.13.0",                   False, False, False, True,  True,  False, _OLD, False),
        ("1.14.0",                   False, True,  True,  True,  True,  False, _NEW, False),
        ("1.14.1",                   False, True,  True,  True,  True,  False, _NEW, False),
        ("1.15.0",                   False, True,  True,  True,  True,  False, _NEW, False),
        ("1.16.1",                   True,  True,  True,  True,  True,  False, _NEW, False),
        ("1.17.1",                   True,  True,  True,  True,  False, True,  _NEW, False),
        ("1.17.2",                   True,  False, True,  True,  False, True,  _NEW, False),
        ("1.17.3",                   True,  False, True,  True,  True,  True,  _NEW, False),
        ("1.17.3.dev20240507125039", True,  False, True,  True,  True,  True,  _NEW, True),
        ("1.17.3.dev20240520152141", True,  False, True,  True,  True,  True,  _NEW, True),
    )
)
"""Every supported release, oldest first. The columns: readiness reported, the GPU assertion,
``ephemeralStorage``, ``gitea_integration``, ``proxy_rewrite_rule`` and ``proxy_rewrite`` read, the
schema-error text, the ambassador found through ``AMBASSADOR_SVC_NAME`` (see :class:`Release`)."""
# fmt: on

DEFAULT_RELEASE = "1.17.3"
"""The release the document's examples were recorded from, and the fake plays by default."""

_BY_VERSION = {item.version: item for item in RELEASES}


def versions() -> list[str]:
    """The supported releases, oldest first."""
    return list(_BY_VERSION)


def release(version: str) -> Release:
    """The release ``version``; a ValueError naming the supported ones for any other."""
    found = _BY_VERSION.get(version)
    if found is None:
        raise ValueError(
            f"tycho-api {version!r} is not a supported release (supported: "
            f"{', '.join(_BY_VERSION)})"
        )
    return found


def describe(releases: Iterable[Release | str]) -> str:
    """Releases as ranges of the table's order: ``1.14.0 - 1.17.1``, ``1.12.0, 1.17.3 and
    later`` (a range that reaches the newest release is open), ``no known release``."""
    wanted = {item if isinstance(item, str) else item.version for item in releases}
    runs: list[list[str]] = []
    previous = False
    for item in RELEASES:
        inside = item.version in wanted
        if inside and not previous:
            runs.append([])
        if inside:
            runs[-1].append(item.version)
        previous = inside
    if not runs:
        return "no known release"
    parts = []
    for run in runs:
        if run[-1] == RELEASES[-1].version and len(run) > 1:
            parts.append(f"{run[0]} and later")
        elif len(run) == 1:
            parts.append(run[0])
        else:
            parts.append(f"{run[0]} - {run[-1]}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Feature:
    """Something a start request can ask for that not every release does."""

    name: str
    """What it is called in messages (the request's key)."""
    where: str
    """Where it sits in a start request."""
    has: Callable[[Release], bool]
    """Whether a release does it."""

    @property
    def releases(self) -> str:
        """The releases that do it, as :func:`describe` says them."""
        return describe(item for item in RELEASES if self.has(item))


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature(
            "ephemeralStorage",
            "deploy.resources.limits/reservations.ephemeralStorage",
            lambda item: item.ephemeral_storage,
        ),
        Feature(
            "gitea_integration",
            "gitea_integration of the compose service whose name sorts last",
            lambda item: item.gitea_integration,
        ),
        Feature(
            "proxy_rewrite",
            "proxy_rewrite {enabled, target} of the compose service whose name sorts last",
            lambda item: item.proxy_rewrite,
        ),
        Feature(
            "proxy_rewrite_rule",
            "proxy_rewrite_rule of the compose service whose name sorts last",
            lambda item: item.proxy_rewrite_rule,
        ),
    )
}
"""The features some releases lack, by name: error messages name the releases that have one."""


def _ci(item: Release) -> str:
    if not item.ci:
        return "—"
    suites = {run.suite for run in item.ci}
    variables = sorted({key for run in item.ci for key in run.environment})
    shown = " and ".join(sorted(suites))
    if variables and len(item.ci) > 1:
        names = ", ".join(f"`{name}`" for name in variables)
        return f"{shown}, with and without {names}"
    return shown


def _rewrite(item: Release) -> str:
    read = [
        name
        for name, has in (
            ("proxy_rewrite_rule", item.proxy_rewrite_rule),
            ("proxy_rewrite", item.proxy_rewrite),
        )
        if has
    ]
    return ", ".join(f"`{name}`" for name in read)


COMPATIBILITY_COLUMNS: tuple[tuple[str, Callable[[Release], str]], ...] = (
    ("tycho-api", lambda item: item.version),
    ("CI", _ci),
    ("status `is_ready`", lambda item: "yes" if item.reports_readiness else "no: READY `?`"),
    ("starts need integer `gpus`", lambda item: "yes: added" if item.gpu_assertion else "no"),
    ("`ephemeralStorage`", lambda item: "yes" if item.ephemeral_storage else "refused"),
    ("`gitea_integration`", lambda item: "yes" if item.gitea_integration else "ignored"),
    ("proxy rewrite read", _rewrite),
    ("schema error", lambda item: "`abort`" if item.schema_error == ABORT_ERROR else "`'>='`"),
    (
        "ambassador Service",
        lambda item: "`AMBASSADOR_SVC_NAME`" if item.ambassador_by_variable else "`ambassador`",
    ),
)
"""The README's compatibility table: a title and how each release's cell reads."""


def compatibility_table() -> str:
    """The README's compatibility table (Markdown), one row per release of :data:`RELEASES`."""
    lines = [
        "| " + " | ".join(title for title, _ in COMPATIBILITY_COLUMNS) + " |",
        "|" + "---|" * len(COMPATIBILITY_COLUMNS),
    ]
    for item in RELEASES:
        lines.append("| " + " | ".join(cell(item) for _, cell in COMPATIBILITY_COLUMNS) + " |")
    return "\n".join(lines) + "\n"
