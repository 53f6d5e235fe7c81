"""Baseline for end to end: a bare aiohttp server that answers a transfer 202 and POSTs three
notifications for it, one after another, through one shared ClientSession. It puts the same
bytes on the wire as mockgraph (Graph's envelope and headers, a bearer token of the same
length, made once) and does nothing else: no validation, journal, state machine, scenario
engine, retries or token signing."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

SINK = web.AppKey("sink", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)
STATES = ("transferring", "transferAccepted", "established")
TASKS: set[asyncio.Task[None]] = set()
SKIP = ("Accept-Encoding",)  # mockgraph, like Graph, does not ask for compressed replies
TOKEN = "e" * 689  # the length of mockgraph's RS256 JWT with default claims; never signed


async def notify(app: web.Application, call_id: str) -> None:
    scenario_id, chain_id = str(uuid.uuid4()), str(uuid.uuid4())
    for state in STATES:
        body = {
            "@odata.type": "#microsoft.graph.commsNotifications",
            "value": [
                {
                    "@odata.type": "#microsoft.graph.commsNotification",
                    "changeType": "updated",
                    "resourceUrl": f"/communications/calls/{call_id}",
                    "resourceData": {"@odata.type": "#microsoft.graph.call", "state": state},
                }
            ],
        }
        message_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {TOKEN}",
            "User-Agent": "Microsoft-Skype/3.0,(Calling/1.0)",
            "X-Microsoft-Skype-Chain-ID": chain_id,
            "X-Microsoft-Skype-Message-ID": message_id,
            "Scenario-Id": scenario_id,
            "client-request-id": message_id,
        }
        async with app[SESSION].post(
            app[SINK], data=json.dumps(body), headers=headers, skip_auto_headers=SKIP
        ) as r:
            await r.read()


async def transfer(request: web.Request) -> web.Response:
    await request.json()
    task = asyncio.create_task(notify(request.app, request.match_info["call_id"]))
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)
    return web.Response(status=202)


async def session(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    yield
    await app[SESSION].close()


def listening(_banner: str) -> None:
    """Ready once the port is open (run_app calls this after its sites start; on_startup
    would be before, and a client could find the port still closed)."""
    print("ready", flush=True)


def main() -> None:
    app = web.Application()
    app[SINK] = sys.argv[2]
    app.router.add_post("/v1.0/communications/calls/{call_id}/transfer", transfer)
    app.cleanup_ctx.append(session)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=listening, access_log=None)


if __name__ == "__main__":
    main()
