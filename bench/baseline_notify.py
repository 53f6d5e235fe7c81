"""Baseline for end to end: a bare aiohttp server that answers a transfer 202 and POSTs three
notifications for it, one after another, through one shared ClientSession. No journal, no
state machine, no scenario engine, no token, no validation."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
from aiohttp import web

SINK = web.AppKey("sink", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)
STATES = ("transferring", "transferAccepted", "established")
TASKS: set[asyncio.Task[None]] = set()


async def notify(app: web.Application, call_id: str) -> None:
    for state in STATES:
        body = {
            "value": [
                {
                    "resourceUrl": f"/communications/calls/{call_id}",
                    "resourceData": {"state": state},
                }
            ]
        }
        async with app[SESSION].post(
            app[SINK], data=json.dumps(body), headers={"Content-Type": "application/json"}
        ) as response:
            await response.read()


async def transfer(request: web.Request) -> web.Response:
    await request.json()
    task = asyncio.create_task(notify(request.app, request.match_info["call_id"]))
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)
    return web.Response(status=202)


def main() -> None:
    app = web.Application()
    app[SINK] = sys.argv[2]
    app.router.add_post("/v1.0/communications/calls/{call_id}/transfer", transfer)

    async def session(app: web.Application):  # type: ignore[no-untyped-def]
        app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        print("ready", flush=True)
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
