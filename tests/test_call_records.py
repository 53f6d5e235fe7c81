"""Call records over HTTP, read with msgraph-sdk's own request builders: after a call ends, its
record is at /communications/callRecords/{callChainId} (callrecords-callrecord-get.md), with
the shapes the page's examples show, its sessions and participants as navigations, and
Graph's 404 before it exists."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.communications.call_records.item.call_record_item_request_builder import (
    CallRecordItemRequestBuilder,
)
from msgraph.generated.models.call_records.participant_endpoint import ParticipantEndpoint
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from mockgraph.testing import BotReceiver, MockGraph
from tests.docs import DOCS

ANN = {"user": {"id": "ann-id", "displayName": "Ann", "tenantId": "t1"}}
BOT = {"application": {"id": "bot-app", "displayName": "Calling Bot"}}
Query = CallRecordItemRequestBuilder.CallRecordItemRequestBuilderGetQueryParameters


@pytest.fixture
async def bot() -> Any:
    async with BotReceiver() as receiver:
        yield receiver


async def ended_call(graph: MockGraph, bot: BotReceiver, sdk: Any) -> tuple[str, str]:
    """Ann called the bot; the bot hung up (DELETE, as a bot does). Returns the call's id
    and its callChainId."""
    seeded = await graph.seed_call(
        callback_uri=bot.callback_url,
        state="established",
        source={"identity": ANN},
        targets=[{"identity": BOT}],
    )
    client = sdk(graph.graph_url("v1.0"))
    await client.communications.calls.by_call_id(seeded["id"]).delete()
    await graph.wait_for_state(seeded["id"], "terminated")
    return seeded["id"], seeded["callChainId"]


def expanded(*what: str) -> RequestConfiguration[Query]:
    return RequestConfiguration(query_parameters=Query(expand=list(what)))


async def test_a_record_read_with_sessions_and_segments(bot: BotReceiver, sdk: Any) -> None:
    async with MockGraph(time_scale=0) as graph:
        _, chain = await ended_call(graph, bot, sdk)
        records = sdk(graph.graph_url("v1.0")).communications.call_records
        record = await records.by_call_record_id(chain).get(expanded("sessions($expand=segments)"))
    assert record.id == chain  # "Use the callChainId property of a call"
    assert (record.type.value, record.version) == ("peerToPeer", 1)
    assert [m.value for m in record.modalities] == ["audio"]
    assert record.start_date_time <= record.end_date_time
    assert record.organizer_v2.identity.user.display_name == "Ann"  # expanded by default
    [session] = record.sessions
    assert isinstance(session.caller, ParticipantEndpoint)
    assert session.caller.associated_identity.id == "ann-id"
    assert session.callee.identity.application.id == "bot-app"
    assert session.is_test is False
    [segment] = session.segments
    assert segment.media[0].label == "main-audio"
    assert (segment.start_date_time, segment.end_date_time) == (
        session.start_date_time,
        session.end_date_time,
    )
    # Everything said is a property the SDK's models know: nothing left over but annotations.
    assert all("@" in key for key in record.additional_data), record.additional_data
    assert session.additional_data == {} and segment.additional_data == {}


async def test_sessions_and_participants_as_navigations(bot: BotReceiver, sdk: Any) -> None:
    async with MockGraph(time_scale=0) as graph:
        _, chain = await ended_call(graph, bot, sdk)
        record = sdk(graph.graph_url("beta")).communications.call_records.by_call_record_id(chain)
        sessions = await record.sessions.get()
        people = await record.participants_v2.get()
        organizer = await record.organizer_v2.get()
    assert len(sessions.value) == 1
    assert sorted(person.id for person in people.value) == ["ann-id", "bot-app"]
    assert organizer.identity.user.id == "ann-id"  # she placed the call


async def test_no_record_until_its_delay_has_passed(bot: BotReceiver, sdk: Any) -> None:
    # The page: "available only after the associated call is completed"; Graph files it later.
    async with MockGraph(time_scale=1, call_record_delay=3600) as graph:
        _, chain = await ended_call(graph, bot, sdk)
        records = sdk(graph.graph_url("v1.0")).communications.call_records
        with pytest.raises(ODataError) as raised:
            await records.by_call_record_id(chain).get()
        [pending] = await graph.call_records()
    assert raised.value.response_status_code == 404
    assert (pending["id"], pending["readable"]) == (chain, False)
    assert 3500 < pending["readableInSeconds"] <= 3600


async def test_an_unknown_expansion_is_a_400_that_names_the_supported_ones(
    bot: BotReceiver,
) -> None:
    async with MockGraph(time_scale=0) as graph:
        seeded = await graph.seed_call(callback_uri=bot.callback_url, state="established")
        await graph.hang_up(seeded["id"])
        await graph.wait_for_state(seeded["id"], "terminated")
        url = f"{graph.graph_url('v1.0')}/communications/callRecords/{seeded['callChainId']}"
        headers = {"Authorization": "Bearer x"}
        async with aiohttp.ClientSession() as session:
            params = {"$expand": "attendees"}
            async with session.get(url, params=params, headers=headers) as answer:
                status, body = answer.status, await answer.json()
    assert status == 400
    assert body["error"]["code"] == "BadRequest"
    assert "attendees" in body["error"]["message"]
    assert "sessions($expand=segments)" in body["error"]["message"]


[BOT_SIDE, TEST_SIDE] = re.findall(
    r"<!-- runs in tests/test_call_records.py -->\n```python\n(.*?)```", DOCS, re.S
)


async def test_the_docs_call_summary_runs(bot: BotReceiver, sdk: Any) -> None:
    scope: dict[str, Any] = {}
    exec(BOT_SIDE, scope)
    exec(TEST_SIDE, scope)
    scope["graph_client"] = sdk  # the docs' client, closed after the test
    async with MockGraph(time_scale=0) as graph:
        await scope["test_the_bot_reads_who_called"](graph, bot)
        [record] = await graph.call_records()
    # The record the example read is the one the call left: Alice's, readable at once.
    assert record["readable"] is True
    assert record["record"]["sessions"][0]["caller"]["associatedIdentity"]["displayName"] == "Alice"
