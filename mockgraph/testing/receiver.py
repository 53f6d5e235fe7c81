"""A bot's notification endpoint for tests: records what mockgraph POSTs to it."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mockgraph.http.listening import AppServer, tls_context
from mockgraph.http.local_tls import TlsFiles
from mockgraph.ids import named_call

POLL_INTERVAL = 0.005  # seconds


@dataclass(frozen=True)
class Reply:
    """How the bot answers one POST."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True)
class Received:
    """One POST the bot received."""

    path: str
    headers: dict[str, str]
    body: Any
    at: float = 0.0  # time.monotonic() when it arrived

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """The ``commsNotification`` items in the body's ``value``."""
        value = self.body.get("value", []) if isinstance(self.body, dict) else []
        return [item for item in value if isinstance(item, dict)]

    @property
    def call_id(self) -> str:
        """The call the first notification is about (from its ``resourceUrl``, which may
        name one of the call's operations or its participants)."""
        url = str(self.notifications[0]["resourceUrl"])
        named = named_call(url)
        return named[0] if named else url.rsplit("/", 1)[-1]


class BotReceiver(AppServer):
    """Listens on 127.0.0.1, port 0, and answers every POST with ``status`` (202 by default),
    or with the replies queued by ``reply_with`` first.

    A POST with a ``validationToken`` (a subscription's handshake) is answered as a webhook
    should answer it, with the token as ``text/plain`` (``echo_validation=False``: like any
    other POST), and kept in ``validations``. ``tls``: serve https with these files (e.g.
    ``local_tls(folder, "127.0.0.1")``: mockgraph trusts its local authority).

    ``async with BotReceiver() as bot: bot.callback_url``; ``close()`` is safe to call twice.
    """

    def __init__(
        self,
        path: str = "/api/calls",
        status: int = 202,
        *,
        tls: TlsFiles | None = None,
        echo_validation: bool = True,
    ) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        context = tls_context(tls.cert, tls.key) if tls is not None else None
        super().__init__(app, ssl_context=context)
        self.path = path
        self.status = status
        self.echo_validation = echo_validation
        self.received: list[Received] = []
        self.validations: list[str] = []  # the tokens of the handshakes, decoded
        self._replies: deque[Reply] = deque()

    def reply_with(self, *replies: Reply) -> None:
        """Answer the next POSTs with these, in order; then with ``status`` again."""
        self._replies.extend(replies)

    @property
    def callback_url(self) -> str:
        """The notification URL to give mockgraph for this bot."""
        return self.url + self.path

    def for_call(self, call_id: str) -> list[Received]:
        return [r for r in self.received if r.notifications and r.call_id == call_id]

    def _count(self, call_id: str | None) -> int:
        return len(self.received if call_id is None else self.for_call(call_id))

    async def wait_for(self, count: int, *, call_id: str | None = None, timeout: float = 5) -> None:
        """Wait until ``count`` POSTs (about ``call_id``, if given) have arrived.

        It polls, so it works from any event loop, whichever loop the receiver runs on."""
        async with asyncio.timeout(timeout):
            while self._count(call_id) < count:  # noqa: ASYNC110 (an Event is bound to one loop)
                await asyncio.sleep(POLL_INTERVAL)

    def wait_for_sync(self, count: int, *, call_id: str | None = None, timeout: float = 5) -> None:
        """``wait_for`` for code that is not async."""
        deadline = time.monotonic() + timeout
        while self._count(call_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self._count(call_id)} of {count} POSTs after {timeout} s")
            time.sleep(POLL_INTERVAL)

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.query.get("validationToken")
        if token is not None and self.echo_validation:
            self.validations.append(token)
            return web.Response(text=token, content_type="text/plain")
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        self.received.append(
            Received(request.path, dict(request.headers), body, at=time.monotonic())
        )
        reply = self._replies.popleft() if self._replies else Reply(self.status)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, headers=reply.headers)
