"""The far side of a call acts: it hangs up (POST /_mock/calls/{id}/hangup), over HTTP to a
real bot receiver. Expectations come from a captured P2P hang-up (graph-real-traffic-facts.md
§3.4: deleted, terminated, 200/5002 with its DiagCode) and call-delete's end-reason table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from mockgraph.clock import ManualClock
from mockgraph.testing import BotReceiver, MockGraph, MockGraphError
from tests.conftest import AUTH, BLIND
from tests.test_media import PROMPT, post

CAPTURED = {
    "@odata.type": "#microsoft.graph.resultInfo",
    "code": 200,
    "subcode": 5002,
    "message": "The conversation has ended. DiagCode: 0#5002.@",
}


@pytest.fixture
async def fast(bot: BotReceiver) -> AsyncIterator[MockGraph]:
    async with MockGraph(time_scale=0, callback_url=bot.callback_url) as graph:
        yield graph


def only_item(bot: BotReceiver, index: int = -1) -> dict[str, Any]:
    [item] = bot.received[index].notifications
    return item


async def test_a_hang_up_ends_the_call_as_graph_tells_the_bot(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    call = await fast.hang_up("c")
    assert call["state"] == "terminated"
    await bot.wait_for(1)
    item = only_item(bot)
    assert item["changeType"] == "deleted"
    assert item["resourceUrl"] == "/communications/calls/c"
    assert item["resourceData"]["state"] == "terminated"
    assert item["resourceData"]["resultInfo"] == CAPTURED
    # Graph no longer knows the call: what the bot tries next is 8522.
    status, _, error = await post(http, fast, "c/transfer", BLIND)
    assert (status, error["error"]["code"]) == (404, "8522")
    with pytest.raises(MockGraphError) as raised:
        await fast.hang_up("c")
    assert (raised.value.status, raised.value.code) == (404, "8522")


async def test_a_hang_up_sends_the_result_a_test_gives(fast: MockGraph, bot: BotReceiver) -> None:
    await fast.seed_call("c")
    await fast.hang_up("c", 410, 301005, "Media connectivity failure.")
    await bot.wait_for(1)
    result = only_item(bot)["resourceData"]["resultInfo"]
    assert (result["code"], result["subcode"], result["message"]) == (
        410,
        301005,
        "Media connectivity failure.",
    )


@pytest.mark.parametrize(
    "body, named",
    [({"subcode": 5010}, "'code'"), ({"code": "200"}, "'code'"), ({"reason": 1}, "'reason'")],
)
async def test_a_bad_hang_up_is_a_400_and_ends_nothing(
    fast: MockGraph, http: aiohttp.ClientSession, body: dict[str, Any], named: str
) -> None:
    await fast.seed_call("c")
    async with http.post(f"{fast.url}/_mock/calls/c/hangup", json=body) as response:
        assert response.status == 400
        assert named in (await response.json())["error"]["message"]
    assert (await fast.call("c"))["state"] == "established"


async def test_a_hang_up_during_a_prompt_ends_it_without_its_own_notification(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    """Public logs show no completion for a prompt or recording whose call the caller ended
    (graph-faults-facts.md §6); mockgraph sends none, and journals why."""
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        status, _, operation = await post(http, graph, "c/playPrompt", {"prompts": [PROMPT]})
        assert status == 200 and operation["status"] == "running"
        await graph.hang_up("c")
        await clock.advance(5)  # the prompt would have completed after 1 s
        await graph.wait_idle()
        assert [item["changeType"] for r in bot.received for item in r.notifications] == ["deleted"]
        assert only_item(bot)["resourceData"]["state"] == "terminated"
        journal = await graph.journal("c")
        notes = [e for e in journal if e["kind"] == "notification"]
        cancelled = [e for e in notes if e["outcome"] == "cancelled"]
        assert cancelled and "hung up by the far side" in cancelled[0]["note"]


async def test_a_hang_up_during_a_transfer_cuts_it_short(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        status, _, _ = await post(http, graph, "c/transfer", BLIND)
        assert status == 202
        await graph.hang_up("c")
        await clock.advance(10)
        await graph.wait_idle()
        states = [
            item["resourceData"].get("state") for r in bot.received for item in r.notifications
        ]
        assert states[-1] == "terminated"
        assert "transferAccepted" not in states
        result = only_item(bot)["resourceData"]["resultInfo"]
        assert (result["code"], result["subcode"]) == (200, 5002)


async def test_the_caller_can_hang_up_while_the_bot_is_still_ringing(
    fast: MockGraph, bot: BotReceiver
) -> None:
    rung = await fast.ring()
    await bot.wait_for(1)  # created
    await fast.hang_up(rung["id"])
    await bot.wait_for(2)
    assert only_item(bot)["changeType"] == "deleted"
    assert (await fast.call(rung["id"]))["state"] == "terminated"


async def test_a_hang_up_of_a_call_mockgraph_does_not_know_is_8522(
    http: aiohttp.ClientSession, fast: MockGraph
) -> None:
    async with http.post(f"{fast.url}/_mock/calls/nope/hangup", headers=AUTH) as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "8522"


# --- keepAlive expiry: call-keepalive.md ("at least once every 45 minutes", 404 once ended)
# and call-delete's end-reason table (408/8537, "keep-alive timeout").

KEEP_ALIVE_MINUTES = 45 * 60


async def keep_alive(http: aiohttp.ClientSession, graph: MockGraph, call_id: str) -> int:
    url = f"{graph.graph_url()}/communications/calls/{call_id}/keepAlive"
    async with http.post(url, headers=AUTH) as response:
        return response.status


@pytest.mark.parametrize("scale", [1.0, 0.01])
async def test_a_call_not_kept_alive_for_45_minutes_ends_with_408_8537(
    bot: BotReceiver, scale: float
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, time_scale=scale, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        await clock.advance(KEEP_ALIVE_MINUTES * scale - 1)
        assert (await graph.call("c"))["state"] == "established"
        await clock.advance(2)
        await graph.wait_idle()
        item = only_item(bot)
        assert (item["changeType"], item["resourceData"]["state"]) == ("deleted", "terminated")
        result = item["resourceData"]["resultInfo"]
        assert (result["code"], result["subcode"]) == (408, 8537)
        assert (await graph.call("c"))["state"] == "terminated"
        assert clock.pending == 0  # an ended call leaves no timer behind


async def test_each_keep_alive_gives_the_call_another_45_minutes(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        for _ in range(3):  # every 30 minutes, as a bot that follows the advice (15) would
            await clock.advance(30 * 60)
            assert await keep_alive(http, graph, "c") == 200
        await clock.advance(KEEP_ALIVE_MINUTES - 1)  # 44:59 after the last keepAlive
        assert (await graph.call("c"))["state"] == "established"
        assert bot.received == []
        await clock.advance(2)
        await graph.wait_idle()
        assert only_item(bot)["resourceData"]["resultInfo"]["subcode"] == 8537
        assert await keep_alive(http, graph, "c") == 404  # "404 Not Found" once it ended


async def test_the_keep_alive_timeout_is_a_flag_and_0_turns_it_off(bot: BotReceiver) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, keepalive_timeout=60, callback_url=bot.callback_url) as graph:
        await graph.seed_call("short")
        await clock.advance(61)
        await graph.wait_idle()
        assert (await graph.call("short"))["state"] == "terminated"
    async with MockGraph(clock=clock, keepalive_timeout=0, callback_url=bot.callback_url) as graph:
        await graph.seed_call("forever")
        await clock.advance(10 * KEEP_ALIVE_MINUTES)
        assert (await graph.call("forever"))["state"] == "established"
        assert clock.pending == 0


async def test_a_call_that_expires_mid_transfer_stops_the_transfer(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, keepalive_timeout=60, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        await clock.advance(59.9)  # transferring goes out at 59.95, transferAccepted at 60.05
        status, _, _ = await post(http, graph, "c/transfer", BLIND)
        assert status == 202
        await clock.advance(10)
        await graph.wait_idle()
        states = [
            item["resourceData"].get("state") for r in bot.received for item in r.notifications
        ]
        assert states[-1] == "terminated" and "transferAccepted" not in states
        assert only_item(bot)["resourceData"]["resultInfo"]["subcode"] == 8537


async def test_the_calls_let_go_past_the_limit_take_their_timers_with_them(
    bot: BotReceiver,
) -> None:
    """A long run holds keepAlive timers for calls not over, and at most --calls-limit more."""
    clock = ManualClock()
    async with MockGraph(
        clock=clock, calls_limit=10, time_scale=0, callback_url=bot.callback_url
    ) as graph:
        for n in range(30):
            await graph.seed_call(f"c{n}")
            await graph.hang_up(f"c{n}")
        assert len(await graph.calls()) <= 10  # the rest were let go
        assert clock.pending <= 10


async def test_a_reset_forgets_the_calls_keep_alive_deadlines(bot: BotReceiver) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        assert clock.pending == 1
        await graph.reset()
        assert clock.pending == 0


# --- media failure and a meeting its organiser ends (graph-faults-facts.md §8) ---------------


async def test_a_media_failure_ends_the_call_with_410_301005(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    call = await fast.fail_media("c")
    assert call["state"] == "terminated"
    await bot.wait_for(1)
    item = only_item(bot)
    assert (item["changeType"], item["resourceData"]["state"]) == ("deleted", "terminated")
    result = item["resourceData"]["resultInfo"]
    assert (result["code"], result["subcode"]) == (410, 301005)
    with pytest.raises(MockGraphError) as raised:
        await fast.fail_media("c")
    assert (raised.value.status, raised.value.code) == (404, "8522")


async def test_a_media_failure_takes_no_body(fast: MockGraph, http: aiohttp.ClientSession) -> None:
    await fast.seed_call("c")
    url = f"{fast.url}/_mock/calls/c/mediaFailure"
    async with http.post(url, json={"code": 500, "subcode": 1005}) as response:
        assert response.status == 400
        assert "hangup" in (await response.json())["error"]["message"]
    assert (await fast.call("c"))["state"] == "established"


MEETING = {
    "chatInfo": {"threadId": "19:meeting_x@thread.v2", "messageId": "0"},
    "meetingInfo": {
        "@odata.type": "#microsoft.graph.organizerMeetingInfo",
        "organizer": {"user": {"id": "organizer"}},
    },
}


async def test_a_meeting_its_organiser_ends_leaves_the_bot_alone_and_its_call_up(
    fast: MockGraph, bot: BotReceiver
) -> None:
    """A capture (comms-samples#77): only a roster update, and no deleted for the call."""
    await fast.seed_call("m", chat_info=MEETING["chatInfo"], meeting_info=MEETING["meetingInfo"])
    for person in ("alice", "bob"):
        await fast.add_participant("m", {"user": {"id": person, "displayName": person}})
    await bot.wait_for(2)
    call = await fast.end_meeting("m")
    assert call["state"] == "established"
    await bot.wait_for(3)
    await fast.wait_idle()
    item = only_item(bot)
    assert item["changeType"] == "updated"
    assert item["resourceUrl"] == "/communications/calls/m/participants"
    [left] = item["resourceData"]
    assert "application" in left["info"]["identity"]  # the bot, alone
    assert len(bot.received) == 3  # no deleted follows


async def test_only_a_meeting_can_be_ended(fast: MockGraph) -> None:
    await fast.seed_call("p2p")
    with pytest.raises(MockGraphError) as raised:
        await fast.end_meeting("p2p")
    assert raised.value.status == 400
    assert "group calls" in str(raised.value)


# --- the far side acts from a scenario step ---------------------------------------------------

CALLER_HANGS_UP_MID_PROMPT = """
name: caller-hangs-up-mid-prompt
operation: playPrompt
steps:
  - after: 500ms
    farSide: hangUp
  - after: 500ms
    about: operation
    notify: {changeType: deleted, resourceData: {status: completed}}
"""


async def test_a_scenario_step_can_make_the_caller_hang_up(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.load_scenarios(CALLER_HANGS_UP_MID_PROMPT)
        await graph.seed_call("c")
        await graph.pin_scenario("c", "caller-hangs-up-mid-prompt")
        status, _, _ = await post(http, graph, "c/playPrompt", {"prompts": [PROMPT]})
        assert status == 200
        await clock.advance(0.4)
        assert bot.received == []
        await clock.advance(2)
        await graph.wait_idle()
        # What the hang-up sends, and not the prompt's completion that was to follow.
        assert [item["changeType"] for r in bot.received for item in r.notifications] == ["deleted"]
        assert only_item(bot)["resourceData"]["resultInfo"] == CAPTURED
        journal = await graph.journal("c")
        notes = [e for e in journal if e["kind"] == "notification"]
        outcomes = [(e["scenario"], e["step"], e["outcome"]) for e in notes]
        assert ("caller-hangs-up-mid-prompt", 2, "cancelled") in outcomes
        assert ("hang-up", 1, "delivered") in outcomes


async def test_a_far_side_step_due_at_once_ends_its_scenario_there(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(
        "name: media-fails-mid-transfer\noperation: transfer\nsteps:\n"
        "  - notify: {changeType: updated, resourceData: {state: transferring}}\n"
        "  - farSide: mediaFailure\n"
        "  - notify: {changeType: updated, resourceData: {state: transferAccepted}}\n"
    )
    await fast.seed_call("c")
    await fast.pin_scenario("c", "media-fails-mid-transfer")
    status, _, _ = await post(http, fast, "c/transfer", BLIND)
    assert status == 202
    await bot.wait_for(2)
    await fast.wait_idle()
    states = [item["resourceData"].get("state") for r in bot.received for item in r.notifications]
    assert states == ["transferring", "terminated"]
    assert only_item(bot)["resourceData"]["resultInfo"]["subcode"] == 301005


async def test_a_far_side_step_that_cannot_happen_is_skipped_and_journaled(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(
        "name: meeting-ends-on-transfer\noperation: transfer\nsteps:\n  - farSide: meetingEnded\n"
    )
    await fast.seed_call("p2p")
    await fast.pin_scenario("p2p", "meeting-ends-on-transfer")
    status, _, _ = await post(http, fast, "p2p/transfer", BLIND)
    assert status == 202
    await fast.wait_idle()
    [skipped] = [e for e in await fast.journal("p2p") if e.get("outcome") == "skipped"]
    assert skipped["body"] == {"farSide": "meetingEnded"}
    assert "group calls" in skipped["note"]
    assert (await fast.call("p2p"))["state"] == "established"
