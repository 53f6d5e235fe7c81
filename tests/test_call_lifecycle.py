"""The whole life of a call: ring, answer, reject, redirect, create, get, hang up, keepAlive,
one state machine for all of them, the unanswered-call timeout, and the transfer rules."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND, TESTS

MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
USER = {"identity": {"user": {"id": "u"}}}


class Bot:
    """The bot's side: Graph requests over HTTP, notifications through a receiver."""

    def __init__(self, graph: MockGraph, receiver: BotReceiver) -> None:
        self.graph, self.receiver = graph, receiver

    async def call(
        self, method: str, path: str, body: Any = None, version: str = "v1.0"
    ) -> tuple[int, dict[str, str], Any]:
        url = f"{self.graph.graph_url(version)}/communications/calls{path}"
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, url, json=body, headers=AUTH) as response,
        ):
            text = await response.text()
            return (
                response.status,
                dict(response.headers),
                (await response.json()) if text else None,
            )

    async def states(self, call_id: str, count: int) -> list[str | None]:
        """The states of every notification about the call, once ``count`` came and its
        scenarios have played out."""
        await self.receiver.wait_for(count, call_id=call_id)
        await self.graph.wait_idle()
        return [
            item["resourceData"].get("state")
            for received in self.receiver.for_call(call_id)
            for item in received.notifications
        ]


@pytest.fixture
async def bot(graph: MockGraph) -> Any:
    async with BotReceiver() as receiver:
        yield Bot(graph, receiver)


async def ring(bot: Bot, **spec: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{bot.graph.url}/_mock/calls/incoming",
            json={"callbackUri": bot.receiver.callback_url, **spec},
        ) as response,
    ):
        assert response.status == 201, await response.text()
        call: dict[str, Any] = await response.json()
        return call


async def test_ringing_sends_the_created_notification_graph_sends(bot: Bot) -> None:
    call = await ring(bot, tenantId="t-9", requestedModalities=["audio", "video"])
    await bot.receiver.wait_for(1)
    [item] = bot.receiver.received[0].notifications
    data = item["resourceData"]
    assert item["changeType"] == "created"
    assert item["resourceUrl"] == f"/communications/calls/{call['id']}"
    assert data["@odata.type"] == "#microsoft.graph.call"
    assert data["@odata.id"] == f"/communications/calls/{call['id']}"
    assert data["@odata.etag"].startswith('W/"')
    assert (data["state"], data["direction"]) == ("incoming", "incoming")
    assert data["tenantId"] == "t-9"
    assert data["requestedModalities"] == ["audio", "video"]
    assert data["callbackUri"] == bot.receiver.callback_url
    assert data["myParticipantId"] and data["source"]["identity"] and data["targets"]


async def test_answer_establishes_the_call(bot: Bot) -> None:
    call = await ring(bot)
    async with BotReceiver() as answered_at:
        body = {
            "callbackUri": answered_at.callback_url,
            "mediaConfig": MEDIA,
            "acceptedModalities": ["audio"],
        }
        status, _, _ = await bot.call("POST", f"/{call['id']}/answer", body)
        assert status == 202
        await answered_at.wait_for(3)
        await bot.graph.wait_idle()
        states = [r.notifications[0]["resourceData"]["state"] for r in answered_at.received]
    # The answer page's two notifications, then the media update every capture shows.
    assert states == ["establishing", "established", "established"]
    status, _, body = await bot.call("POST", f"/{call['id']}/answer", {"mediaConfig": MEDIA})
    assert status == 409 and "it is established" in body["error"]["message"]


async def test_answer_without_callback_uri_keeps_the_calls(bot: Bot) -> None:
    call = await ring(bot)
    status, _, _ = await bot.call("POST", f"/{call['id']}/answer", {"mediaConfig": MEDIA}, "beta")
    assert status == 202
    assert await bot.states(call["id"], 4) == [
        "incoming",
        "establishing",
        "established",
        "established",  # the media update every capture shows
    ]


async def test_answer_body_is_checked(bot: Bot) -> None:
    call = await ring(bot)
    status, _, body = await bot.call("POST", f"/{call['id']}/answer", {"acceptedModalities": ["x"]})
    assert status == 400
    assert "'mediaConfig' is required" in body["error"]["message"]


async def test_reject_deletes_the_call(bot: Bot) -> None:
    call = await ring(bot)
    status, _, _ = await bot.call("POST", f"/{call['id']}/reject", {"reason": "busy"})
    assert status == 202
    await bot.receiver.wait_for(2)
    deleted = bot.receiver.received[1].notifications[0]
    assert deleted["changeType"] == "deleted"
    # The reject page's example, with what every captured call notification that is not the
    # call's set-up carries (sambetts/graph-calling-bots, FailedP2P/CallDeleted.json).
    assert deleted["resourceData"] == {
        "@odata.type": "#microsoft.graph.call",
        "@odata.id": f"/communications/calls/{call['id']}",
        "meetingCapability": {"@odata.type": "#microsoft.graph.meetingCapability"},
        "coOrganizers": [],
        "callChainId": call["callChainId"],
    }
    assert (await bot.graph.wait_for_state(call["id"], "terminated"))["state"] == "terminated"


async def test_reject_reason_is_checked_and_answered_calls_cannot_be_rejected(bot: Bot) -> None:
    call = await ring(bot)
    status, _, body = await bot.call("POST", f"/{call['id']}/reject", {"reason": "Busy"})
    assert status == 400 and "'reason'" in body["error"]["message"]
    answered = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    status, _, body = await bot.call("POST", f"/{answered['id']}/reject", {"reason": "none"})
    assert status == 409 and "delete it instead" in body["error"]["message"]


async def test_redirect_ends_the_call_for_the_bot(bot: Bot) -> None:
    call = await ring(bot)
    body = {"targets": [{"identity": {"user": {"id": "other"}}}], "timeout": 20}
    status, _, _ = await bot.call("POST", f"/{call['id']}/redirect", body)
    assert status == 202
    assert await bot.states(call["id"], 2) == ["incoming", "terminated"]
    # The redirect page's terminated notification carries the whole call.
    terminated = bot.receiver.received[1].notifications[0]["resourceData"]
    for key in ("direction", "callbackUri", "source", "targets", "myParticipantId", "id"):
        assert terminated[key] == call[key], key


async def test_get_shows_only_what_graphs_call_type_declares(bot: Bot) -> None:
    call = await ring(bot)
    answer = {"mediaConfig": MEDIA, "acceptedModalities": ["audio"]}
    status, _, _ = await bot.call("POST", f"/{call['id']}/answer", answer)
    assert status == 202
    await bot.states(call["id"], 4)
    for version in ("v1.0", "beta"):
        status, _, got = await bot.call("GET", f"/{call['id']}", version=version)
        assert status == 200
        # acceptedModalities is answer's parameter; meetingCapability and coOrganizers come
        # in notifications only; neither is a property of the v1.0 call.
        assert not {"acceptedModalities", "coOrganizers"} & set(got), sorted(got)
        assert got["mediaState"]["audio"] == "active" and got["state"] == "established"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"targets": [{"identity": {"user": {"id": "o"}}}], "timeout": 10}, "15 to 90"),
        ({"targets": []}, "at least one target"),
        ({"timeout": 20}, "'targets' is required"),
    ],
)
async def test_redirect_body_is_checked(bot: Bot, body, fragment) -> None:
    call = await ring(bot)
    status, _, answer = await bot.call("POST", f"/{call['id']}/redirect", body)
    assert status == 400 and fragment in answer["error"]["message"]


async def test_create_answers_201_with_location_then_establishes(bot: Bot) -> None:
    body = {
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": bot.receiver.callback_url,
        "targets": [{"identity": {"user": {"id": "callee"}}}],
        "requestedModalities": ["audio"],
        "mediaConfig": MEDIA,
    }
    status, headers, call = await bot.call("POST", "", body)
    assert status == 201
    assert headers["Location"] == f"{bot.graph.graph_url()}/communications/calls/{call['id']}"
    assert (call["state"], call["direction"]) == ("establishing", "outgoing")
    assert call["id"] and call["callChainId"] and call["myParticipantId"]
    assert call["@odata.context"].endswith("/v1.0/$metadata#communications/calls/$entity")
    # The create page's answer: the bot, the source Graph fills in.
    assert call["source"] == {
        "@odata.type": "#microsoft.graph.participantInfo",
        "identity": {
            "@odata.type": "#microsoft.graph.identitySet",
            "application": {
                "@odata.type": "#microsoft.graph.identity",
                "id": bot.graph.backend.settings.app_id,
                "displayName": "Calling Bot",
            },
        },
    }
    assert await bot.states(call["id"], 3) == ["establishing", "established", "established"]
    # The request that created it is the first entry of its journal (and its timeline).
    first = (await bot.graph.journal(call["id"]))[0]
    assert (first["kind"], first["method"], first["status"]) == ("request", "POST", 201)


async def test_create_declined_by_the_callee(bot: Bot) -> None:
    await bot.graph.load_scenarios(
        "name: always-declined\noperation: create\ndefault: true\nsteps:\n"
        "  - notify: {changeType: deleted, resourceData: {state: terminated}}\n"
    )
    body = {
        "callbackUri": bot.receiver.callback_url,
        "mediaConfig": MEDIA,
        "targets": [{"identity": {"user": {"id": "callee"}}}],
    }
    _, _, call = await bot.call("POST", "", body)
    assert await bot.states(call["id"], 1) == ["terminated"]


@pytest.mark.parametrize(
    "missing, fragment",
    [
        ("callbackUri", "'callbackUri' is required"),
        ("mediaConfig", "'mediaConfig' is required"),
        ("targets", "give 'targets'"),
    ],
)
async def test_create_body_is_checked(bot: Bot, missing, fragment) -> None:
    body = {
        "callbackUri": "http://127.0.0.1:9/",
        "mediaConfig": MEDIA,
        "targets": [{"identity": {"user": {"id": "callee"}}}],
    }
    del body[missing]
    status, _, answer = await bot.call("POST", "", body)
    assert status == 400 and fragment in answer["error"]["message"]


async def test_get_returns_the_call_and_404_once_it_ended(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url, tenant_id="t")
    status, _, seen = await bot.call("GET", f"/{call['id']}", version="beta")
    assert status == 200
    assert seen["@odata.context"].endswith("/beta/$metadata#communications/calls/$entity")
    assert (seen["id"], seen["state"], seen["tenantId"]) == (call["id"], "established", "t")
    await bot.call("DELETE", f"/{call['id']}")
    await bot.graph.wait_for_state(call["id"], "terminated")
    status, _, _ = await bot.call("GET", f"/{call['id']}")
    assert status == 404


async def test_delete_hangs_up_with_200_5001(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    status, _, body = await bot.call("DELETE", f"/{call['id']}")
    assert (status, body) == (204, None)
    assert await bot.states(call["id"], 2) == ["terminating", "terminated"]
    last = bot.receiver.received[-1].notifications[0]
    assert last["changeType"] == "deleted"
    assert (
        last["resourceData"]["resultInfo"]["code"],
        last["resourceData"]["resultInfo"]["subcode"],
    ) == (200, 5001)


async def test_delete_during_a_transfer_stops_the_transfer(bot: Bot) -> None:
    await bot.graph.set_time(step=True, scale=0)  # the transfer is held at its first step
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    status, _, _ = await bot.call("POST", f"/{call['id']}/transfer", BLIND)
    assert status == 202
    status, _, _ = await bot.call("DELETE", f"/{call['id']}")
    assert status == 204
    await bot.graph.advance(call["id"], 2)  # the hang-up's two steps
    await bot.graph.wait_for_state(call["id"], "terminated")
    await bot.graph.wait_idle()
    notes = [e for e in await bot.graph.journal(call["id"]) if e["kind"] == "notification"]
    outcomes = [(n["scenario"], n["step"], n["outcome"]) for n in notes]
    assert ("transfer-success", 1, "cancelled") in outcomes
    assert [o for o in outcomes if o[0] == "delete-success"] == [
        ("delete-success", 1, "delivered"),
        ("delete-success", 2, "delivered"),
    ]


async def test_keep_alive_is_200_then_404_once_ended(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    status, _, _ = await bot.call("POST", f"/{call['id']}/keepAlive")
    assert status == 200
    await bot.call("DELETE", f"/{call['id']}")
    await bot.graph.wait_for_state(call["id"], "terminated")
    status, _, body = await bot.call("POST", f"/{call['id']}/keepAlive")
    assert status == 404 and "has ended" in body["error"]["message"]


async def test_an_unanswered_call_times_out(bot: Bot) -> None:
    call = await ring(bot, timeout=0.2)
    assert await bot.states(call["id"], 2) == ["incoming", "terminated"]
    last = bot.receiver.received[-1].notifications[0]["resourceData"]["resultInfo"]
    assert last["code"] == 408
    status, _, _ = await bot.call("POST", f"/{call['id']}/answer", {"mediaConfig": MEDIA})
    assert status == 404


@pytest.mark.parametrize(
    "operation, state, expected",
    [
        ("answer", "incoming", 202),
        ("answer", "established", 409),
        ("answer", "terminated", 404),
        ("reject", "incoming", 202),
        ("reject", "establishing", 409),
        ("reject", "established", 409),
        ("redirect", "incoming", 202),
        ("redirect", "established", 409),
        ("transfer", "established", 202),
        ("transfer", "incoming", 409),
        ("transfer", "transferring", 409),
        ("transfer", "terminated", 404),
        ("delete", "established", 204),
        ("delete", "establishing", 204),
        ("delete", "hold", 204),
        ("delete", "incoming", 409),
        ("delete", "terminated", 404),
        ("keepAlive", "incoming", 200),
        ("keepAlive", "terminated", 404),
    ],
)
async def test_state_machine(bot: Bot, operation: str, state: str, expected: int) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url, state=state)
    bodies: dict[str, Any] = {
        "answer": {"mediaConfig": MEDIA},
        "reject": {"reason": "none"},
        "redirect": {"targets": [{"identity": {"user": {"id": "o"}}}]},
        "transfer": BLIND,
    }
    if operation == "delete":
        status, _, _ = await bot.call("DELETE", f"/{call['id']}")
    else:
        status, _, _ = await bot.call("POST", f"/{call['id']}/{operation}", bodies.get(operation))
    assert status == expected


# --- transfer rules -----------------------------------------------------------------------


async def test_consultative_transfer_needs_a_known_established_call(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    target = {"identity": {"user": {"id": "u"}}, "replacesCallId": "nope"}
    status, _, body = await bot.call("POST", f"/{call['id']}/transfer", {"transferTarget": target})
    assert status == 400 and "'nope'" in body["error"]["message"]
    held = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url, state="hold")
    target["replacesCallId"] = held["id"]
    status, _, body = await bot.call("POST", f"/{call['id']}/transfer", {"transferTarget": target})
    assert status == 409 and "is hold" in body["error"]["message"]


async def test_group_call_transfer_requires_a_transferee(bot: Bot) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{bot.graph.url}/_mock/calls",
            json={"callbackUri": bot.receiver.callback_url, "chatInfo": {"threadId": "19:x"}},
        ) as response,
    ):
        call = await response.json()
    status, _, body = await bot.call("POST", f"/{call['id']}/transfer", BLIND)
    assert status == 400 and "'transferee' is required" in body["error"]["message"]
    with_transferee = {**BLIND, "transferee": {"identity": {"user": {"id": "t"}}}}
    status, _, _ = await bot.call("POST", f"/{call['id']}/transfer", with_transferee)
    assert status == 202


async def test_pstn_target_must_be_e164(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    body = {"transferTarget": {"identity": {"phone": {"id": "5550100"}}}}
    status, _, answer = await bot.call("POST", f"/{call['id']}/transfer", body)
    assert status == 400 and "E.164" in answer["error"]["message"]


async def test_pstn_transfer_works_for_an_application_instance_by_default(bot: Bot) -> None:
    call = await bot.graph.seed_call(callback_uri=bot.receiver.callback_url)
    body = {"transferTarget": {"identity": {"phone": {"id": "+12345678901"}}}}
    await bot.call("POST", f"/{call['id']}/transfer", body)
    assert (await bot.states(call["id"], 3))[-1] == "terminated"


async def pstn_failure(bot: Bot, call: dict[str, Any]) -> dict[str, Any]:
    body = {"transferTarget": {"identity": {"phone": {"id": "+12345678901"}}}}
    status, _, _ = await bot.call("POST", f"/{call['id']}/transfer", body)
    assert status == 202
    assert await bot.states(call["id"], 2) == ["transferring", "established"]
    last = bot.receiver.for_call(call["id"])[-1].notifications[0]
    result: dict[str, Any] = last["resourceData"]["resultInfo"]
    return result


async def test_pstn_transfer_fails_when_the_call_is_not_an_application_instance(bot: Bot) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{bot.graph.url}/_mock/calls",
            json={"callbackUri": bot.receiver.callback_url, "applicationInstance": False},
        ) as response,
    ):
        call = await response.json()
    result = await pstn_failure(bot, call)
    assert (result["code"], result["subcode"]) == (500, 7000)


async def test_pstn_transfer_fails_for_the_whole_server_with_the_flag() -> None:
    async with MockGraph(application_instance=False) as graph, BotReceiver() as receiver:
        bot = Bot(graph, receiver)
        call = await graph.seed_call(callback_uri=receiver.callback_url)
        result = await pstn_failure(bot, call)
    assert (result["code"], result["subcode"]) == (500, 7000)


async def test_both_sides_of_a_transfer(bot: Bot) -> None:
    async with BotReceiver() as target_bot:
        async with (
            aiohttp.ClientSession() as http,
            http.put(
                f"{bot.graph.url}/_mock/bots/target-user",
                json={"callbackUri": target_bot.callback_url},
            ) as response,
        ):
            assert response.status == 200
        call = await ring(bot, targets=[{"identity": {"application": {"id": "transferor-bot"}}}])
        await bot.call("POST", f"/{call['id']}/answer", {"mediaConfig": MEDIA})
        await bot.graph.wait_for_state(call["id"], "established")
        await bot.graph.wait_idle()
        body = {"transferTarget": {"identity": {"user": {"id": "target-user"}}}}
        status, _, _ = await bot.call("POST", f"/{call['id']}/transfer", body)
        assert status == 202

        await target_bot.wait_for(1)
        [incoming] = target_bot.received[0].notifications
    data = incoming["resourceData"]
    assert (incoming["changeType"], data["state"]) == ("created", "incoming")
    assert data["incomingContext"]["transferor"] == {"application": {"id": "transferor-bot"}}
    assert data["targets"][0]["identity"]["user"]["id"] == "target-user"
    assert data["source"] == call["source"]
    # ringing, answered (three: establishing, established, audio active), transferred (three)
    assert (await bot.states(call["id"], 7))[-1] == "terminated"


async def test_bots_from_settings() -> None:
    async with (
        BotReceiver() as target_bot,
        MockGraph([TESTS / "scenarios"], bots=(("u-target", target_bot.callback_url),)) as graph,
        BotReceiver() as receiver,
    ):
        call = await graph.seed_call(callback_uri=receiver.callback_url)
        await Bot(graph, receiver).call("POST", f"/{call['id']}/transfer", BLIND)
        await target_bot.wait_for(1)
    assert target_bot.received[0].notifications[0]["changeType"] == "created"


async def test_a_rung_call_holds_its_callback_once_and_no_annotations(bot: Bot) -> None:
    from mockgraph.testing import Reply

    async with BotReceiver() as moved_to:
        bot.receiver.reply_with(Reply(302, {"Location": moved_to.callback_url}))
        call = await ring(bot)
        await moved_to.wait_for(1)  # the created notification, redirected
        seen = await bot.graph.call(call["id"])
    assert seen["call"]["callbackUri"] == moved_to.callback_url
    assert not [key for key in seen["call"] if key.startswith("@odata.") and key != "@odata.type"]
    assert [h["state"] for h in seen["history"]] == ["incoming"]


# --- what real clients sent that Graph refuses ------------------------------------------------

CREATE = {
    "@odata.type": "#microsoft.graph.call",
    "callbackUri": "https://bot.example/api/calls",
    "requestedModalities": ["audio"],
    "mediaConfig": MEDIA,
}


@pytest.mark.parametrize(
    "body, fragment",
    [
        # The create and redirect pages: "Phone ID is the phone number in E.164 format".
        (
            {**CREATE, "targets": [{"identity": {"phone": {"id": "5550100"}}}]},
            "'targets[0].identity.phone.id' '5550100' is not an E.164 number",
        ),
        (
            {**CREATE, "callbackUri": "bot.example/api/calls", "targets": [USER]},
            "'callbackUri' must be an http:// or https:// URL",
        ),
        (
            {
                **CREATE,
                "targets": [USER],
                "mediaConfig": {"@odata.type": "#microsoft.graph.appHostedMediaConfig"},
            },
            "'mediaConfig.blob' is required",
        ),
    ],
)
async def test_create_refuses_what_graph_refuses(bot: Bot, body, fragment) -> None:
    status, _, answer = await bot.call("POST", "", body)
    assert (status, answer["error"]["code"]) == (400, "BadRequest")
    assert fragment in answer["error"]["message"]
    assert await bot.graph.calls() == []


async def test_answer_and_seed_refuse_a_callback_that_is_not_http(bot: Bot) -> None:
    call = await ring(bot)
    body = {"callbackUri": "api/calls", "mediaConfig": MEDIA}
    status, _, answer = await bot.call("POST", f"/{call['id']}/answer", body)
    assert status == 400 and "must be an http:// or https:// URL" in answer["error"]["message"]
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bot.graph.url}/_mock/calls", json={"callbackUri": "localhost:3978"}) as r,
    ):
        message = (await r.json())["error"]["message"]
    assert r.status == 400 and "'callbackUri': \"localhost:3978\" must be an http" in message
