"""Fixtures: a real mockgraph and a real bot receiver, both on loopback, per test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent
AUTH = {"Authorization": "Bearer test-token", "Content-Type": "application/json"}
BLIND = {"transferTarget": {"endpointType": "default", "identity": {"user": {"id": "u-target"}}}}


@pytest.fixture
async def bot() -> AsyncIterator[BotReceiver]:
    async with BotReceiver() as receiver:
        yield receiver


@pytest.fixture
async def graph() -> AsyncIterator[MockGraph]:
    # Short retry pauses keep failure tests quick; tests of retries set their own.
    async with MockGraph(scenarios=[TESTS / "scenarios"], retry_backoff=0.01) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Driver:
    """Speaks HTTP to mockgraph the way a bot and a test do."""

    def __init__(self, graph: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession) -> None:
        self.graph, self.bot, self.http = graph, bot, http

    async def seed(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("callbackUri", self.bot.callback_url)
        async with self.http.post(f"{self.graph.url}/_mock/calls", json=spec) as response:
            assert response.status == 201, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    async def transfer(
        self,
        call_id: str,
        body: Any = None,
        *,
        version: str = "v1.0",
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        url = self.graph.url + (path or f"/{version}/communications/calls/{call_id}/transfer")
        data = (
            body if isinstance(body, str | bytes) else json.dumps(BLIND if body is None else body)
        )
        async with self.http.post(
            url, data=data, headers=AUTH if headers is None else headers
        ) as r:
            text = await r.text()
            return r.status, dict(r.headers), (json.loads(text) if text else None)

    async def pin(self, call_id: str, name: str | None) -> int:
        url = f"{self.graph.url}/_mock/calls/{call_id}/scenario"
        async with self.http.put(url, json={"name": name}) as response:
            return response.status

    async def get(self, path: str) -> Any:
        async with self.http.get(self.graph.url + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def notifications(self, call_id: str, count: int) -> list[dict[str, Any]]:
        """Wait for ``count`` POSTs about ``call_id``; return their notification items."""
        await self.bot.wait_for(count, call_id=call_id)
        await self.graph.backend.wait_idle()
        return [item for r in self.bot.for_call(call_id) for item in r.notifications]


@pytest.fixture
def driver(graph: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession) -> Driver:
    return Driver(graph, bot, http)
