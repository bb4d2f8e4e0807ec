"""The floor of a command that talks to Tycho: what anyone would write without tycho-client.

    python bench/minimal_client.py status URL
    python bench/minimal_client.py delete URL GUID

httpx, one small pydantic model, one POST, a line printed per system. bench/run.py runs it
beside ``tycho status --url`` and ``tycho down``: the difference is what our code costs.
"""

import sys
from typing import Any

# httpx imports its own CLI (click, rich: 50 ms) when those happen to be installed, as in a dev
# venv; tycho keeps it out, and so does this floor, so that it is the same in any venv.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402
from pydantic import BaseModel  # noqa: E402


class Answer(BaseModel):
    status: str
    message: str
    result: list[dict[str, Any]] | dict[str, Any] | None = None


def main() -> None:
    operation, url, *guids = sys.argv[1:]
    body = {"name": guids[0]} if guids else {}
    # verify=False: the URL is plain http, so no certificate bundle is needed (tycho skips it too).
    with httpx.Client(verify=False, timeout=30.0) as client:
        response = client.post(f"{url.rstrip('/')}/system/{operation}", json=body)
    answer = Answer.model_validate_json(response.content)
    if isinstance(answer.result, list):
        for system in answer.result:
            print(system.get("name"), system.get("sid"), system.get("ip_address"))
    else:
        print(answer.status, *guids)


if __name__ == "__main__":
    main()
