"""What real servers answer to each witness of ``tycho_client.rules``: the text that shows it
failed for its own reason (a part of the server's error, never a whole traceback).

Measured on every release of the CI matrix (``python -m pytest tests/realserver`` with
``TYCHO_RELEASE``): the texts are the same on all of them, as the witnesses go to 1.14.0 - 1.17.1
with integer GPUs, but where that adds what a witness lacks (a callable says per release). A rule
added to the registry needs its witnesses' texts here (the test
``test_every_rule_witness_says_why_servers_refuse_it`` says which).
"""

from __future__ import annotations

from collections.abc import Callable

from tycho_client.releases import Release

Says = str | Callable[[Release], str]
"""What a refusal's text holds: the same on every release, or per release."""


def expected_text(says: Says, release: Release) -> str:
    return says if isinstance(says, str) else says(release)


RULE_SAYS: dict[str, Says] = {
    "service-names: a service name with a capital letter": "a lowercase RFC 1123 label",
    "container-ports: container port 0": "spec.ports[0].port: Invalid value: 0",
    "container-ports: container port with a leading zero": "spec.ports[0].port of type int",
    "container-ports: exposed port 0": "containerPort: Invalid value: 0",
    "pvc-volumes: a host path": "Wrong Volume definition in Container:web",
    "env-items: env item empty": "env[0].name: Required value",
    "env-items: environment item empty": "env[0].name: Required value",
    "env-items: env value with a double quote": "while parsing a block mapping",
    "env-items: env value with a backslash": "while scanning a double-quoted scalar",
    "env-items: settings value with a double quote": "while parsing a block mapping",
    "resource-keys: resource key the server does not know": (
        "Limits.__init__() got an unexpected keyword argument 'pids'"
    ),
    "some-service-ports: no service has ports": "argument of type 'int' is not iterable",
    "yaml-plain-text: name that YAML reads as a number": "labels.app-name of type string",
    "yaml-plain-text: serviceaccount that YAML reads as a number": (
        "serviceAccountName of type string"
    ),
    "yaml-plain-text: settings key that YAML reads as null": "env[1].name: Required value",
    "yaml-plain-text: compose service named like a YAML boolean": (
        "containers[0].name of type string"
    ),
    "yaml-plain-text: image that YAML reads as a number": "containers[0].image of type string",
    "yaml-plain-text: image that YAML reads as a boolean": "containers[0].image of type string",
    "yaml-plain-text: conn_string that YAML reads as a boolean": (
        "labels.conn_string of type string"
    ),
    "yaml-plain-text: env item named like a YAML boolean": "env[0].name of type string",
    "yaml-plain-text: probe path that YAML reads as a boolean": "httpGet.path of type string",
    "entrypoint-quotes: entrypoint word with both quotes": "while parsing a flow sequence",
    "cpus-with-memory: cpus without memory": "limits[memory]: quantities must match",
    "principal-content: username with a space": "a valid label must be an empty string",
    "principal-content: username shared": "must be unique",
    "principal-content: username that YAML reads as a boolean": "labels.username of type string",
    "principal-content: principal value with ': '": "mapping values are not allowed here",
    "principal-content: principal value that YAML reads as a number": "].value of type string",
    "principal-content: principal key that is no environment name": (
        "a valid environment variable name"
    ),
    "principal-content: principal that is not JSON": "Expecting value: line 1 column 1",
    "template-markers: a Jinja marker in a label": "expected token 'end of print statement'",
    "exposed-service-ports: a service without ports named in services": (
        "spec.ports: Required value"
    ),
    "exposed-ports-unique: container port 80 twice": "spec.ports[1]: Duplicate value: 80",
    "requests-within-limits: reserved cpus above the limit": (
        "must be less than or equal to cpu limit"
    ),
    # 1.14.0 - 1.17.1 get the limit the client adds (0): then requests and limits differ.
    "gpus-equal: reserved gpus without a limit": lambda release: (
        "must be equal to nvidia.com/gpu limit"
        if release.gpu_assertion
        else "Limit must be set for non overcommitable resources"
    ),
    "mount-paths-unique: two volumes at /data": "must be unique",
    "gitea-lowercase-username: gitea for Alice": "Alice-id-gitea",
}
