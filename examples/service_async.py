"""The same service with AsyncTychoClient: start notebooks for several users at once.

python examples/service_async.py --url http://127.0.0.1:5000 alice bob carol
"""

from __future__ import annotations

import argparse
import asyncio
import os

from tycho_client import AsyncTychoClient

NOTEBOOK = {"services": {"jupyter": {"image": "jupyter/base-notebook", "ports": ["8888"]}}}


async def launch_and_wait(tycho: AsyncTychoClient, user: str) -> str:
    started = await tycho.up(f"notebook {user}", NOTEBOOK)
    guid = started.result.sid
    await tycho.wait_ready(guid, deadline=120.0, interval=0.5)
    return guid


async def run(url: str, users: list[str]) -> None:
    async with AsyncTychoClient(url, timeout=30.0) as tycho:
        # One connection pool, many requests in flight.
        guids = await asyncio.gather(*(launch_and_wait(tycho, user) for user in users))
        for user, guid in zip(users, guids, strict=True):
            print(f"ready: {user} {guid}")
        print(f"running: {len(await tycho.list(terse=True))}")
        deleted = await tycho.down(guids)
        print(f"stopped: {len(deleted)}; running now: {len(await tycho.list(terse=True))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TYCHO_URL", "http://localhost:5000"))
    parser.add_argument("users", nargs="*", default=["alice", "bob"])
    args = parser.parse_args()
    asyncio.run(run(args.url, args.users))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
