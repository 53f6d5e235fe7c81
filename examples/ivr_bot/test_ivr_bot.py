"""The IVR bot's own tests, on mockgraph's pytest plugin: the bot runs inside pytest on a free
port, mockgraph (in-process, reset before each test) rings it, and the tests wait for what
happened (the call's state, mockgraph idle) instead of counting notifications.

``wait_idle`` is "the conversation has settled": mockgraph is idle once every notification has
been delivered, and this bot makes its requests before it answers a notification, so by then
it has reacted to all of them (and mockgraph to its requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from ivr_bot import AGENT, MENU, SORRY, IvrBot

from mockgraph.testing import MockGraphClient


@pytest.fixture
async def bot(mockgraph: MockGraphClient) -> AsyncIterator[IvrBot]:
    bot = IvrBot(mockgraph.graph_url("v1.0"))
    await bot.start()
    yield bot
    await bot.close()


async def requests(mockgraph: MockGraphClient, call_id: str) -> list[tuple[str, str, Any]]:
    """What the bot asked of Graph about the call: (method, action, body)."""
    return [
        (entry["method"], entry["path"].rsplit("/", 1)[-1], entry["body"])
        for entry in await mockgraph.journal(call_id)
        if entry["kind"] == "request"
    ]


@pytest.mark.mockgraph(time_scale=0)
async def test_the_menu_plays_and_key_1_transfers_to_an_agent(
    mockgraph: MockGraphClient, bot: IvrBot
) -> None:
    call = await mockgraph.ring(callback_uri=bot.callback_url)
    await mockgraph.wait_idle()  # answered, established, menu played
    operations = await mockgraph.operations(call["id"])
    [menu] = [op for op in operations if op["action"] == "playPrompt"]
    assert menu["operation"]["status"] == "completed"
    await mockgraph.press_tones(call["id"], "1")
    ended = await mockgraph.wait_for_state(call["id"], "terminated")  # transferred away
    assert ended["call"]["resultInfo"]["subcode"] == 7015  # GracefulTransferCompleted
    asked = await requests(mockgraph, call["id"])
    assert [action for _, action, _ in asked] == [
        "answer",
        "subscribeToTone",
        "playPrompt",
        "transfer",
    ]
    assert asked[2][2]["prompts"][0]["mediaInfo"]["uri"] == MENU
    assert asked[3][2] == {"transferTarget": AGENT}


@pytest.mark.mockgraph(time_scale=0)
async def test_a_failed_transfer_apologises_then_hangs_up(
    mockgraph: MockGraphClient, bot: IvrBot
) -> None:
    call = await mockgraph.ring(callback_uri=bot.callback_url)
    await mockgraph.pin_scenario(call["id"], "transfer-failure-7000")  # Graph fails it
    await mockgraph.wait_idle()
    await mockgraph.press_tones(call["id"], "1")
    await mockgraph.wait_for_state(call["id"], "terminated")  # the bot hung up
    asked = await requests(mockgraph, call["id"])
    assert [(method, action) for method, action, _ in asked][-3:] == [
        ("POST", "transfer"),
        ("POST", "playPrompt"),
        ("DELETE", call["id"]),
    ]
    assert asked[-2][2]["prompts"][0]["mediaInfo"]["uri"] == SORRY
