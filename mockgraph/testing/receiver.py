"""A bot's notification endpoint for tests: records what mockgraph POSTs to it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockgraph.listening import AppServer


@dataclass(frozen=True)
class Received:
    """One POST the bot received."""

    path: str
    headers: dict[str, str]
    body: Any

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """The ``commsNotification`` items in the body's ``value``."""
        value = self.body.get("value", []) if isinstance(self.body, dict) else []
        return [item for item in value if isinstance(item, dict)]

    @property
    def call_id(self) -> str:
        """The call the first notification is about (from its ``resourceUrl``)."""
        return str(self.notifications[0]["resourceUrl"]).rsplit("/", 1)[-1]


class BotReceiver(AppServer):
    """Listens on 127.0.0.1, port 0, and answers every POST with ``status`` (202 by default).

    ``async with BotReceiver() as bot: bot.callback_url``; ``close()`` is safe to call twice.
    """

    def __init__(self, path: str = "/api/calls", status: int = 202) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        super().__init__(app)
        self.path = path
        self.status = status
        self.received: list[Received] = []
        self._changed = asyncio.Condition()

    @property
    def callback_url(self) -> str:
        """The notification URL to give mockgraph for this bot."""
        return self.url + self.path

    def for_call(self, call_id: str) -> list[Received]:
        return [r for r in self.received if r.notifications and r.call_id == call_id]

    async def wait_for(self, count: int, *, call_id: str | None = None, timeout: float = 5) -> None:
        """Wait until ``count`` POSTs (for ``call_id``, if given) have arrived."""

        def enough() -> bool:
            found = self.received if call_id is None else self.for_call(call_id)
            return len(found) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), timeout)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        self.received.append(Received(request.path, dict(request.headers), body))
        async with self._changed:
            self._changed.notify_all()
        return web.Response(status=self.status)
