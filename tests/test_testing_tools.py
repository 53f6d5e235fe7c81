"""MockGraph, the clients, long polls, controlled time and run-time scenarios."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest

from mockgraph.scenarios.loader import scenario_schema
from mockgraph.testing import (
    BotReceiver,
    MockGraph,
    MockGraphClient,
    MockGraphError,
    MockGraphSyncClient,
    MockGraphTimeout,
)
from tests.conftest import Driver

SLOW = """\
name: slow
operation: transfer
steps:
  - after: 3600s
    notify: {changeType: updated, resourceData: {state: transferring}}
  - after: 3600s
    notify: {changeType: deleted, resourceData: {state: terminated}}
"""


async def test_methods_mirror_the_control_plane(graph: MockGraph, bot: BotReceiver) -> None:
    assert graph.graph_url("beta") == f"{graph.url}/beta"
    assert await graph.health() == {"status": "ok"}
    call = await graph.seed_call("c-1", callback_uri=bot.callback_url, tenant_id="t")
    assert (call["id"], call["tenantId"]) == ("c-1", "t")
    pinned = await graph.pin_scenario("c-1", "transfer-failure-7000")
    assert pinned["scenario"] == "transfer-failure-7000"
    assert [c["id"] for c in await graph.calls()] == ["c-1"]
    assert (await graph.call("c-1"))["state"] == "established"
    assert "transfer-success" in {s["name"] for s in await graph.scenarios()}
    assert await graph.journal() == []
    rung = await graph.ring("c-2", callback_uri=bot.callback_url, timeout=30, tenant_id="t2")
    assert (rung["state"], rung["tenantId"]) == ("incoming", "t2")
    await bot.wait_for(1, call_id="c-2")
    assert await graph.register_bot("u-1", bot.callback_url) == {
        "id": "u-1",
        "callbackUri": bot.callback_url,
    }
    await graph.reset()
    assert await graph.calls() == []


async def test_errors_raise_with_status_and_code(graph: MockGraph) -> None:
    with pytest.raises(MockGraphError) as raised:
        await graph.call("missing")
    assert (raised.value.status, raised.value.code) == (404, "8522")


async def test_wait_for_state_returns_when_reached(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"])
    seen = await driver.graph.wait_for_state(call["id"], "terminated", timeout=5)
    assert seen["state"] == "terminated"
    # reached earlier counts too, so a fast scenario cannot make a test flaky
    assert (await driver.graph.wait_for_state(call["id"], "transferring"))["state"] == "terminated"


async def test_wait_for_state_times_out_with_the_current_state(driver: Driver) -> None:
    call = await driver.seed()
    with pytest.raises(MockGraphTimeout) as raised:
        await driver.graph.wait_for_state(call["id"], "terminated", timeout=0.2)
    assert raised.value.status == 408
    assert "it is established" in str(raised.value)
    assert raised.value.body["call"]["state"] == "established"


async def test_wait_for_notifications_both_ways(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"])
    notes = await driver.graph.wait_for_notifications(call["id"], 3, timeout=5)
    assert [n["outcome"] for n in notes] == ["delivered"] * 3
    with pytest.raises(MockGraphTimeout) as raised:
        await driver.graph.wait_for_notifications(call["id"], 4, timeout=0.1)
    assert len(raised.value.body["value"]) == 3


async def test_wait_idle(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"])
    await driver.graph.wait_idle(timeout=5)
    assert len(driver.bot.for_call(call["id"])) == 3


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_wait_idle_times_out_while_busy(driver: Driver) -> None:
    await driver.graph.load_scenarios(SLOW)
    call = await driver.seed()
    await driver.graph.pin_scenario(call["id"], "slow")
    await driver.transfer(call["id"])
    with pytest.raises(MockGraphTimeout):
        await driver.graph.wait_idle(timeout=0.1)


async def test_time_scale_0_collapses_pauses(driver: Driver) -> None:
    await driver.graph.load_scenarios(SLOW)
    assert await driver.graph.set_time(scale=0) == {"scale": 0, "step": False}
    call = await driver.seed()
    await driver.graph.pin_scenario(call["id"], "slow")
    await driver.transfer(call["id"])
    # two pauses of an hour each, collapsed
    assert (await driver.graph.wait_for_state(call["id"], "terminated"))["state"] == "terminated"


async def test_step_mode_holds_each_notification_until_advanced(driver: Driver) -> None:
    graph = driver.graph
    await graph.set_time(scale=0, step=True)
    call = await driver.seed()
    await driver.transfer(call["id"])

    held = await graph.wait_for_step(call["id"], 1)
    assert (held["waitingStep"], held["state"], driver.bot.received) == (1, "established", [])

    await graph.advance(call["id"])
    await graph.wait_for_notifications(call["id"], 1)
    assert (await graph.call(call["id"]))["state"] == "transferring"
    assert len(driver.bot.for_call(call["id"])) == 1

    await graph.advance(call["id"], steps=2)
    assert (await graph.wait_for_state(call["id"], "terminated"))["waitingStep"] is None
    await graph.wait_for_notifications(call["id"], 3)
    assert len(driver.bot.for_call(call["id"])) == 3


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_reset_restores_start_up_time(graph: MockGraph) -> None:
    await graph.set_time(scale=0, step=True)
    await graph.reset()
    assert await graph.set_time() == {"scale": 1.0, "step": False}


@pytest.mark.parametrize(
    "body, fragment",
    [({"scale": -1}, "'scale' must be 0 or more"), ({"step": "yes"}, "'step' must be a boolean")],
)
async def test_bad_time_settings_are_400(graph: MockGraph, body, fragment) -> None:
    with pytest.raises(MockGraphError) as raised:
        await graph.set_time(**body)
    assert raised.value.status == 400 and fragment in str(raised.value)


async def test_scenarios_load_at_run_time_with_the_same_checks(graph: MockGraph) -> None:
    [loaded] = await graph.load_scenarios(SLOW)
    assert loaded["name"] == "slow" and loaded["source"] == "request:1:1"
    typo = SLOW.replace("slow", "typo").replace("transferring", "transfering")
    with pytest.raises(MockGraphError) as raised:
        await graph.load_scenarios(typo)
    assert raised.value.status == 400
    assert raised.value.body["problems"][0].startswith("request:5:")
    assert "typo" not in {s["name"] for s in await graph.scenarios()}


def test_sync_client_blocks_outside_async_code() -> None:
    async def serve_and_use() -> None:
        async with MockGraph() as graph, BotReceiver() as bot:

            def use() -> str:
                client = MockGraphSyncClient(graph.url)
                call = client.seed_call(callback_uri=bot.callback_url)
                client.pin_scenario(call["id"], "transfer-failure-7000")
                return str(client.call(call["id"])["scenario"])

            assert await asyncio.to_thread(use) == "transfer-failure-7000"

    asyncio.run(serve_and_use())


async def test_sync_client_refuses_to_block_an_event_loop(graph: MockGraph) -> None:
    with pytest.raises(RuntimeError, match="use MockGraphClient"):
        MockGraphSyncClient(graph.url).health()


async def test_client_for_a_server_started_elsewhere(graph: MockGraph) -> None:
    client = MockGraphClient(graph.url + "/")
    assert await client.health() == {"status": "ok"}


async def test_schema_command_prints_the_scenario_schema() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mockgraph", "schema", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert json.loads(out) == scenario_schema()


async def test_leaving_step_mode_releases_every_held_step(driver: Driver) -> None:
    graph = driver.graph
    await graph.set_time(scale=0, step=True)
    calls = [await driver.seed() for _ in range(3)]
    for call in calls:
        await driver.transfer(call["id"])
    for call in calls:
        assert (await graph.wait_for_step(call["id"]))["waitingStep"] == 1
    assert driver.bot.received == []

    await graph.set_time(step=False)

    for call in calls:
        assert (await graph.wait_for_state(call["id"], "terminated"))["state"] == "terminated"


@pytest.mark.parametrize(
    "path, fragment",
    [
        ("/wait", "'state' is required"),
        ("/wait?state=transfering", '"transfering" is not one of: incoming'),
        ("/wait?state=terminated&waitingStep=1", "but not both"),
        ("/wait?waitingStep=next", "'waitingStep' must be a whole number"),
        ("/wait?state=terminated&timeout=soon", "'timeout' must be a number from 0 to 300"),
        ("/wait?state=terminated&timeout=301", "'timeout' must be a number from 0 to 300"),
        ("/notifications?count=-1", "'count' must be a whole number, 0 or more"),
        ("/notifications?count=1.5", "'count' must be a whole number"),
    ],
)
async def test_bad_long_poll_parameters_are_400(driver: Driver, path: str, fragment: str) -> None:
    call = await driver.seed()
    async with driver.http.get(f"{driver.graph.url}/_mock/calls/{call['id']}{path}") as response:
        body = await response.json()
    assert response.status == 400, body
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize("raw", ['{"scale": NaN}', '{"scale": Infinity}'])
async def test_time_scale_that_is_not_a_finite_number_is_400(graph: MockGraph, raw: str) -> None:
    async with aiohttp.ClientSession() as http, http.put(f"{graph.url}/_mock/time", data=raw) as r:
        body = await r.json()
    assert r.status == 400 and "'scale' must be 0 or more" in body["error"]["message"]
