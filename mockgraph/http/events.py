"""``GET /_mock/events``: the journal as it happens, as server-sent events.

Each message is ``event: entries`` with a JSON array of journal entries (as ``GET
/_mock/journal`` shows them) that became final since the last message: a request once
answered, a notification once delivered, failed, rejected, cancelled, skipped or dropped.
Whatever piles up while a message is being written goes in the next one, so a busy server
sends fewer, larger messages instead of falling behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from mockgraph.http.keys import JOURNAL, STREAMS
from mockgraph.journal import Entry

HEARTBEAT = 15.0  # seconds: a comment line, so that proxies keep the stream open


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream at once, rather than wait out the grace period."""
    streams: set[asyncio.Task[None]] = app[STREAMS]
    for task in list(streams):
        task.cancel()


async def events(request: web.Request) -> web.StreamResponse:
    task = asyncio.current_task()
    assert task is not None
    request.app[STREAMS].add(task)
    queue: asyncio.Queue[Entry] = asyncio.Queue()
    unsubscribe = request.app[JOURNAL].subscribe(queue.put_nowait)
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
                first = await asyncio.wait_for(queue.get(), HEARTBEAT)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            batch = [first]
            while not queue.empty():
                batch.append(queue.get_nowait())
            data = json.dumps([entry.to_json() for entry in batch], default=str)
            await response.write(f"event: entries\ndata: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away, or the server stops
    finally:
        request.app[STREAMS].discard(task)
        unsubscribe()
        with contextlib.suppress(Exception):
            await response.write_eof()
    return response
