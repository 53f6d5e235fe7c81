"""Timing, with the clock in the test's hands: ring time-outs and the time scale, jitter from a
seeded generator, and retry back-off. Nothing here sleeps."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mockgraph.calling.operations import TRANSFER
from mockgraph.calling.service import CallingService
from mockgraph.clock import ManualClock
from mockgraph.config import Settings
from mockgraph.http.listening import AppServer
from mockgraph.scenarios.loader import load_library
from mockgraph.testing import BotReceiver, MockGraph, Reply
from tests.conftest import AUTH, BLIND

MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def state(graph: MockGraph, call_id: str) -> str:
    return str((await graph.call(call_id))["state"])


@pytest.mark.parametrize("scale, deadline", [(0, 15.0), (1, 15.0), (2, 30.0), (0.1, 1.5)])
async def test_the_ring_time_out_is_a_deadline_the_time_scale_stretches_but_never_zeroes(
    clock: ManualClock, scale: float, deadline: float
) -> None:
    async with MockGraph(clock=clock, time_scale=scale) as graph, BotReceiver() as bot:
        call = await graph.ring(callback_uri=bot.callback_url)
        await clock.advance(deadline - 0.01)
        assert await state(graph, call["id"]) == "incoming"
        await clock.advance(0.02)
        assert (await graph.wait_for_state(call["id"], "terminated"))["state"] == "terminated"


async def test_an_answered_call_does_not_time_out(clock: ManualClock) -> None:
    async with MockGraph(clock=clock, time_scale=0) as graph, BotReceiver() as bot:
        call = await graph.ring(callback_uri=bot.callback_url, timeout=15)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/answer"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"mediaConfig": MEDIA}, headers=AUTH) as response,
        ):
            assert response.status == 202
        await graph.wait_for_state(call["id"], "established")
        await clock.advance(60)  # well past the ring time-out
        assert await state(graph, call["id"]) == "established"
        # The ring time-out fired and found the call answered; what waits is keepAlive's 45
        # minutes, which every call that is not over has (call-keepalive.md).
        assert clock.pending == 1


@pytest.fixture
async def service(clock: ManualClock) -> AsyncIterator[CallingService]:
    settings = Settings(callback_url="http://127.0.0.1:9/cb", grace_period=0)
    calling = CallingService(load_library([]), settings, clock=clock)
    await calling.start()
    yield calling
    await calling.close()


JITTERY = (
    "name: jittery\noperation: transfer\nsteps:\n"
    "  - {after: 100ms, jitter: 50ms,\n"
    "     notify: {changeType: updated, resourceData: {state: transferring}}}\n"
)


async def test_jitter_moves_a_step_by_the_seeded_draw(service: CallingService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    offset = random.Random(0).uniform(-0.05, 0.05)  # what ManualClock(seed=0) draws first
    assert abs(offset) > 0.01, "pick a seed whose draw is far from 0, or the test proves nothing"
    due = 0.1 + offset
    service.control.load_scenarios(JITTERY)
    service.control.seed_call({"id": "c-1"})
    service.control.pin_scenario("c-1", {"name": "jittery"})
    service.graph.perform(TRANSFER, "v1.0", "c-1", BLIND)

    await clock.advance(due - 0.002)
    assert service.control.journal("c-1")["value"] == []
    await clock.advance(0.004)
    [record] = service.control.journal("c-1")["value"]
    assert record["lateMs"] == 0  # it went out at its (jittered) time, not at the advance's end


async def test_retries_back_off_on_the_clock(clock: ManualClock) -> None:
    async with (
        MockGraph(clock=clock, time_scale=0, retry_backoff=1.0) as graph,
        BotReceiver() as bot,
    ):
        bot.reply_with(Reply(503), Reply(503))
        call = await graph.seed_call(callback_uri=bot.callback_url)
        graph.backend.signing.prepare()  # the key, made now
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{graph.graph_url()}/communications/calls/{call['id']}/transfer",
                json=BLIND,
                headers=AUTH,
            ) as response,
        ):
            assert response.status == 202
        assert await attempts(graph, call["id"]) == 1
        await clock.advance(0.99)
        assert await attempts(graph, call["id"]) == 1  # the first retry waits 1 s of the clock
        await clock.advance(0.02)
        assert await attempts(graph, call["id"]) == 2
        await clock.advance(1.98)
        assert await attempts(graph, call["id"]) == 2  # the second waits 2 s
        await clock.advance(0.04)
        assert await attempts(graph, call["id"]) == 3
        await bot.wait_for(3, call_id=call["id"])


async def attempts(graph: MockGraph, call_id: str) -> int:
    """Delivery attempts of the call's first notification (each is journaled as it starts)."""
    first = next(e for e in await graph.journal(call_id) if e["kind"] == "notification")
    return len(first["attempts"])


def test_random_seed_makes_jitter_repeatable() -> None:
    def draws(env: dict[str, str]) -> list[float]:
        settings = Settings.from_env(env)
        clock = CallingService(load_library([]), settings).clock
        return [clock.random.uniform(-1, 1) for _ in range(3)]

    assert draws({"MOCKGRAPH_RANDOM_SEED": "7"}) == draws({"MOCKGRAPH_RANDOM_SEED": "7"})
    assert draws({"MOCKGRAPH_RANDOM_SEED": "7"}) != draws({"MOCKGRAPH_RANDOM_SEED": "8"})
    with pytest.raises(ValueError, match="MOCKGRAPH_RANDOM_SEED: must be a whole number"):
        Settings.from_env({"MOCKGRAPH_RANDOM_SEED": "-1"})


class SlowBot:
    """A bot that holds its first answer until the test releases it (a slow handler)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.bodies: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/api/calls", self._handle)
        self.server = AppServer(app)

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        if len(self.bodies) == 1:
            await self.release.wait()
        return web.Response(status=202)


async def test_late_is_when_the_post_went_out_and_state_moves_on_the_plan(
    clock: ManualClock,
) -> None:
    bot = SlowBot()
    async with (
        bot.server,
        MockGraph(clock=clock, callback_url=f"{bot.server.url}/api/calls") as graph,
    ):
        graph.backend.signing.prepare()
        call = await graph.seed_call()
        async with aiohttp.ClientSession() as http:
            url = f"{graph.graph_url()}/communications/calls/{call['id']}"
            async with http.post(f"{url}/transfer", json=BLIND, headers=AUTH) as response:
                assert response.status == 202
            # transfer-success plans its steps at 0.05, 0.15 and 0.25 s; the bot holds the
            # first POST while 10 s pass.
            await clock.advance(0.05)
            await graph.wait_for_notifications(call["id"], 0, timeout=1)
            await clock.advance(9.95)
            # The state moved on the plan: the call ended at 0.25 s, though the bot has
            # heard only of transferring, and that is what the next request sees.
            assert (await graph.call(call["id"]))["state"] == "terminated"
            async with http.get(url, headers=AUTH) as response:
                assert response.status == 404
            assert len(bot.bodies) == 1
            bot.release.set()
            records = await graph.wait_for_notifications(call["id"], 3, timeout=5)
    assert [record["lateMs"] for record in records] == [0, 9850, 9750]
