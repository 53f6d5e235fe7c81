"""``GET /_mock/events``: what happens, as server-sent events, batched.

Three kinds of message, each ``event: NAME`` with JSON ``data``:
- ``reset``: everything was forgotten (``POST /_mock/reset``); ``data`` is ``{}``;
- ``calls``: an array of calls (as ``GET /_mock/calls/{id}`` shows them) that were created or
  changed (state, a held step, a pin, the roster, a running operation) since the last message;
- ``entries``: an array of journal entries (as ``GET /_mock/journal`` shows them) that became
  final since the last message: a request once answered, a notification once delivered,
  failed, rejected, cancelled, skipped or dropped.

Whatever piles up while a message is being written goes in the next one, so a busy server
sends fewer, larger messages instead of falling behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from mockgraph.calling.calls import Call
from mockgraph.http.keys import SERVICE, STREAMS
from mockgraph.journal import Entry

HEARTBEAT = 15.0  # seconds: a comment line, so that proxies keep the stream open


class Feed:
    """What happened since the last message, for one stream."""

    def __init__(self) -> None:
        self._cleared = False
        self._calls: dict[str, Call] = {}
        self._entries: list[Entry] = []
        self.ready = asyncio.Event()

    def call_changed(self, call: Call) -> None:
        self._calls[call.id] = call
        self.ready.set()

    def calls_cleared(self) -> None:
        # What was pending belongs to the calls just forgotten.
        self._cleared = True
        self._calls.clear()
        self._entries.clear()
        self.ready.set()

    def entry_final(self, entry: Entry) -> None:
        self._entries.append(entry)
        self.ready.set()

    def take(self) -> list[tuple[str, Any]]:
        """The messages to write now, in the order they happened in, and empty the feed."""
        messages: list[tuple[str, Any]] = []
        if self._cleared:
            messages.append(("reset", {}))
        if self._calls:
            messages.append(("calls", [call.to_json() for call in self._calls.values()]))
        if self._entries:
            messages.append(("entries", [entry.to_json() for entry in self._entries]))
        self._cleared, self._calls, self._entries = False, {}, []
        self.ready.clear()
        return messages


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream at once, rather than wait out the grace period."""
    streams: set[asyncio.Task[None]] = app[STREAMS]
    for task in list(streams):
        task.cancel()


async def events(request: web.Request) -> web.StreamResponse:
    """What happens, as server-sent events (`text/event-stream`): a `: mockgraph events` comment
    once the stream is open, then messages of three kinds, each `event: NAME` with JSON `data`.
    `calls`: an array of calls (as `GET /_mock/calls/{id}` shows them) created or changed
    (state, a held step, a pin, the roster, a running operation, the scenario played) since the
    last message. `entries`: an array of journal entries (as `GET /_mock/journal` shows them)
    that became final since the last message: a request once answered, a notification once
    delivered, failed, rejected, cancelled, skipped or dropped. `reset`: `{}`, everything was
    forgotten. What piles up while one message is written goes in the next, so a busy server
    sends fewer, larger messages; a `: heartbeat` comment every 15 s keeps proxies from closing
    it. `curl -N http://127.0.0.1:8080/_mock/events` shows it."""
    task = asyncio.current_task()
    assert task is not None
    request.app[STREAMS].add(task)
    feed = Feed()
    unwatch = request.app[SERVICE].watch(feed)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await response.prepare(request)
        await response.write(b": mockgraph events\n\n")  # the stream is open: clients may start
        while True:
            try:
                await asyncio.wait_for(feed.ready.wait(), HEARTBEAT)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            for name, data in feed.take():
                text = json.dumps(data, default=str)
                await response.write(f"event: {name}\ndata: {text}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away, or the server stops
    finally:
        request.app[STREAMS].discard(task)
        unwatch()
        with contextlib.suppress(Exception):
            await response.write_eof()
    return response
