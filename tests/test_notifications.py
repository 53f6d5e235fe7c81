"""Notifications as Graph sends them: signed tokens, headers, replies, retries, faults,
quirks, shutdown and the journal bound. A real bot receiver answers every POST."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from mockgraph.testing import BotReceiver, MockGraph, Reply
from tests.conftest import AUTH, BLIND, TESTS, marked_settings


async def transfer(graph: MockGraph, call_id: str, body: Any = BLIND) -> None:
    url = f"{graph.graph_url()}/communications/calls/{call_id}/transfer"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=AUTH) as r:
        assert r.status == 202, await r.text()


async def notes(graph: MockGraph, call_id: str) -> list[dict[str, Any]]:
    return [e for e in await graph.journal(call_id) if e["kind"] == "notification"]


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[MockGraph, BotReceiver]]:
    """A server with the settings of the test's ``settings`` marker, and a bot."""
    settings = marked_settings(request)
    async with MockGraph([TESTS / "scenarios"], **settings) as graph, BotReceiver() as bot:
        yield graph, bot


# --- tokens -----------------------------------------------------------------------------


@pytest.mark.settings(app_id="bot-app-1", token_issuer="https://graph.microsoft.com")
async def test_every_notification_carries_a_token_the_served_jwks_verifies(served) -> None:
    graph, bot = served
    call = await graph.seed_call(callback_uri=bot.callback_url, tenant_id="tenant-7")
    await transfer(graph, call["id"])
    await bot.wait_for(3)

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{graph.url}/_mock/.well-known/openid-configuration") as r:
            config = await r.json()
        async with http.get(config["jwks_uri"]) as r:
            jwks = await r.json()
    assert config["issuer"] == "https://graph.microsoft.com"
    keys = {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}
    for received in bot.received:
        scheme, token = received.headers["Authorization"].split(" ")
        kid = jwt.get_unverified_header(token)["kid"]
        claims = jwt.decode(
            token,
            keys[kid].key,
            algorithms=["RS256"],
            audience="bot-app-1",
            issuer="https://graph.microsoft.com",
            options={"require": ["iat", "nbf", "exp", "tid"]},
        )
        assert scheme == "Bearer"
        assert claims["tid"] == "tenant-7"
        assert claims["exp"] - claims["iat"] == 3600


async def test_a_token_from_another_key_fails_verification(served) -> None:
    graph, bot = served
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    await bot.wait_for(1)
    token = bot.received[0].headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    tail = "AAAA" if signature[-4:] != "AAAA" else "BBBB"
    forged = ".".join([header, payload, signature[:-4] + tail])
    async with aiohttp.ClientSession() as http, http.get(f"{graph.url}/_mock/keys") as r:
        [key] = (await r.json())["keys"]
    jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], options={"verify_aud": False})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, jwt.PyJWK(key).key, algorithms=["RS256"], options={"verify_aud": False})


async def test_signing_key_file_is_created_then_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    kids = []
    for _ in range(2):
        async with MockGraph(signing_key=str(key_file)) as graph:
            kids.append(graph.backend.issuer.jwks()["keys"][0]["kid"])
    assert key_file.exists() and json.loads(key_file.read_text())["d"]
    assert kids[0] == kids[1]


# --- headers ------------------------------------------------------------------------------


async def test_headers_graph_sends(served) -> None:
    graph, bot = served
    one = await graph.seed_call(callback_uri=bot.callback_url)
    two = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, one["id"])
    await transfer(graph, two["id"])
    await bot.wait_for(6)

    first, second = bot.for_call(one["id"]), bot.for_call(two["id"])
    for received in first:
        headers = received.headers
        assert headers["User-Agent"] == "Microsoft-Skype/3.0,(Calling/1.0)"
        assert headers["X-Microsoft-Skype-Chain-ID"] == one["callChainId"]
        assert headers["client-request-id"] == headers["X-Microsoft-Skype-Message-ID"]
        assert headers["Content-Type"] == "application/json"
        assert headers["Accept"] == "application/json"  # as on Graph's; no Accept-Encoding
        assert "Accept-Encoding" not in headers
        assert headers["Host"] == bot.callback_url.split("/")[2]
    message_ids = {r.headers["X-Microsoft-Skype-Message-ID"] for r in first + second}
    assert len(message_ids) == 6
    assert len({r.headers["Scenario-Id"] for r in first}) == 1
    assert first[0].headers["Scenario-Id"] != second[0].headers["Scenario-Id"]


# --- replies ------------------------------------------------------------------------------


async def test_204_is_delivered_as_legacy_acknowledgement(served) -> None:
    graph, bot = served
    bot.status = 204
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    assert [n["outcome"] for n in sent] == ["delivered"] * 3
    assert "legacy" in sent[0]["note"]


async def test_302_moves_this_and_later_notifications_to_the_new_url(served) -> None:
    graph, bot = served
    async with BotReceiver() as other:
        bot.reply_with(Reply(302, {"Location": other.callback_url}))
        call = await graph.seed_call(callback_uri=bot.callback_url)
        await transfer(graph, call["id"])
        sent = await graph.wait_for_notifications(call["id"], 3)

        assert len(bot.received) == 1
        assert [r.notifications[0]["resourceData"]["state"] for r in other.received] == [
            "transferring",
            "transferAccepted",
            "terminated",
        ]
    first = sent[0]
    assert [a.get("status") for a in first["attempts"]] == [302, 202]
    assert first["attempts"][0]["redirectedTo"] == other.callback_url
    # each record keeps the URL it was addressed to; the later ones were addressed to the new one
    assert [n["url"] for n in sent] == [bot.callback_url] + [other.callback_url] * 2
    assert (await graph.call(call["id"]))["call"]["callbackUri"] == other.callback_url


async def test_403_is_a_rejection_and_not_retried(served) -> None:
    graph, bot = served
    bot.reply_with(Reply(403))
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    assert sent[0]["outcome"] == "rejected" and len(sent[0]["attempts"]) == 1
    assert "rejected" in sent[0]["note"]
    assert [n["outcome"] for n in sent[1:]] == ["delivered", "delivered"]


@pytest.mark.settings(delivery_attempts=4)
async def test_5xx_is_retried_with_backoff_until_it_succeeds(served) -> None:
    graph, bot = served
    bot.reply_with(Reply(500), Reply(503), Reply(502))
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    assert [a["status"] for a in sent[0]["attempts"]] == [500, 503, 502, 202]
    assert sent[0]["outcome"] == "delivered"
    assert len({a["messageId"] for a in sent[0]["attempts"]}) == 4


@pytest.mark.settings(delivery_attempts=2)
async def test_failures_are_retried_up_to_the_limit_then_failed(served) -> None:
    graph, bot = served
    bot.status = 500
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    assert [(n["outcome"], len(n["attempts"])) for n in sent] == [("failed", 2)] * 3


async def test_other_4xx_fails_without_retry(served) -> None:
    graph, bot = served
    bot.reply_with(Reply(404))
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    assert (sent[0]["outcome"], len(sent[0]["attempts"])) == ("failed", 1)


@pytest.mark.settings(delivery_timeout=0.2, delivery_attempts=2)
async def test_a_bot_that_does_not_answer_in_time_is_retried(served) -> None:
    graph, bot = served
    bot.reply_with(Reply(202, delay=1.0))
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    sent = await graph.wait_for_notifications(call["id"], 3)
    attempts = sent[0]["attempts"]
    assert attempts[0]["error"] == "no answer within 0.2 s"
    assert attempts[1]["status"] == 202 and sent[0]["outcome"] == "delivered"


@pytest.mark.settings(delivery_attempts=1, halt_on_failure=True)
async def test_halt_on_failure_drops_the_calls_later_notifications(served) -> None:
    graph, bot = served
    bot.status = 500
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    await graph.wait_idle()
    sent = await notes(graph, call["id"])
    assert [n["outcome"] for n in sent] == ["failed", "cancelled", "cancelled"]
    assert len(bot.received) == 1
    assert "failed" in sent[1]["note"]


# --- faults and quirks --------------------------------------------------------------------

FAULTS = """\
name: faults
operation: transfer
steps:
  - notify:
      - {changeType: updated, resourceData: {state: transferring}}
      - {changeType: updated, resourceData: {mediaState: {audio: inactive}}}
  - fault: outOfOrder
    notify: {changeType: updated, resourceData: {state: transferAccepted}}
  - after: 20ms
    fault: duplicate
    notify:
      changeType: updated
      resourceData: {state: established, resultInfo: {code: 0, subcode: 1}}
  - fault: drop
    notify: {changeType: deleted, resourceData: {state: terminated}}
"""


async def test_faults_batch_out_of_order_duplicate_and_drop(served) -> None:
    graph, bot = served
    await graph.load_scenarios(FAULTS)
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], "faults")
    await transfer(graph, call["id"])
    await graph.wait_idle()

    posts = [[item["resourceData"] for item in r.notifications] for r in bot.received]
    assert [[d.get("state") or d.get("mediaState") for d in post] for post in posts] == [
        ["transferring", {"audio": "inactive"}],  # two notifications in one POST
        ["established"],  # the step after the out-of-order one went first, twice
        ["established"],
        ["transferAccepted"],  # then the out-of-order one; the dropped one never
    ]
    ids = [r.headers["X-Microsoft-Skype-Message-ID"] for r in bot.received]
    assert len(set(ids)) == 4
    sent = await notes(graph, call["id"])
    assert [n["outcome"] for n in sent] == ["delivered"] * 4 + ["dropped"]
    # the truth follows the scenario's order, whatever the bot received
    seen = await graph.call(call["id"])
    assert [h["state"] for h in seen["history"]] == [
        "established",
        "transferring",
        "transferAccepted",
        "established",
        "terminated",
    ]


QUIRKY = """\
name: quirky
operation: transfer
quirks: [subCode, noResource]
steps:
  - notify:
      changeType: deleted
      resourceData: {state: terminated, resultInfo: {code: 0, subcode: 7015}}
  - quirks: [code200, capitalChangeType, docsExamples]
    notify:
      changeType: updated
      resourceData: {state: terminated, resultInfo: {code: 0, subcode: 7015}}
"""
TYPED = {"@odata.type": "#microsoft.graph.resultInfo"}


async def test_quirks_per_scenario_and_per_step(served) -> None:
    graph, bot = served
    await graph.load_scenarios(QUIRKY)
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], "quirky")
    await transfer(graph, call["id"])
    await bot.wait_for(2)
    first, second = (r.notifications[0] for r in bot.received)
    assert first["resourceData"]["resultInfo"] == {**TYPED, "code": 0, "subCode": 7015}
    assert first["changeType"] == "deleted" and "resource" not in first
    assert first["resourceData"]["callChainId"] == call["callChainId"]
    # The transfer page's own example: untyped, no chain id, no resource.
    assert second["resourceData"] == {
        "@odata.type": "#microsoft.graph.call",
        "state": "terminated",
        "resultInfo": {"code": 200, "subCode": 7015},
    }
    assert second["changeType"] == "Updated"
    assert "resource" not in second
    assert second["resourceUrl"] == f"/communications/calls/{call['id']}"


async def test_legacy_resource_is_the_default_and_its_quirk_still_loads(served) -> None:
    graph, bot = served
    await graph.load_scenarios(
        QUIRKY.replace("quirky", "old").replace("noResource", "legacyResource")
    )
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], "old")
    await transfer(graph, call["id"])
    await bot.wait_for(1)
    assert bot.received[0].notifications[0]["resource"] == f"/app/calls/{call['id']}"


@pytest.mark.settings(quirks=("subCode",))
async def test_quirks_for_the_whole_server(served) -> None:
    graph, bot = served
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    await bot.wait_for(3)
    last = bot.received[-1].notifications[0]["resourceData"]["resultInfo"]
    assert last == {**TYPED, "code": 0, "subCode": 7015, "message": "GracefulTransferCompleted"}


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "transfer-success-media-inactive-first",
            ["transferring", "audio inactive", "transferAccepted", "terminated"],
        ),
        (
            "transfer-success-media-inactive-last",
            ["transferring", "transferAccepted", "audio inactive", "terminated"],
        ),
    ],
)
async def test_builtin_media_inactive_variants(served, name, expected) -> None:
    graph, bot = served
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], name)
    await transfer(graph, call["id"])
    await bot.wait_for(4)
    data = [r.notifications[0]["resourceData"] for r in bot.received]
    got = [d.get("state") or f"audio {d['mediaState']['audio']}" for d in data]
    assert got == expected


async def test_jitter_is_accepted_and_the_scenario_still_plays_in_order(served) -> None:
    graph, bot = served
    await graph.load_scenarios(
        "name: jittery\noperation: transfer\njitter: 5ms\nsteps:\n"
        "  - {after: 10ms, notify: {changeType: updated, resourceData: {state: transferring}}}\n"
        "  - {after: 10ms, jitter: 8ms,\n"
        "     notify: {changeType: deleted, resourceData: {state: terminated}}}\n"
    )
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], "jittery")
    await transfer(graph, call["id"])
    await graph.wait_for_state(call["id"], "terminated")
    await bot.wait_for(2)
    assert [r.notifications[0]["resourceData"]["state"] for r in bot.received] == [
        "transferring",
        "terminated",
    ]


# --- shutdown and the journal bound --------------------------------------------------------


@pytest.mark.settings(grace_period=5)
async def test_shutdown_finishes_deliveries_in_flight_and_cancels_the_rest(served) -> None:
    graph, bot = served
    graph.backend.signing.prepare()  # the key, made now
    bot.reply_with(Reply(202, delay=0.5))
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await transfer(graph, call["id"])
    await bot.wait_for(1)  # the first notification is in flight, the bot is slow

    await graph.close()

    entries = [e.to_json() for e in graph.backend.journal.entries(call["id"])]
    sent = [e for e in entries if e["kind"] == "notification"]
    assert sent[0]["outcome"] == "delivered"
    assert [n["outcome"] for n in sent[1:]] == ["cancelled", "cancelled"]
    assert all(n["note"] == "mockgraph stopped" for n in sent[1:])


@pytest.mark.settings(journal_limit=5)
async def test_journal_keeps_its_bound_and_counts_what_it_dropped(served) -> None:
    graph, bot = served
    for _ in range(3):
        call = await graph.seed_call(callback_uri=bot.callback_url)
        await transfer(graph, call["id"])
        await graph.wait_for_state(call["id"], "terminated")
    await graph.wait_idle()
    async with aiohttp.ClientSession() as http, http.get(f"{graph.url}/_mock/journal") as r:
        journal = await r.json()
    assert len(journal["value"]) == 5
    assert journal["limit"] == 5
    assert journal["dropped"] == 3 * 4 - 5  # 3 transfers: a request and 3 notifications each
    assert journal["value"][-1]["outcome"] == "delivered"


@pytest.mark.settings(calls_limit=10)
async def test_the_oldest_ended_calls_are_forgotten_past_the_limit(served) -> None:
    graph, bot = served
    ended = [
        await graph.seed_call(callback_uri=bot.callback_url, state="terminated") for _ in range(8)
    ]
    live = [await graph.seed_call(callback_uri=bot.callback_url) for _ in range(4)]
    async with aiohttp.ClientSession() as http, http.get(f"{graph.url}/_mock/calls") as r:
        listed = await r.json()
    kept = {c["id"] for c in listed["value"]}
    assert {c["id"] for c in live} <= kept  # calls not yet over are never forgotten
    assert listed["forgotten"] == 12 - len(kept) > 0
    assert ended[0]["id"] not in kept and ended[-1]["id"] in kept
