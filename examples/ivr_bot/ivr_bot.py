"""A small real calling bot, the kind mockgraph is for: it answers an incoming call, plays a
menu and listens for a key; "1" transfers the caller to an agent, and if the transfer fails
(Graph puts the call back to established with a 500 resultInfo) it apologises and hangs up.

It knows nothing of mockgraph: point ``graph_url`` at Graph (https://graph.microsoft.com/v1.0,
with a real token) or at mockgraph, and it behaves the same. Run it by hand with
``python examples/ivr_bot/ivr_bot.py GRAPH_URL``; its tests start it inside pytest.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import aiohttp
from aiohttp import web

MENU = "https://bot.example/menu.wav"  # "press 1 for an agent"
SORRY = "https://bot.example/sorry.wav"  # "no agent is free; goodbye"
AGENT = {"identity": {"user": {"id": "agent-1", "displayName": "Agent"}}}
SERVICE_MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}


def prompt(uri: str) -> dict[str, Any]:
    return {"prompts": [{"@odata.type": "#microsoft.graph.mediaPrompt", "mediaInfo": {"uri": uri}}]}


class IvrBot:
    """The bot: a notification endpoint at ``/api/calls`` and a Graph client."""

    def __init__(self, graph_url: str, token: str = "bot-token") -> None:
        self.graph_url = graph_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._menus: set[str] = set()  # calls whose menu was played
        self._transferring: set[str] = set()
        self._goodbyes: set[str] = set()  # the apologies' operations: hang up once they end
        self.url = ""

    @property
    def callback_url(self) -> str:
        return f"{self.url}/api/calls"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``port`` (0: a free one, read back from the socket); returns the URL."""
        app = web.Application()
        app.router.add_post("/api/calls", self._notified)
        self._session = aiohttp.ClientSession(headers=self._headers)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        listening = socket.socket()
        listening.bind((host, port))
        await web.SockSite(self._runner, listening).start()
        self.url = f"http://{host}:{listening.getsockname()[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # --- what Graph tells it -------------------------------------------------------------------

    async def _notified(self, request: web.Request) -> web.Response:
        body = await request.json()
        for item in body.get("value", []):
            await self._on(item)
        return web.Response(status=202)

    async def _on(self, item: dict[str, Any]) -> None:
        url = str(item.get("resourceUrl", ""))
        parts = url.strip("/").split("/")
        if len(parts) < 3 or parts[1] != "calls":
            return
        call_id, data = parts[2], item.get("resourceData") or {}
        if not isinstance(data, dict):  # the roster
            return
        if len(parts) == 5 and parts[3] == "operations":  # an operation ended
            if parts[4] in self._goodbyes and item.get("changeType") == "deleted":
                await self._hang_up(call_id)  # once the apology has been heard
            return
        state = data.get("state")
        if item.get("changeType") == "created" and state == "incoming":
            await self._graph("answer", call_id, {"callbackUri": self.callback_url,
                                                   "acceptedModalities": ["audio"],
                                                   "mediaConfig": SERVICE_MEDIA})  # fmt: skip
        elif "toneInfo" in data:
            if data["toneInfo"].get("tone") == "tone1" and call_id not in self._transferring:
                self._transferring.add(call_id)
                await self._graph("transfer", call_id, {"transferTarget": AGENT})
        elif state == "established" and call_id in self._transferring:
            if (data.get("resultInfo") or {}).get("code", 200) >= 400:  # the transfer failed
                self._transferring.discard(call_id)
                sorry = await self._graph("playPrompt", call_id, prompt(SORRY))
                self._goodbyes.add(str(sorry["id"]))
        elif state == "established" and call_id not in self._menus:
            self._menus.add(call_id)
            await self._graph("subscribeToTone", call_id, {})
            await self._graph("playPrompt", call_id, prompt(MENU))

    # --- what it asks of Graph -----------------------------------------------------------------

    async def _graph(self, action: str, call_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST an action on the call; its answer (an operation), or {} for a 202."""
        assert self._session is not None
        url = f"{self.graph_url}/communications/calls/{call_id}/{action}"
        async with self._session.post(url, json=body) as response:
            response.raise_for_status()
            answer: dict[str, Any] = await response.json() if response.status == 200 else {}
            return answer

    async def _hang_up(self, call_id: str) -> None:
        assert self._session is not None
        async with self._session.delete(f"{self.graph_url}/communications/calls/{call_id}") as r:
            r.raise_for_status()


async def main(graph_url: str) -> None:
    bot = IvrBot(graph_url)
    print(f"bot listening on {await bot.start(port=3978)}/api/calls", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await bot.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/v1.0"))
