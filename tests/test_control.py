"""The /_mock control plane: seed, inspect, pin, journal, reset, and its own 4xx errors."""

from __future__ import annotations

import pytest

from mockgraph.testing import MockGraph
from tests.conftest import Driver


async def test_health(driver: Driver) -> None:
    assert await driver.get("/_mock/health") == {"status": "ok"}


async def test_seed_returns_a_graph_call_with_defaults(driver: Driver) -> None:
    call = await driver.seed(tenantId="t-1", source={"identity": {"user": {"id": "caller"}}})
    assert call["@odata.type"] == "#microsoft.graph.call"
    assert call["state"] == "established"
    assert call["callbackUri"] == driver.bot.callback_url
    assert call["tenantId"] == "t-1"
    assert call["source"]["identity"]["user"]["id"] == "caller"
    assert call["id"] and call["callChainId"] and call["myParticipantId"]


async def test_seed_with_an_id_and_state(driver: Driver) -> None:
    call = await driver.seed(id="call-1", state="incoming", direction="incoming")
    seen = await driver.get("/_mock/calls/call-1")
    assert (call["id"], seen["state"], seen["call"]["direction"]) == (
        "call-1",
        "incoming",
        "incoming",
    )
    assert [c["id"] for c in (await driver.get("/_mock/calls"))["value"]] == ["call-1"]


async def test_seed_falls_back_to_the_server_callback_url(bot, http) -> None:
    async with (
        MockGraph(callback_url=bot.callback_url) as graph,
        http.post(f"{graph.url}/_mock/calls", json={}) as response,
    ):
        assert response.status == 201
        assert (await response.json())["callbackUri"] == bot.callback_url


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({}, 400, "'callbackUri' is required"),
        ({"callbackUri": "http://x", "state": "transfering"}, 400, '"transfering" is not one of'),
        ({"callbackUri": "http://x", "id": "a/b"}, 400, "'id' 'a/b'"),
        ({"callbackUri": "http://x", "colour": "red"}, 400, "call has no property 'colour'"),
        ({"callbackUri": 5}, 400, "'callbackUri' must be a string"),
        ({"callbackUri": "http://x", "direction": "sideways"}, 400, "'direction'"),
        ([], 400, "must be a JSON object"),
    ],
)
async def test_bad_seed_is_a_clear_4xx(graph, http, body, status, fragment) -> None:
    async with http.post(f"{graph.url}/_mock/calls", json=body) as response:
        payload = await response.json()
        assert response.status == status, payload
        assert fragment in payload["error"]["message"]


async def test_seeding_the_same_id_twice_is_409(driver: Driver) -> None:
    await driver.seed(id="dup")
    async with driver.http.post(
        f"{driver.graph.url}/_mock/calls",
        json={"id": "dup", "callbackUri": driver.bot.callback_url},
    ) as response:
        assert response.status == 409


async def test_unknown_call_in_control_plane_is_404(driver: Driver) -> None:
    async with driver.http.get(f"{driver.graph.url}/_mock/calls/nope") as response:
        assert response.status == 404
    assert await driver.pin("nope", "transfer-success") == 404


async def test_pin_checks_the_scenario_name_and_can_unpin(driver: Driver) -> None:
    call = await driver.seed()
    url = f"{driver.graph.url}/_mock/calls/{call['id']}/scenario"
    async with driver.http.put(url, json={"name": "no-such"}) as response:
        body = await response.json()
        assert response.status == 400
        assert "transfer-success" in body["error"]["message"]
    async with driver.http.put(url, json={"scenario": "x"}) as response:
        assert response.status == 400
    assert await driver.pin(call["id"], "transfer-failure-7000") == 200
    assert (await driver.get(f"/_mock/calls/{call['id']}"))["scenario"] == "transfer-failure-7000"
    assert await driver.pin(call["id"], None) == 200
    assert (await driver.get(f"/_mock/calls/{call['id']}"))["scenario"] is None


async def test_scenarios_lists_builtins_and_testers_files(driver: Driver) -> None:
    listed = {s["name"]: s for s in (await driver.get("/_mock/scenarios"))["value"]}
    assert {
        "transfer-success",
        "transfer-consultative-success",
        "transfer-failure-7000",
        "transfer-consultative-failure-7700",
        "vip-line-busy",
    } <= set(listed)
    vip = listed["vip-line-busy"]
    assert vip["operation"] == "transfer"
    assert vip["when"] == {"transferTarget.identity.phone.id": "+15550100"}
    assert vip["source"].endswith("vip.yaml:2:1")
    assert listed["transfer-consultative-success"]["when"] == {
        "transferTarget.replacesCallId": {"exists": True}
    }


async def test_journal_records_requests_and_notifications_per_call(driver: Driver) -> None:
    one, two = await driver.seed(), await driver.seed()
    await driver.transfer(one["id"])
    await driver.transfer(two["id"])
    await driver.notifications(one["id"], 3)
    await driver.notifications(two["id"], 3)

    everything = (await driver.get("/_mock/journal"))["value"]
    mine = (await driver.get(f"/_mock/journal?callId={one['id']}"))["value"]

    assert len(everything) == 8
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)
    assert [e["kind"] for e in mine] == ["request", "notification", "notification", "notification"]
    request = mine[0]
    assert request["path"] == f"/v1.0/communications/calls/{one['id']}/transfer"
    assert request["status"] == 202
    assert request["headers"]["Authorization"] == "Bearer test-token"
    note = mine[1]
    assert note["url"] == driver.bot.callback_url
    assert note["scenario"] == "transfer-success" and note["step"] == 1
    assert note["outcome"] == "delivered"
    assert note["attempts"][0]["status"] == 202
    assert note["body"]["value"][0]["resourceData"]["state"] == "transferring"


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_reset_takes_time_settings_and_a_bad_one_resets_nothing(driver: Driver) -> None:
    await driver.seed()
    url = f"{driver.graph.url}/_mock/reset"
    async with driver.http.post(url, json={"scale": -1}) as response:
        assert response.status == 400
        assert "'scale' must be 0 or more" in (await response.json())["error"]["message"]
    assert len((await driver.get("/_mock/calls"))["value"]) == 1  # nothing was reset
    async with driver.http.post(url, json={"scale": 0, "step": True}) as response:
        assert response.status == 200
    assert (await driver.get("/_mock/calls"))["value"] == []
    assert await driver.get("/_mock/time") == {"scale": 0.0, "step": True}
    async with driver.http.post(url) as response:  # no body: the start-up settings
        assert response.status == 200
    assert await driver.get("/_mock/time") == {"scale": 1.0, "step": False}


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_reset_forgets_calls_and_journal_and_stops_playback(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"])
    async with driver.http.post(f"{driver.graph.url}/_mock/reset") as response:
        assert response.status == 200
    assert (await driver.get("/_mock/calls"))["value"] == []
    assert (await driver.get("/_mock/journal"))["value"] == []
    assert len((await driver.get("/_mock/scenarios"))["value"]) >= 4
    assert driver.graph.backend.idle
    assert driver.bot.received == []  # the first step (50 ms) never went out


async def test_a_listed_bot_can_be_put_back_and_a_different_id_is_refused(graph, http) -> None:
    url = f"{graph.url}/_mock/bots/target-user"
    async with http.put(url, json={"callbackUri": "http://127.0.0.1:9/a"}) as response:
        assert response.status == 200
    async with http.get(f"{graph.url}/_mock/bots") as response:
        [listed] = (await response.json())["value"]
    moved = {**listed, "callbackUri": "http://127.0.0.1:9/b"}
    async with http.put(url, json=moved) as response:  # what GET listed, with its id
        assert response.status == 200 and (await response.json())["callbackUri"].endswith("/b")
    async with http.put(url, json={**moved, "id": "someone-else"}) as response:
        error = (await response.json())["error"]
    assert response.status == 400
    assert "'id' 'someone-else' is not the path's 'target-user'" in error["message"]
    async with http.put(url, json={"callbackUri": "127.0.0.1:9/b"}) as response:
        assert response.status == 400
