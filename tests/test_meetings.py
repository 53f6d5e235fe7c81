"""Online meetings over HTTP, driven by msgraph-sdk's own request builders: create,
createOrGet, find by join URL and by join id, get, update and delete under
/users/{userId}/onlineMeetings (graph-beyond-calls-facts.md §1), Graph's statuses, and a bot
joining the meeting it found with the chatInfo and organizer the meeting gives."""

from __future__ import annotations

import datetime
import re
from typing import Any

import aiohttp
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.online_meeting import OnlineMeeting
from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (  # noqa: E501
    CreateOrGetPostRequestBody,
)
from msgraph.generated.users.item.online_meetings.online_meetings_request_builder import (
    OnlineMeetingsRequestBuilder,
)

from mockgraph.testing import BotReceiver, MockGraph
from tests.docs import DOCS

ORGANIZER = "5810cedd-b43a-44a4-a2e8-0ba3a4b85b5e"
Found = OnlineMeetingsRequestBuilder.OnlineMeetingsRequestBuilderGetQueryParameters


@pytest.fixture
async def graph() -> Any:
    async with MockGraph(time_scale=0) as server:
        yield server


def where(text: str) -> RequestConfiguration[Found]:
    return RequestConfiguration(query_parameters=Found(filter=text))


async def test_create_then_find_it_by_its_join_url_and_join_id(graph: MockGraph, sdk: Any) -> None:
    meetings = sdk(graph.graph_url("v1.0")).users.by_user_id(ORGANIZER).online_meetings
    start = datetime.datetime(2027, 1, 4, 9, tzinfo=datetime.UTC)
    made = await meetings.post(
        OnlineMeeting(
            subject="Weekly sync",
            start_date_time=start,
            end_date_time=start + datetime.timedelta(minutes=30),
        )
    )
    assert made.subject == "Weekly sync" and made.start_date_time == start
    assert made.join_web_url.startswith("https://teams.microsoft.com/l/meetup-join/19%3ameeting_")
    assert made.chat_info.thread_id.startswith("19:meeting_") and made.chat_info.message_id == "0"
    assert made.participants.organizer.identity.user.id == ORGANIZER

    by_url = await meetings.get(where(f"JoinWebUrl eq '{made.join_web_url}'"))
    join_id = made.join_meeting_id_settings.join_meeting_id
    by_id = await meetings.get(where(f"joinMeetingIdSettings/joinMeetingId eq '{join_id}'"))
    assert [m.id for m in by_url.value] == [m.id for m in by_id.value] == [made.id]


async def test_create_or_get_answers_201_then_200_with_the_same_meeting(
    graph: MockGraph, sdk: Any
) -> None:
    url = f"{graph.graph_url('v1.0')}/users/{ORGANIZER}/onlineMeetings/createOrGet"
    headers = {"Authorization": "Bearer x"}
    body = {"externalId": "7eb8263f-d0e0-4149-bb1c-1f0476083c56", "subject": "Planning"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body, headers=headers) as first:
            made = (first.status, await first.json())
        async with http.post(url, json=body, headers=headers) as second:
            again = (second.status, await second.json())
    assert (made[0], again[0]) == (201, 200)
    assert made[1]["id"] == again[1]["id"] and made[1]["externalId"] == body["externalId"]
    # The SDK's builder reaches the same meeting.
    meetings = sdk(graph.graph_url("beta")).users.by_user_id(ORGANIZER).online_meetings
    found = await meetings.create_or_get.post(
        CreateOrGetPostRequestBody(external_id=body["externalId"])
    )
    assert found.id == made[1]["id"]


async def test_update_and_delete(graph: MockGraph, sdk: Any) -> None:
    meetings = sdk(graph.graph_url("v1.0")).users.by_user_id(ORGANIZER).online_meetings
    made = await meetings.post(OnlineMeeting(subject="Draft"))
    one = meetings.by_online_meeting_id(made.id)
    changed = await one.patch(OnlineMeeting(subject="Final"))
    assert changed.subject == "Final" and (await one.get()).subject == "Final"
    assert await one.delete() is None
    with pytest.raises(ODataError) as raised:
        await one.get()
    assert raised.value.response_status_code == 404


async def test_a_list_with_no_filter_names_the_filters_served(graph: MockGraph, sdk: Any) -> None:
    meetings = sdk(graph.graph_url("v1.0")).users.by_user_id(ORGANIZER).online_meetings
    with pytest.raises(ODataError) as raised:
        await meetings.get()
    assert raised.value.response_status_code == 400
    assert "JoinWebUrl eq" in raised.value.error.message


async def test_a_body_against_the_schema_is_a_400(graph: MockGraph) -> None:
    url = f"{graph.graph_url('v1.0')}/users/{ORGANIZER}/onlineMeetings/createOrGet"
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url, json={"subject": "no externalId"}, headers={"Authorization": "Bearer x"}
        ) as answer,
    ):
        status, body = answer.status, await answer.json()
    assert (status, body["error"]["code"]) == (400, "BadRequest")
    assert "externalId" in body["error"]["message"]


async def test_a_bot_joins_the_meeting_it_found(graph: MockGraph, sdk: Any) -> None:
    # The join a meeting bot makes: the meeting's chatInfo, and its organizer as meetingInfo.
    meetings = sdk(graph.graph_url("v1.0")).users.by_user_id(ORGANIZER).online_meetings
    made = await meetings.post(OnlineMeeting(subject="Interview"))
    organizer = {"user": {"id": ORGANIZER, "tenantId": "00000000-0000-0000-0000-0000000000a1"}}
    join = {
        "callbackUri": "https://bot.example/api/calls",
        "requestedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        "chatInfo": {"threadId": made.chat_info.thread_id, "messageId": "0"},
        "meetingInfo": {
            "@odata.type": "#microsoft.graph.organizerMeetingInfo",
            "organizer": organizer,
        },
        "tenantId": "00000000-0000-0000-0000-0000000000a1",
    }
    url = f"{graph.graph_url('v1.0')}/communications/calls"
    headers = {"Authorization": "Bearer x"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=join, headers=headers) as answer,
    ):
        status, call = answer.status, await answer.json()
    assert status == 201
    assert call["chatInfo"]["threadId"] == made.chat_info.thread_id


[BOT_SIDE, TEST_SIDE] = re.findall(
    r"<!-- runs in tests/test_meetings.py -->\n```python\n(.*?)```", DOCS, re.S
)


async def test_the_docs_meeting_join_runs(graph: MockGraph, sdk: Any) -> None:
    scope: dict[str, Any] = {}
    exec(BOT_SIDE, scope)
    exec(TEST_SIDE, scope)
    scope["graph_client"] = sdk  # the docs' client, closed after the test
    async with BotReceiver() as bot:
        await scope["test_the_bot_joins_the_meeting_of_a_link"](graph, bot)
        await bot.wait_for(2)
    # Graph's join: establishing, then established, to the bot's callback (rosters between).
    data = [n["resourceData"] for r in bot.received for n in r.notifications]
    states = [d["state"] for d in data if isinstance(d, dict) and "state" in d]
    assert states[:2] == ["establishing", "established"]


async def test_attendance_after_the_meetings_call_ends(graph: MockGraph, sdk: Any) -> None:
    client = sdk(graph.graph_url("v1.0"))
    meetings = client.users.by_user_id(ORGANIZER).online_meetings
    made = await meetings.post(OnlineMeeting(subject="Retro"))
    async with BotReceiver() as bot:
        call = await graph.seed_call(
            callback_uri=bot.callback_url,
            state="established",
            chat_info={"threadId": made.chat_info.thread_id, "messageId": "0"},
            meeting_info={"organizer": {"user": {"id": ORGANIZER}}},
        )
        await graph.add_participant(call["id"], {"user": {"id": ORGANIZER, "displayName": "Olga"}})
        await graph.hang_up(call["id"])
        await graph.wait_for_state(call["id"], "terminated")
    one = meetings.by_online_meeting_id(made.id)
    reports = await one.attendance_reports.get()
    [report] = reports.value
    assert report.total_participant_count == 1 and report.attendance_records == []
    records = await one.attendance_reports.by_meeting_attendance_report_id(
        report.id
    ).attendance_records.get()
    [record] = records.value
    assert (record.identity.display_name, record.role) == ("Olga", "Organizer")
    assert record.attendance_intervals[0].join_date_time <= report.meeting_end_date_time
    # The call record of the meeting's call names the meeting's join link.
    [call_record] = await graph.call_records()
    assert call_record["record"]["joinWebUrl"] == made.join_web_url


async def test_the_bot_finds_the_meetings_people_and_sees_who_comes_and_goes(
    graph: MockGraph, sdk: Any
) -> None:
    meetings = sdk(graph.graph_url("v1.0")).users.by_user_id(ORGANIZER).online_meetings
    made = await meetings.post(OnlineMeeting(subject="Standup"))
    await graph.join_meeting(made.id, {"user": {"id": "ann", "displayName": "Ann"}})
    async with BotReceiver() as bot:
        join = {
            "callbackUri": bot.callback_url,
            "requestedModalities": ["audio"],
            "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
            "chatInfo": {"threadId": made.chat_info.thread_id, "messageId": "0"},
            "meetingInfo": {
                "@odata.type": "#microsoft.graph.organizerMeetingInfo",
                "organizer": {"user": {"id": ORGANIZER}},
            },
        }
        url = f"{graph.graph_url('v1.0')}/communications/calls"
        headers = {"Authorization": "Bearer x"}
        async with aiohttp.ClientSession() as http, http.post(url, json=join, headers=headers) as r:
            call = await r.json()
        await graph.wait_for_state(call["id"], "established")
        await graph.wait_idle()
        joined = await graph.join_meeting(made.id, {"user": {"id": "ben", "displayName": "Ben"}})
        await graph.leave_meeting(made.id, "ann")
        await graph.wait_idle()

        def rosters() -> list[set[str]]:
            # join-success's roster after established, then one per change (graph-calling
            # facts: a roster notification's resourceData is the whole participant list).
            found = []
            for received in bot.received:
                for notification in received.notifications:
                    data = notification["resourceData"]
                    if isinstance(data, list):
                        found.append(
                            {p["info"]["identity"].get("user", {}).get("id") for p in data}
                        )
            return found

        [listed] = await graph.meetings()
    assert joined["calls"] == [call["id"]]
    assert rosters()[:3] == [{"ann", None}, {"ann", "ben", None}, {"ben", None}]  # None: the bot
    assert listed["liveCalls"] == [call["id"]] and [p["id"] for p in listed["people"]] == ["ben"]


async def test_a_join_by_a_join_id_no_meeting_has_fails(sdk: Any) -> None:
    # The join id form names the meeting alone (no chatInfo). mockgraph made every meeting's
    # join id, so an unknown one is no meeting: 201, establishing, then terminated 404. The
    # meeting's own join id joins.
    async with MockGraph(time_scale=0) as graph, BotReceiver() as bot:
        made = (
            await sdk(graph.graph_url("v1.0"))
            .users.by_user_id(ORGANIZER)
            .online_meetings.post(OnlineMeeting(subject="Interview"))
        )
        known = made.join_meeting_id_settings.join_meeting_id
        url = f"{graph.graph_url('v1.0')}/communications/calls"
        ended = {}
        async with aiohttp.ClientSession() as http:
            for join_id in ("000000000000", known):
                join = {
                    "callbackUri": bot.callback_url,
                    "requestedModalities": ["audio"],
                    "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
                    "meetingInfo": {
                        "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo",
                        "joinMeetingId": join_id,
                    },
                    "tenantId": "00000000-0000-0000-0000-0000000000a1",
                }
                async with http.post(url, json=join, headers={"Authorization": "Bearer x"}) as r:
                    assert r.status == 201
                    ended[join_id] = (await r.json())["id"]
        unknown = await graph.wait_for_state(ended["000000000000"], "terminated")
        assert unknown["call"]["resultInfo"]["code"] == 404
        assert unknown["lastScenario"] == "join-meeting-not-found"
        joined = await graph.wait_for_state(ended[known], "established")
        assert joined["lastScenario"] == "join-success"
