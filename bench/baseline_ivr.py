"""Baseline for the IVR figure: a bare aiohttp server that serves the same requests as the IVR
flow against mockgraph (ring, answer, subscribeToTone, playPrompt, a key press, transfer) and
POSTs the same notifications for each, in order per call, through one shared ClientSession:
the created call, establishing, established and the media update that follows (audio active),
the prompt's end, the tone, and the three of the transfer. Nothing else: no validation,
journal, state, scenario engine or token signing."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

SINK = web.AppKey("sink", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)
LOCKS: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one lane per call
TASKS: set[asyncio.Task[None]] = set()
SKIP = ("Accept-Encoding",)
TOKEN = "e" * 689  # the length of mockgraph's RS256 JWT with default claims; never signed
CALL = "#microsoft.graph.call"


def call_item(call_id: str, data: dict[str, Any], change: str = "updated") -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change,
        "resourceUrl": f"/communications/calls/{call_id}",
        "resourceData": {"@odata.type": CALL, **data},
    }


async def post(app: web.Application, call_id: str, items: list[dict[str, Any]]) -> None:
    async with LOCKS[call_id]:
        for item in items:
            body = {"@odata.type": "#microsoft.graph.commsNotifications", "value": [item]}
            message_id = str(uuid.uuid4())
            headers = {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {TOKEN}",
                "User-Agent": "Microsoft-Skype/3.0,(Calling/1.0)",
                "X-Microsoft-Skype-Message-ID": message_id,
                "client-request-id": message_id,
            }
            async with app[SESSION].post(
                app[SINK], data=json.dumps(body), headers=headers, skip_auto_headers=SKIP
            ) as r:
                await r.read()


def later(app: web.Application, call_id: str, items: list[dict[str, Any]]) -> None:
    task = asyncio.create_task(post(app, call_id, items))
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)


async def ring(request: web.Request) -> web.Response:
    await request.read()
    call_id = str(uuid.uuid4())
    later(request.app, call_id, [call_item(call_id, {"state": "incoming"}, "created")])
    return web.json_response({"id": call_id, "state": "incoming"}, status=201)


async def answer(request: web.Request) -> web.Response:
    await request.json()
    call_id = request.match_info["call_id"]
    states = ("establishing", "established")
    items = [call_item(call_id, {"state": s}) for s in states]
    items.append(call_item(call_id, {"state": "established", "mediaState": {"audio": "active"}}))
    later(request.app, call_id, items)
    return web.Response(status=202)


def operation(kind: str, status: str) -> dict[str, Any]:
    return {"@odata.type": f"#microsoft.graph.{kind}", "id": str(uuid.uuid4()), "status": status}


async def subscribe(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response(operation("subscribeToToneOperation", "completed"))


async def play(request: web.Request) -> web.Response:
    await request.json()
    call_id = request.match_info["call_id"]
    running = operation("playPromptOperation", "running")
    done = {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": "deleted",
        "resourceUrl": f"/communications/calls/{call_id}/operations/{running['id']}",
        "resourceData": {**running, "status": "completed"},
    }
    later(request.app, call_id, [done])
    return web.json_response(running)


async def tones(request: web.Request) -> web.Response:
    await request.json()
    call_id = request.match_info["call_id"]
    info = {"@odata.type": "#microsoft.graph.toneInfo", "sequenceId": 1, "tone": "tone2"}
    later(request.app, call_id, [call_item(call_id, {"state": "established", "toneInfo": info})])
    return web.json_response({"value": [info]})


async def transfer(request: web.Request) -> web.Response:
    await request.json()
    call_id = request.match_info["call_id"]
    states = ("transferring", "transferAccepted", "terminated")
    later(request.app, call_id, [call_item(call_id, {"state": s}) for s in states])
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
    calls = "/v1.0/communications/calls/{call_id}"
    app.router.add_post("/_mock/calls/incoming", ring)
    app.router.add_post(calls + "/answer", answer)
    app.router.add_post(calls + "/subscribeToTone", subscribe)
    app.router.add_post(calls + "/playPrompt", play)
    app.router.add_post("/_mock/calls/{call_id}/tones", tones)
    app.router.add_post(calls + "/transfer", transfer)
    app.cleanup_ctx.append(session)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=listening, access_log=None)


if __name__ == "__main__":
    main()
