"""Delivery: ordered per call, concurrent across calls, and nothing lost when the bot fails."""

from __future__ import annotations

import asyncio

from mockgraph.testing import BotReceiver
from tests.conftest import Driver


async def test_bot_that_is_down_is_journaled_and_the_server_keeps_working(driver: Driver) -> None:
    async with BotReceiver() as gone:
        down_url = gone.callback_url
    call = await driver.seed(callbackUri=down_url)

    status, _, _ = await driver.transfer(call["id"])
    await driver.graph.backend.wait_idle()

    notes = [
        e
        for e in (await driver.get(f"/_mock/journal?callId={call['id']}"))["value"]
        if e["kind"] == "notification"
    ]
    assert status == 202
    assert [n["outcome"] for n in notes] == ["failed", "failed", "failed"]
    assert all("error" in n["attempts"][0] for n in notes)
    assert "ConnectError: cannot connect to 127.0.0.1" in notes[0]["attempts"][0]["error"]
    # the call still moved on: Graph's truth does not wait for the bot
    assert (await driver.get(f"/_mock/calls/{call['id']}"))["state"] == "terminated"
    assert await driver.get("/_mock/health") == {"status": "ok"}


async def test_bot_answering_500_is_journaled_as_failed_with_the_status(driver: Driver) -> None:
    driver.bot.status = 500
    call = await driver.seed()
    await driver.transfer(call["id"])
    await driver.notifications(call["id"], 3)

    notes = [
        e
        for e in (await driver.get(f"/_mock/journal?callId={call['id']}"))["value"]
        if e["kind"] == "notification"
    ]
    assert [(n["outcome"], n["attempts"][0]["status"]) for n in notes] == [("failed", 500)] * 3


async def test_200_concurrent_transfers_each_arrive_in_order_none_lost_or_doubled(
    driver: Driver,
) -> None:
    calls = await asyncio.gather(*(driver.seed() for _ in range(200)))
    results = await asyncio.gather(*(driver.transfer(call["id"]) for call in calls))
    assert [status for status, _, _ in results] == [202] * 200

    await driver.bot.wait_for(600, timeout=30)
    await driver.graph.backend.wait_idle()

    assert len(driver.bot.received) == 600
    for call in calls:
        states = [
            r.notifications[0]["resourceData"]["state"] for r in driver.bot.for_call(call["id"])
        ]
        assert states == ["transferring", "transferAccepted", "terminated"], call["id"]
