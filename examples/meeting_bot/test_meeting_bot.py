"""The meeting bot's own tests, on mockgraph's pytest plugin: an organizer's app makes the
meeting, people are in it, the bot is handed the join link; the test moves people in and out
and, once the bot has left, reads the minutes the bot took from Graph's attendance report and
call record. They wait for what happened (the call's state, mockgraph idle), never count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from meeting_bot import MeetingBot

from mockgraph.testing import MockGraphClient

ORGANIZER = "5810cedd-b43a-44a4-a2e8-0ba3a4b85b5e"
OLGA = {"user": {"id": ORGANIZER, "displayName": "Olga"}}
PAT = {"user": {"id": "b8a9b8c0-0000-4000-8000-000000000002", "displayName": "Pat"}}


@pytest.fixture
async def bot(mockgraph: MockGraphClient) -> AsyncIterator[MeetingBot]:
    bot = MeetingBot(mockgraph.graph_url("v1.0"))
    await bot.start()
    yield bot
    await bot.close()


async def new_meeting(mockgraph: MockGraphClient) -> dict[str, Any]:
    """The meeting, as the organizer's app makes it (POST /users/{id}/onlineMeetings)."""
    url = f"{mockgraph.graph_url('v1.0')}/users/{ORGANIZER}/onlineMeetings"
    headers = {"Authorization": "Bearer organizer-app"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"subject": "Planning"}, headers=headers) as answer,
    ):
        assert answer.status == 201
        made: dict[str, Any] = await answer.json()
        return made


async def olgas_meeting_joined(mockgraph: MockGraphClient, bot: MeetingBot) -> dict[str, Any]:
    """Olga's meeting, Olga in it, and the bot joined by its link, established."""
    meeting = await new_meeting(mockgraph)
    await mockgraph.join_meeting(meeting["id"], OLGA)
    await bot.join(meeting["joinWebUrl"])
    await mockgraph.wait_for_state(bot.call_id, "established")
    return meeting


@pytest.mark.mockgraph(time_scale=0)
async def test_the_bot_joins_by_link_and_sees_who_is_there(
    mockgraph: MockGraphClient, bot: MeetingBot
) -> None:
    meeting = await olgas_meeting_joined(mockgraph, bot)
    await mockgraph.wait_idle()
    assert bot.present == {"Olga"}  # she was there before the bot
    await mockgraph.join_meeting(meeting["id"], PAT)
    await mockgraph.wait_idle()
    assert bot.present == {"Olga", "Pat"}
    await mockgraph.leave_meeting(meeting["id"], ORGANIZER)
    await mockgraph.wait_idle()
    assert bot.present == {"Pat"}


@pytest.mark.mockgraph(time_scale=0)
async def test_after_the_meeting_the_bot_reads_attendance_and_the_call_record(
    mockgraph: MockGraphClient, bot: MeetingBot
) -> None:
    meeting = await olgas_meeting_joined(mockgraph, bot)
    await mockgraph.join_meeting(meeting["id"], PAT)
    await bot.leave()
    await mockgraph.wait_for_state(bot.call_id, "terminated")

    minutes = await bot.minutes()

    assert minutes["attended"].keys() == {"Olga", "Pat"}  # people, not the bot
    assert minutes["attended"]["Olga"][0] == "Organizer"
    assert minutes["attended"]["Pat"][0] == "Attendee"
    assert minutes["type"] == "groupCall"
    assert minutes["joinWebUrl"] == meeting["joinWebUrl"]
