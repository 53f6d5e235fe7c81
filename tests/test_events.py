"""GET /_mock/events: calls and the journal as they happen, as server-sent events, batched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND


async def messages(
    response: aiohttp.ClientResponse, until: str, count: int = 1
) -> list[tuple[str, Any]]:
    """The next messages, as (event, data), until ``count`` items of ``until`` have come (an
    array counts its items; anything else counts one)."""
    found: list[tuple[str, Any]] = []
    seen = 0
    async with asyncio.timeout(10):
        event = None
        while seen < count:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert event is not None
                data = json.loads(line.removeprefix("data: "))
                found.append((event, data))
                if event == until:
                    seen += len(data) if isinstance(data, list) else 1
    return found


async def entries(response: aiohttp.ClientResponse, count: int) -> list[list[dict[str, Any]]]:
    """The batches of the next entries messages, until ``count`` entries have come."""
    return [
        data for event, data in await messages(response, "entries", count) if event == "entries"
    ]


async def test_a_transfer_streams_its_request_and_notifications(bot: BotReceiver) -> None:
    async with (
        MockGraph(time_scale=0) as graph,
        aiohttp.ClientSession() as http,
        http.get(f"{graph.url}/_mock/events") as stream,
    ):
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b": mockgraph events\n"  # open: go
        call = await graph.seed_call(callback_uri=bot.callback_url)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        async with http.post(url, json=BLIND, headers=AUTH) as response:
            assert response.status == 202
        batches = await entries(stream, 4)
    flat = [entry for batch in batches for entry in batch]
    assert [(e["kind"], e.get("status") or e.get("outcome")) for e in flat] == [
        ("request", 202),
        ("notification", "delivered"),
        ("notification", "delivered"),
        ("notification", "delivered"),
    ]
    states = [e["body"]["value"][0]["resourceData"]["state"] for e in flat[1:]]
    assert states == ["transferring", "transferAccepted", "terminated"]


async def test_a_stream_does_not_hold_up_the_server_stopping() -> None:
    graph = MockGraph()
    await graph.start()
    async with aiohttp.ClientSession() as http, http.get(f"{graph.url}/_mock/events") as stream:
        await stream.content.readline()
        await graph.close()  # the stream ends with the server, at once
        assert (await stream.content.read()).strip() == b""  # it ended: read() returned


async def test_calls_stream_as_they_change_and_a_reset_says_so(bot: BotReceiver) -> None:
    async with (
        MockGraph(time_scale=0) as graph,
        aiohttp.ClientSession() as http,
        http.get(f"{graph.url}/_mock/events") as stream,
    ):
        await stream.content.readline()
        call = await graph.seed_call(callback_uri=bot.callback_url)  # no journal entry: a call
        seeded = await messages(stream, "calls")
        assert [(event, [c["state"] for c in data]) for event, data in seeded] == [
            ("calls", ["established"])
        ]
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        async with http.post(url, json=BLIND, headers=AUTH) as response:
            assert response.status == 202
        await graph.wait_for_state(call["id"], "terminated")
        seen = await messages(stream, "entries", 4)
        last_call = [data[-1] for event, data in seen if event == "calls"][-1]
        assert last_call["id"] == call["id"] and last_call["state"] == "terminated"
        await graph.reset()
        assert (await messages(stream, "reset")) == [("reset", {})]
