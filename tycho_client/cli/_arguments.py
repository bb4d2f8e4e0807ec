"""The table of ``tycho``'s commands and options, each option declared once: the global options,
and for each command its summary, description, examples and arguments (written with the classes
of ``_options``).

Both the parsers (``_parser``) and the completion scripts (``completion``) are made from this
table, so the two cannot disagree. It imports neither ``typing`` nor ``dataclasses``:
``tycho --help`` imports it.
"""

from __future__ import annotations

import argparse

from tycho_client._defaults import DEFAULT_SERVICE_NAME
from tycho_client._version import __version__

from ._options import Command, Group, Option, non_negative_float, non_negative_int, positive_float

# ------------------------------------------------------------------------ global options

HELP = Option("-h", "--help", action="help", help="show this help message and exit")
"""Every parser's -h (the parsers are made with add_help=False, so that it is declared here)."""

GLOBAL_OPTIONS = (
    Option("--url", metavar="URL", default=None, help="Tycho API URL (env TYCHO_URL)"),
    Option(
        "--namespace",
        metavar="NS",
        default=None,
        help="Kubernetes namespace for discovery (default: the context's namespace)",
    ),
    Option(
        "--service-name",
        metavar="NAME",
        default=DEFAULT_SERVICE_NAME,
        help=f"Kubernetes Service of the Tycho API for discovery (default: {DEFAULT_SERVICE_NAME})",
    ),
    Option(
        "--context",
        metavar="CONTEXT",
        default=None,
        help="kubeconfig context for discovery (default: the current context)",
    ),
    Option(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=None,
        help="HTTP timeout of each request in seconds (default: 5 to connect, 30 to read)",
    ),
    Option(
        "--token",
        metavar="TOKEN",
        default=None,
        help="bearer token (env TYCHO_TOKEN); never printed",
    ),
    Option(
        "--debug",
        action="store_true",
        default=False,
        help="show tracebacks and debug logging on stderr",
    ),
    Option(
        "-V",
        "--version",
        action="version",
        version=f"tycho {__version__}",
        help="print the version and exit",
    ),
)
"""The options every command takes, before or after the command word (after -h, in this order)."""

# ------------------------------------------------------------------------ shared options

# The releases tycho mock can play, spelled out here because tycho --help must not import
# tycho_client.releases (it loads typing); a test keeps them equal to the release table.
RELEASE_VERSIONS = (
    "1.12.0",
    "1.13.0",
    "1.14.0",
    "1.14.1",
    "1.15.0",
    "1.16.1",
    "1.17.1",
    "1.17.2",
    "1.17.3",
    "1.17.3.dev20240507125039",
    "1.17.3.dev20240520152141",
)
DEFAULT_RELEASE = "1.17.3"


def _output(formats: tuple[str, ...], note: str) -> Option:
    return Option("-o", "--output", choices=formats, default=None, metavar="FORMAT",
                  help=f"{'|'.join(formats)}; {note}")  # fmt: skip


NO_HEADERS = Option("--no-headers", action="store_true", help="tables without their header line")
FILE = Option(
    "-f",
    "--file",
    path=True,
    metavar="PATH",
    help="compose file, '-' for stdin (default: compose.yaml, compose.yml, "
    "docker-compose.yaml or docker-compose.yml in the current folder)",
)
ENV_FILE = Option(
    "--env-file",
    path=True,
    metavar="PATH",
    help="settings file, '-' for stdin (default: .env beside the compose file)",
)
STRICT = Option(
    "--strict",
    action="store_true",
    help="warnings are errors: a ${VAR} the settings do not set, a key no compose file has",
)

# ------------------------------------------------------------------------------- commands

UP = Command(
    "up",
    "start a system from a compose file, or one container from flags",
    "Start a system from a docker-compose file, or one container from flags "
    "(--image). Reads the .env beside the compose file unless --env-file is given, "
    "interpolates ${VAR} from it, and names the system after the file's folder unless "
    "--name is given. The table's NODE_PORT is the Kubernetes nodePort: reach a service "
    "at a cluster node's address and that port (IP_ADDRESS is its load-balancer address, "
    "<none> when it has none). Ctrl-C once the start is sent, or --wait running out, names "
    "the system left behind and the tycho down that removes it.",
    """\
  tycho up                                 ./compose.yaml or ./docker-compose.yaml
  tycho up -f apps/jupyter/docker-compose.yaml -n notebook --wait
  cat docker-compose.yaml | tycho up -f - -o json
  tycho up --image jupyter/minimal-notebook -p 8888 -v pvc://home/alice:/home/jovyan -n nb
  tycho up --image nginx:1.25 -p 80 -e MODE=prod --command "nginx -g 'daemon off;'" --dry-run""",
    FILE,
    ENV_FILE,
    STRICT,
    Option("-n", "--name", metavar="NAME", help="system name (made a DNS label)"),
    Group(
        "quick launch (one container from flags, instead of a compose file)",
        Option(
            "--image", "-c", "--container", dest="image", metavar="IMAGE", help="container image"
        ),
        Option(
            "-p",
            "--port",
            dest="ports",
            action="append",
            default=[],
            metavar="PORT",
            help="a port to expose, e.g. 8888 (repeatable; the first gets a Service)",
        ),
        Option(
            "--command",
            dest="container_command",
            metavar="CMD",
            help="the container's command, split like a shell would",
        ),
        Option(
            "-v",
            "--volume",
            dest="volumes",
            action="append",
            default=[],
            metavar="pvc://CLAIM[/SUB]:PATH",
            help="a volume to mount (repeatable)",
        ),
        Option(
            "-e",
            "--env",
            dest="env",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an environment variable (repeatable; shown masked by --dry-run, like .env "
            "values)",
        ),
    ),
    Option(
        "--wait", action="store_true", help="wait until the system is ready (progress on a TTY)"
    ),
    Option(
        "--wait-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=300.0,
        help="how long --wait waits; not ready by then is exit 1, the system left running "
        "(default: 300)",
    ),
    Option(
        "--dry-run",
        action="store_true",
        help="print the validated request (env values masked) and send nothing",
    ),
    _output(("table", "json", "yaml"), "default: table (json with --dry-run)"),
    NO_HEADERS,
    Option("-q", "--quiet", action="store_true", help="print only the GUID"),
)

STATUS = Command(
    "status",
    "list running systems, or those of one name or GUID",
    "List the running systems, or those SYSTEM names: a system name as the SYSTEM column "
    "shows it (every system of that name), a GUID, or a full name {name}-{guid}. A name or "
    "GUID of no running system is 'not found' (exit 1). READY counts the system's ready "
    "Deployments; AGE is the time since creation.",
    """\
  tycho status
  tycho status webstack                    the systems named webstack
  tycho status -o wide --no-headers
  tycho status 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7 -o json
  tycho status --watch --watch-timeout 60
  tycho status --terse                     GUIDs only, for tycho down""",
    Option(
        "system",
        nargs="?",
        metavar="SYSTEM",
        help="a system name (as the SYSTEM column shows it), GUID or full name",
    ),
    Option(
        "--terse",
        "-terse",
        "-q",
        "--quiet",
        dest="terse",
        action="store_true",
        help="print only GUIDs, one per line",
    ),
    _output(
        ("table", "wide", "json", "yaml", "name"),
        "wide adds user, app id, workspace, utilization and the creation time; "
        "name prints full system names (default: table)",
    ),
    NO_HEADERS,
    Option(
        "-w",
        "--watch",
        action="store_true",
        help="keep polling: redraw on a terminal, print changed rows when piped",
    ),
    Option(
        "--watch-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=None,
        help="stop --watch after this long (default: the global --timeout if given, "
        "else until interrupted)",
    ),
    Option(
        "--interval",
        metavar="SECONDS",
        type=positive_float,
        default=2.0,
        help="seconds between polls of --watch (default: 2)",
    ),
)

DOWN = Command(
    "down",
    "delete systems by name or GUID, or those up started here",
    "Delete systems by system name (as the SYSTEM column of status shows it), GUID or full "
    "name. Before anything is deleted, a name of no running system is 'not found' (exit 1), "
    "and a name several systems share is refused, listing them (exit 2), unless --all "
    "takes them all. Every system is tried; each deleted GUID is printed; a GUID the server "
    "does not list is 'not found' (exit 1) after the others are deleted. With no argument, "
    "in a folder with a compose file, down deletes the systems tycho up started from it "
    "(named after the folder, all of them if several), as docker compose down does; "
    "elsewhere, with systems running, it refuses and suggests --all. With nothing running "
    "it has nothing to do (so `tycho down $(tycho status --terse)` works on an empty "
    "server).",
    """\
  tycho down                               what tycho up started from this folder
  tycho down webstack
  tycho down webstack --all                every system named webstack
  tycho down 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7
  tycho down $(tycho status --terse)
  tycho down --all --yes                   every running system""",
    Option(
        "systems",
        nargs="*",
        metavar="SYSTEM",
        help="system names, GUIDs or full names of the systems to delete",
    ),
    Option(
        "--all",
        action="store_true",
        help="with SYSTEM names: every system each names; alone: every running system (asks "
        "first on a terminal)",
    ),
    Option("-y", "--yes", action="store_true", help="do not ask for confirmation of --all"),
    Option("-q", "--quiet", action="store_true", help="do not print deleted GUIDs"),
)

MODIFY = Command(
    "modify",
    "add labels to a system or change its CPU and memory",
    "Add labels to a running system or set its CPU and memory (limits and requests). The "
    "system is named by its GUID, full name, or a system name only it has (a name several "
    "share is exit 2, listing them). Not every Tycho server supports this (tycho-api 1.17.3 "
    "does not).",
    """\
  tycho modify webstack --label team=data
  tycho modify 2f1c0d9e8b7a46d5a4c3b2a1f0e9d8c7 --cpu 500m --memory 1G""",
    Option(
        "system",
        metavar="SYSTEM",
        help="the system's name (one system's only), GUID or full name",
    ),
    Option(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label to add (repeatable)",
    ),
    Option("--cpu", metavar="CPU", help="CPU quantity, e.g. 500m or 2"),
    Option("--memory", metavar="MEMORY", help="memory quantity, e.g. 512M or 2G"),
    _output(("table", "json", "yaml"), "default: table"),
)

VALIDATE = Command(
    "validate",
    "check a compose file offline",
    "Check a docker-compose file and its .env against the client's validators and the "
    "OpenAPI document's schemas, without a server. Prints every problem, one per line "
    "with its field path, and exits 2 if there is any.",
    """\
  tycho validate
  tycho validate apps/jupyter/docker-compose.yaml --env-file prod.env""",
    Option("path", nargs="?", metavar="PATH", help="compose file (the same as -f PATH)"),
    FILE,
    ENV_FILE,
    STRICT,
)

SPEC = Command(
    "spec",
    "print the OpenAPI document of the Tycho API",
    "Print the OpenAPI document of the Tycho API (the contract this client checks).",
    """\
  tycho spec > tycho.yaml""",
)

MOCK = Command(
    "mock",
    "serve a fake Tycho API for tests",
    "Serve a fake, spec-validating Tycho API until interrupted. Prints its URL on stdout "
    "once listening, and one line per request on stderr (method, path, status, "
    "milliseconds; never bodies).",
    """\
  tycho mock --port 0                      any free port
  tycho mock --ready-after 3 --latency 0.2
  tycho mock --fail-next 2 --fail-status 503
  tycho mock --release 1.12.0              answer as tycho-api 1.12.0""",
    Option("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)"),
    Option(
        "--port", type=int, default=5000, help="port to bind, 0 for any free one (default: 5000)"
    ),
    Option(
        "--ready-after",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="new systems report is_ready false in their first N status answers (default: 0)",
    ),
    Option(
        "--latency",
        metavar="SECONDS",
        type=non_negative_float,
        default=0.0,
        help="seconds added to every answer (default: 0)",
    ),
    Option(
        "--modify",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="route /system/modify; real servers (tycho-api 1.17.3) do not (default: --no-modify)",
    ),
    Option(
        "--fail-next",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="answer the first N API requests with --fail-status (default: 0)",
    ),
    Option(
        "--fail-status",
        metavar="CODE",
        type=int,
        default=503,
        help="HTTP status of those answers; 200 is an error envelope (default: 503)",
    ),
    Option(
        "--release",
        metavar="VERSION",
        choices=RELEASE_VERSIONS,
        default=DEFAULT_RELEASE,
        help=f"the tycho-api release to answer as: {', '.join(RELEASE_VERSIONS)} "
        f"(default: {DEFAULT_RELEASE})",
    ),
    Option("-q", "--quiet", action="store_true", help="no log line per request on stderr"),
)

VERIFY = Command(
    "verify",
    "check a server against the API document",
    "Check a live Tycho server against the OpenAPI document: each promise its answers bear "
    "on (routes, envelopes, errors, status entries, readiness, modify, refusals) and the "
    "tycho-api releases it behaves like (no release reports its version). Read-only unless "
    "--write. Exit 0: conformant; 1: not; 3: unreachable.",
    """\
  tycho verify --url http://localhost:5000
  tycho verify --write -o json            start, list and delete a probe system too""",
    Option(
        "--write",
        action="store_true",
        help="also start a tiny system, find it in status and delete it (deleted on every path)",
    ),
    _output(("table", "json"), "default: table"),
    NO_HEADERS,
)

COMPLETION = Command(
    "completion",
    "print a shell completion script",
    "Print a completion script for bash, zsh or fish, generated from this parser.",
    """\
  source <(tycho completion bash)          in ~/.bashrc
  source <(tycho completion zsh)           in ~/.zshrc
  tycho completion fish > ~/.config/fish/completions/tycho.fish""",
    Option("shell", choices=("bash", "zsh", "fish"), help="the shell"),
)

COMMANDS = {
    command.name: command
    for command in (UP, STATUS, DOWN, MODIFY, VALIDATE, SPEC, MOCK, VERIFY, COMPLETION)
}
"""The commands by name, in the order ``tycho --help`` lists them."""
