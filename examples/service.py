"""A small service on top of tycho-client: start a notebook for a user, wait for it, list, stop.

Run it against any Tycho API, for example the fake one::

    tycho mock --port 5000 &        # needs tycho-client[testing]
    python examples/service.py --url http://127.0.0.1:5000

It needs only the core install (``pip install tycho-client``) when it is given a URL.
"""

from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import dataclass

from tycho_client import SystemStatus, TychoAPIError, TychoClient

NOTEBOOK = {
    "services": {
        "jupyter": {
            "image": "jupyter/datascience-notebook:2023-10-20",
            "ports": ["8888:8888"],
            "environment": {"JUPYTER_TOKEN": "${JUPYTER_TOKEN}"},
            "deploy": {"resources": {"limits": {"cpus": "1", "memory": "2G"}}},
        }
    }
}


@dataclass(frozen=True)
class Notebook:
    guid: str
    address: str  # host:port of the notebook's Service


class NotebookService:
    """What a team writes: its own operations, in its own words, over TychoClient."""

    def __init__(self, tycho: TychoClient) -> None:
        self.tycho = tycho

    def launch(self, user: str, token: str) -> Notebook:
        # `up` formats the name, parses the .env text and substitutes ${JUPYTER_TOKEN} from it.
        started = self.tycho.up(f"notebook {user}", NOTEBOOK, settings=f"JUPYTER_TOKEN={token}")
        endpoint = started.result.containers["jupyter"]
        # ip_address and port_1 (the Service's first port) are null until the cluster assigns them.
        return Notebook(started.result.sid, f"{endpoint.ip_address}:{endpoint.port_1}")

    def wait(self, notebook: Notebook, timeout: float = 120.0) -> list[SystemStatus]:
        return self.tycho.wait_ready(notebook.guid, deadline=timeout, interval=0.5)

    def running(self) -> list[str]:
        return self.tycho.list(terse=True)

    def stop(self, notebook: Notebook) -> None:
        self.tycho.down([notebook.guid])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TYCHO_URL", "http://localhost:5000"))
    parser.add_argument("--user", default="alice")
    args = parser.parse_args()

    with TychoClient(args.url, timeout=30.0, username=args.user) as tycho:
        service = NotebookService(tycho)
        try:
            notebook = service.launch(args.user, token=secrets.token_urlsafe(16))
        except TychoAPIError as exc:  # HTTP 200 with "status": "error": how Tycho refuses
            parser.exit(1, f"Tycho refused: {exc}\n")
        print(f"started {notebook.guid} at {notebook.address}")
        ready = service.wait(notebook)
        print(f"ready: {', '.join(s.name for s in ready)}")
        print(f"running: {' '.join(service.running())}")
        service.stop(notebook)
        print(f"stopped {notebook.guid}; running now: {len(service.running())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
