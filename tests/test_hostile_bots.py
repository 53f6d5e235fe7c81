"""Hostile bots, over real sockets: each misbehaviour ends in a journaled outcome that says
why, and none holds up another call's notifications."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter, str], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> None:
    """The head and the Content-Length body of one POST."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    await reader.readexactly(length)


@asynccontextmanager
async def hostile(behaviour: Behaviour) -> AsyncIterator[str]:
    """A bot at the URL it yields, doing ``behaviour`` with each connection."""
    handlers: set[asyncio.Task[None]] = set()
    url = ""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await behaviour(reader, writer, url)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            handlers.discard(task)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/calls"
    try:
        yield url
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
    await read_request(reader)
    await asyncio.sleep(3600)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
    await read_request(reader)
    for byte in b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
    while True:
        await read_request(reader)
        size = 100 * 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = bytes(1024 * 1024)
        for _ in range(size // len(chunk)):
            writer.write(chunk)
            await writer.drain()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
    await read_request(reader)
    writer.write(b"\x00\xffthis is not HTTP\r\n\r\n")
    await writer.drain()


async def garbage_at_once(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str
) -> None:
    """Not TLS: bytes that are no ServerHello, before reading anything."""
    writer.write(b"this is no TLS server\r\n\r\n")
    await writer.drain()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nhalf a bo")
    await writer.drain()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # an RST, in the middle of the reply


async def redirect_loop(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str
) -> None:
    while True:
        await read_request(reader)
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {url}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()


async def closes_after_each(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str
) -> None:
    """Keep-alive by the headers, closed at once: the next notification finds it gone."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()


@asynccontextmanager
async def mockgraph(**settings: Any) -> AsyncIterator[MockGraph]:
    options = {
        "time_scale": 0,
        "delivery_timeout": 0.2,
        "delivery_attempts": 2,
        "retry_backoff": 0.01,
        "grace_period": 0,  # a hung delivery does not hold up the server stopping
    }
    async with MockGraph(**{**options, **settings}) as graph:
        yield graph


async def transfer(graph: MockGraph, callback: str, call_id: str = "c") -> None:
    await graph.seed_call(call_id, callback_uri=callback)
    url = f"{graph.graph_url()}/communications/calls/{call_id}/transfer"
    async with aiohttp.ClientSession() as http, http.post(url, json=BLIND, headers=AUTH) as r:
        assert r.status == 202


def errors(record: dict[str, Any]) -> list[str]:
    return [str(attempt.get("error", attempt.get("status"))) for attempt in record["attempts"]]


@pytest.mark.parametrize(
    "behaviour, expected",
    [
        (silent, "no answer within 0.2 s"),
        (trickle, "no answer within 0.2 s"),
        (garbage, "ProtocolError"),
        (reset, "Connection"),
    ],
    ids=["never-answers", "one-byte-a-second", "not-http", "reset-mid-reply"],
)
async def test_a_hostile_bot_is_journaled_with_the_cause(
    behaviour: Behaviour, expected: str
) -> None:
    async with hostile(behaviour) as url, mockgraph() as graph:
        await transfer(graph, url)
        records = await graph.wait_for_notifications("c", 3, timeout=30)
    for record in records:
        assert record["outcome"] == "failed"
        assert len(record["attempts"]) == 2  # retried once, then given up
        assert all(expected in error for error in errors(record)), errors(record)


async def test_a_100_mb_reply_is_read_through_and_forgotten() -> None:
    async with hostile(huge) as url, mockgraph(delivery_timeout=30) as graph:
        await transfer(graph, url)
        records = await graph.wait_for_notifications("c", 3, timeout=60)
    assert [record["outcome"] for record in records] == ["delivered"] * 3


async def test_a_redirect_loop_ends_as_failed() -> None:
    async with hostile(redirect_loop) as url, mockgraph() as graph:
        await transfer(graph, url)
        records = await graph.wait_for_notifications("c", 3, timeout=30)
    for record in records:
        assert (record["outcome"], record["note"]) == ("failed", "too many redirects")
        assert all(attempt.get("redirectedTo") == url for attempt in record["attempts"])


async def test_a_tls_handshake_that_fails_is_journaled() -> None:
    async with hostile(garbage_at_once) as url, mockgraph() as graph:
        await transfer(graph, url.replace("http://", "https://"))
        records = await graph.wait_for_notifications("c", 3, timeout=30)
    for record in records:
        assert record["outcome"] == "failed"
        assert all("SSL" in error or "ssl" in error for error in errors(record)), errors(record)


async def test_a_kept_alive_connection_closed_as_it_is_reused_loses_nothing() -> None:
    async with hostile(closes_after_each) as url, mockgraph(delivery_attempts=1) as graph:
        for index in range(5):
            await transfer(graph, url, f"c{index}")
        for index in range(5):
            records = await graph.wait_for_notifications(f"c{index}", 3, timeout=30)
            assert [record["outcome"] for record in records] == ["delivered"] * 3


async def test_a_hanging_bot_does_not_hold_up_another_calls_notifications() -> None:
    async with (
        hostile(silent) as url,
        BotReceiver() as healthy,
        mockgraph(delivery_timeout=30, time_scale=1) as graph,
    ):
        await transfer(graph, url, "hung")
        await transfer(graph, healthy.callback_url, "healthy")
        delivered = await graph.wait_for_notifications("healthy", 3, timeout=10)
        pending = [
            entry
            for entry in await graph.journal("hung")
            if entry["kind"] == "notification" and entry["outcome"] == "pending"
        ]
        assert pending, "the hung bot's notifications are still waiting for it"
    assert [record["outcome"] for record in delivered] == ["delivered"] * 3
