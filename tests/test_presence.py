"""Presence over HTTP, driven by msgraph-sdk's own request builders: Graph's presence
operations (graph-beyond-calls-facts.md §4), its errors, and what the calls say of people."""

from __future__ import annotations

import datetime
import re
from typing import Any

import aiohttp
import pytest
from msgraph.generated.communications.get_presences_by_user_id.get_presences_by_user_id_post_request_body import (  # noqa: E501
    GetPresencesByUserIdPostRequestBody,
)
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.presence_status_message import PresenceStatusMessage
from msgraph.generated.users.item.presence.clear_presence.clear_presence_post_request_body import (
    ClearPresencePostRequestBody,
)
from msgraph.generated.users.item.presence.set_presence.set_presence_post_request_body import (
    SetPresencePostRequestBody,
)
from msgraph.generated.users.item.presence.set_status_message.set_status_message_post_request_body import (  # noqa: E501
    SetStatusMessagePostRequestBody,
)
from msgraph.generated.users.item.presence.set_user_preferred_presence.set_user_preferred_presence_post_request_body import (  # noqa: E501
    SetUserPreferredPresencePostRequestBody,
)

from mockgraph.testing import BotReceiver, MockGraph
from tests.docs import DOCS

ANN = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3"  # the getPresencesByUserId page's first id
APP = "22553876-f5ab-4529-bffb-cfe50aa89f87"


@pytest.fixture
async def graph() -> Any:
    async with MockGraph(time_scale=0) as server:
        await server.add_user(ANN)
        yield server


def busy_in_a_call(lasting: datetime.timedelta | None = None) -> SetPresencePostRequestBody:
    return SetPresencePostRequestBody(
        session_id=APP, availability="Busy", activity="InACall", expiration_duration=lasting
    )


async def test_set_presence_then_read_it_both_ways(graph: MockGraph, sdk: Any) -> None:
    client = sdk(graph.graph_url("v1.0"))
    presence = client.users.by_user_id(ANN).presence

    assert await presence.set_presence.post(busy_in_a_call()) is None

    by_user = await presence.get()
    by_communications = await client.communications.presences.by_presence_id(ANN).get()
    for read in (by_user, by_communications):
        assert (read.id, read.availability, read.activity) == (ANN, "Busy", "InACall")


async def test_a_user_with_no_session_is_offline(graph: MockGraph, sdk: Any) -> None:
    read = await sdk(graph.graph_url("v1.0")).users.by_user_id(ANN).presence.get()
    assert (read.availability, read.activity) == ("Offline", "Offline")


async def test_presence_of_an_unknown_user_is_a_404(graph: MockGraph, sdk: Any) -> None:
    client = sdk(graph.graph_url("v1.0"))
    with pytest.raises(ODataError) as raised:
        await client.communications.presences.by_presence_id("nobody").get()
    assert raised.value.response_status_code == 404


async def test_get_presences_by_user_id_answers_each_in_order(graph: MockGraph, sdk: Any) -> None:
    other = "66825e03-7ef5-42da-9069-724602c31f6b"  # the page's second id
    await graph.add_user(other)
    client = sdk(graph.graph_url("v1.0"))
    await client.users.by_user_id(other).presence.set_presence.post(
        SetPresencePostRequestBody(session_id=APP, availability="Away", activity="Away")
    )

    body = GetPresencesByUserIdPostRequestBody(ids=[other, ANN])
    answer = await client.communications.get_presences_by_user_id.post(body)

    shown = [(p.id, p.availability, p.activity) for p in answer.value]
    assert shown == [(other, "Away", "Away"), (ANN, "Offline", "Offline")]


async def test_set_presence_refuses_an_undocumented_pair(graph: MockGraph, sdk: Any) -> None:
    client = sdk(graph.graph_url("v1.0"))
    body = SetPresencePostRequestBody(session_id=APP, availability="Busy", activity="Busy")
    with pytest.raises(ODataError) as raised:
        await client.users.by_user_id(ANN).presence.set_presence.post(body)
    assert raised.value.response_status_code == 400
    assert "Busy/InACall" in raised.value.error.message


async def test_set_presence_refuses_more_than_four_hours(graph: MockGraph) -> None:
    body = {"sessionId": APP, "availability": "Away", "activity": "Away"}
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session:
        url = f"{graph.graph_url('v1.0')}/users/{ANN}/presence/setPresence"
        for duration, status in (("PT4H", 200), ("PT4H1M", 400), ("PT4M", 400)):
            async with session.post(url, json={**body, "expirationDuration": duration}) as answer:
                assert answer.status == status, duration


async def test_the_python_sdks_timedelta_is_refused_with_a_hint(graph: MockGraph, sdk: Any) -> None:
    # Kiota's JSON writer sends str(timedelta) ('1:00:00'), not the ISO 8601 that Edm.Duration
    # is; the SDK's additional_data carries the text instead.
    presence = sdk(graph.graph_url("v1.0")).users.by_user_id(ANN).presence
    with pytest.raises(ODataError) as raised:
        await presence.set_presence.post(busy_in_a_call(datetime.timedelta(hours=1)))
    assert raised.value.response_status_code == 400
    assert "timedelta" in raised.value.error.message

    body = busy_in_a_call()
    body.additional_data = {"expirationDuration": "PT1H"}
    await presence.set_presence.post(body)
    assert (await presence.get()).activity == "InACall"


async def test_clear_presence_of_a_session_never_set_is_a_404(graph: MockGraph, sdk: Any) -> None:
    client = sdk(graph.graph_url("v1.0"))
    clear = ClearPresencePostRequestBody(session_id=APP)
    with pytest.raises(ODataError) as raised:
        await client.users.by_user_id(ANN).presence.clear_presence.post(clear)
    assert raised.value.response_status_code == 404

    await client.users.by_user_id(ANN).presence.set_presence.post(busy_in_a_call())
    await client.users.by_user_id(ANN).presence.clear_presence.post(clear)
    read = await client.users.by_user_id(ANN).presence.get()
    assert read.availability == "Offline"


async def test_preferred_presence_wins_and_clears(graph: MockGraph, sdk: Any) -> None:
    presence = sdk(graph.graph_url("v1.0")).users.by_user_id(ANN).presence
    await presence.set_presence.post(busy_in_a_call())
    await presence.set_user_preferred_presence.post(
        SetUserPreferredPresencePostRequestBody(
            availability="DoNotDisturb", activity="DoNotDisturb"
        )
    )
    assert (await presence.get()).availability == "DoNotDisturb"

    await presence.clear_user_preferred_presence.post()  # a POST with no body at all

    assert (await presence.get()).availability == "Busy"


async def test_a_status_message_is_shown(graph: MockGraph, sdk: Any) -> None:
    presence = sdk(graph.graph_url("beta")).users.by_user_id(ANN).presence
    message = PresenceStatusMessage(message=ItemBody(content="Back at 3"))
    await presence.set_status_message.post(SetStatusMessagePostRequestBody(status_message=message))

    shown = (await presence.get()).status_message
    assert shown.message.content == "Back at 3"
    assert shown.published_date_time is not None


async def test_a_person_on_a_call_is_busy_in_a_call_until_it_ends(
    graph: MockGraph, sdk: Any
) -> None:
    bob = "5b2a9d4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
    client = sdk(graph.graph_url("v1.0"))
    call = await graph.seed_call(callback_uri="http://127.0.0.1:9/none", state="established")
    await graph.add_participant(call["id"], {"user": {"id": bob, "displayName": "Bob"}})

    read = await client.communications.presences.by_presence_id(bob).get()
    assert (read.availability, read.activity) == ("Busy", "InACall")

    await graph.hang_up(call["id"])
    await graph.wait_idle()
    read = await client.communications.presences.by_presence_id(bob).get()
    assert (read.availability, read.activity) == ("Offline", "Offline")


async def test_a_person_in_a_meeting_is_in_a_conference_call(graph: MockGraph, sdk: Any) -> None:
    chat = {"threadId": "19:meeting_x@thread.v2", "messageId": "0"}
    call = await graph.seed_call(
        callback_uri="http://127.0.0.1:9/none", state="established", chat_info=chat
    )
    await graph.add_participant(call["id"], {"user": {"id": ANN}})
    read = await sdk(graph.graph_url("v1.0")).users.by_user_id(ANN).presence.get()
    assert (read.availability, read.activity) == ("Busy", "InAConferenceCall")


async def test_a_reset_forgets_users_and_their_presence(graph: MockGraph) -> None:
    await graph.reset()
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session:
        url = f"{graph.graph_url('v1.0')}/users/{ANN}/presence"
        async with session.get(url) as response:
            assert response.status == 404


@pytest.mark.parametrize(
    "name", ["setPresence", "microsoft.graph.setPresence", "Microsoft.Graph.setPresence"]
)
async def test_set_presence_is_served_with_its_qualified_name(graph: MockGraph, name: str) -> None:
    body = {"sessionId": APP, "availability": "Away", "activity": "Away"}
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session:
        url = f"{graph.graph_url('beta')}/communications/presences/{ANN}/{name}"
        async with session.post(url, json=body) as response:
            assert response.status == 200
        async with session.get(f"{graph.graph_url('beta')}/users/{ANN}/presence") as response:
            assert (await response.json())["availability"] == "Away"


async def test_presence_without_a_token_is_a_401(graph: MockGraph) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{graph.graph_url('v1.0')}/users/{ANN}/presence"
        async with session.get(url) as response:
            assert response.status == 401


[BOT_SIDE, TEST_SIDE] = re.findall(
    r"<!-- runs in tests/test_presence.py -->\n```python\n(.*?)```", DOCS, re.S
)


async def test_the_docs_presence_check_before_a_transfer_runs(
    graph: MockGraph, bot: BotReceiver, sdk: Any
) -> None:
    scope: dict[str, Any] = {}
    exec(BOT_SIDE, scope)
    exec(TEST_SIDE, scope)
    scope["graph_client"] = sdk  # the docs' client, closed after the test

    await scope["test_the_bot_transfers_only_to_someone_free"](graph, bot)

    assert [r.notifications[0]["resourceData"]["state"] for r in bot.received][:1] == [
        "transferring"
    ]
