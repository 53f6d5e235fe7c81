"""--auth strict over HTTP: a Graph request needs a token of mockgraph's identity platform,
unexpired, for Graph, with a permission that allows the operation. Expectations: Graph's 401s
(graph-identity-facts.md §6), the calling API's 403 7504 (§7), the permissions of
call-transfer.md and call-recordresponse.md (§8)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from mockgraph.clock import ManualClock
from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import BLIND
from tests.test_cli import run

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "0a0a0a0a-1111-2222-3333-444444444444"
MEDIA_ONLY = "0c0c0c0c-1111-2222-3333-444444444444"
APPS = (
    {"clientId": CLIENT, "secret": "s3cret"},
    {"clientId": MEDIA_ONLY, "secret": "s3cret", "roles": ["Calls.AccessMedia.All"]},
)


async def token(
    http: aiohttp.ClientSession,
    graph: MockGraph,
    client_id: str = CLIENT,
    scope: str = "https://graph.microsoft.com/.default",
) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": "s3cret",
        "scope": scope,
    }
    async with http.post(f"{graph.url}/{TENANT}/oauth2/v2.0/token", data=form) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def transfer(
    http: aiohttp.ClientSession, graph: MockGraph, call_id: str, bearer: str | None
) -> tuple[int, dict[str, Any], Any]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    url = f"{graph.graph_url()}/communications/calls/{call_id}/transfer"
    async with http.post(url, json=BLIND, headers=headers) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


@pytest.fixture
async def strict(bot: BotReceiver) -> AsyncIterator[MockGraph]:
    async with MockGraph(
        auth="strict", apps=APPS, tenant_id=TENANT, time_scale=0, callback_url=bot.callback_url
    ) as graph:
        yield graph


async def test_strict_takes_its_own_token_and_journals_the_app(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    call = await strict.seed_call()
    status, _, _ = await transfer(http, strict, call["id"], await token(http, strict))
    assert status == 202
    [entry] = [e for e in await strict.journal(call["id"]) if e["kind"] == "request"]
    assert entry["appId"] == CLIENT


@pytest.mark.parametrize(
    "bearer, message",
    [
        (None, "Access token is empty"),
        ("any-token", "CompactToken parsing failed with error code: 80049217"),
    ],
)
async def test_strict_refuses_a_token_it_did_not_issue(
    strict: MockGraph, http: aiohttp.ClientSession, bearer: str | None, message: str
) -> None:
    call = await strict.seed_call()
    status, _, body = await transfer(http, strict, call["id"], bearer)
    assert (status, body["error"]["code"]) == (401, "InvalidAuthenticationToken")
    assert message in body["error"]["message"]
    assert (await strict.call(call["id"]))["state"] == "established"


async def test_strict_refuses_a_bot_framework_token_for_graph(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    call = await strict.seed_call()
    bearer = await token(http, strict, scope="https://api.botframework.com/.default")
    status, headers, body = await transfer(http, strict, call["id"], bearer)
    assert status == 401 and "Invalid audience" in body["error"]["message"]
    assert headers["WWW-Authenticate"].startswith("Bearer realm=")


async def test_strict_refuses_an_app_without_the_permission_by_name(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    call = await strict.seed_call()
    status, _, body = await transfer(
        http, strict, call["id"], await token(http, strict, MEDIA_ONLY)
    )
    assert (status, body["error"]["code"]) == (403, "7504")
    assert "Calls.Initiate.All" in body["error"]["message"]
    assert (await strict.call(call["id"]))["state"] == "established"


async def test_strict_refuses_an_expired_token(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(
        auth="strict",
        tenant_id=TENANT,
        token_lifetime=600,
        clock=clock,
        callback_url=bot.callback_url,
    ) as graph:
        bearer = await token(http, graph)
        first = await graph.seed_call()
        assert (await transfer(http, graph, first["id"], bearer))[0] == 202
        await clock.advance(601)
        second = await graph.seed_call()
        status, _, body = await transfer(http, graph, second["id"], bearer)
        assert status == 401
        assert body["error"]["message"] == "Lifetime validation failed, the token is expired."


async def test_lenient_takes_any_bearer_and_journals_no_app(
    http: aiohttp.ClientSession, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0, callback_url=bot.callback_url) as graph:
        call = await graph.seed_call()
        assert (await transfer(http, graph, call["id"], "any-token"))[0] == 202
        [entry] = [e for e in await graph.journal(call["id"]) if e["kind"] == "request"]
        assert entry["appId"] is None


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--auth", "strictly"], "--auth"),
        (["--app", '{"clientId": "x", "secret": ""}'], "'secret'"),
        (["--app", '{"clientId": "x", "certificate": "/no/such.pem"}'], "'certificate'"),
        (["--token-lifetime", "0"], "--token-lifetime"),
    ],
)
async def test_a_bad_auth_flag_stops_the_start_with_exit_2(flags: list[str], named: str) -> None:
    code, out, err = await run("serve", "--port", "0", *flags)
    assert (code, out) == (2, "")
    assert named in err


async def test_the_apps_of_the_control_plane_last_until_the_reset(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    added = await strict.register_app("late", secret="s3cret", roles=["Calls.Initiate.All"])
    assert added["roles"] == ["Calls.Initiate.All"] and added["hasSecret"] is True
    assert "secret" not in added
    assert await token(http, strict, "late")
    await strict.reset()
    assert [app["clientId"] for app in await strict.apps()] == [CLIENT, MEDIA_ONLY]
    form = {"grant_type": "client_credentials", "client_id": "late", "client_secret": "s3cret"}
    form["scope"] = "https://graph.microsoft.com/.default"
    async with http.post(f"{strict.url}/{TENANT}/oauth2/v2.0/token", data=form) as response:
        assert response.status == 400
        assert json.loads(await response.text())["error_codes"] == [700016]


async def test_strict_presence_needs_a_presence_permission(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    # presence-get's and setPresence's permissions pages: Presence.Read.All or
    # Presence.ReadWrite.All to read, Presence.ReadWrite.All to set.
    user = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3"
    await strict.add_user(user)
    url = f"{strict.graph_url()}/users/{user}/presence"
    for client_id, status in ((CLIENT, 200), (MEDIA_ONLY, 403)):
        headers = {"Authorization": f"Bearer {await token(http, strict, client_id)}"}
        async with http.get(url, headers=headers) as response:
            assert response.status == status, client_id
    headers = {"Authorization": f"Bearer {await token(http, strict, MEDIA_ONLY)}"}
    async with http.post(f"{url}/clearUserPreferredPresence", headers=headers) as response:
        body = await response.json()
    assert (response.status, body["error"]["code"]) == (403, "7504")
    assert "Presence.ReadWrite.All" in body["error"]["message"]


async def test_strict_call_records_need_the_call_records_permission(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    # callrecords-callrecord-get's permissions: CallRecords.Read.All (application) only. The
    # permission is checked before the record is looked for, so an unknown id shows it.
    url = f"{strict.graph_url()}/communications/callRecords/no-such-record"
    for client_id, status in ((CLIENT, 404), (MEDIA_ONLY, 403)):
        headers = {"Authorization": f"Bearer {await token(http, strict, client_id)}"}
        async with http.get(url, headers=headers) as response:
            body = await response.json()
        assert response.status == status, (client_id, body)
    assert "CallRecords.Read.All" in body["error"]["message"]


async def test_strict_online_meetings_need_an_online_meetings_permission(
    strict: MockGraph, http: aiohttp.ClientSession
) -> None:
    # The create page: OnlineMeetings.ReadWrite.All (application).
    url = f"{strict.graph_url()}/users/5810cedd-b43a-44a4-a2e8-0ba3a4b85b5e/onlineMeetings"
    for client_id, status in ((CLIENT, 201), (MEDIA_ONLY, 403)):
        headers = {"Authorization": f"Bearer {await token(http, strict, client_id)}"}
        async with http.post(url, json={"subject": "x"}, headers=headers) as response:
            body = await response.json()
        assert response.status == status, (client_id, body)
    assert "OnlineMeetings.ReadWrite.All" in body["error"]["message"]


async def test_strict_subscriptions_need_their_resources_permission(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    # changenotifications-for-callrecords: CallRecords.Read.All (application);
    # changenotifications-for-presence: application permissions "Not supported".
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {
        "changeType": "created",
        "resource": "/communications/callRecords",
        "notificationUrl": bot.callback_url,
        "expirationDateTime": later,
    }
    async with MockGraph(
        auth="strict", apps=APPS, tenant_id=TENANT, allow_http_webhooks=True
    ) as graph:
        url = f"{graph.graph_url()}/subscriptions"
        for client_id, status in ((CLIENT, 201), (MEDIA_ONLY, 403)):
            headers = {"Authorization": f"Bearer {await token(http, graph, client_id)}"}
            async with http.post(url, json=body, headers=headers) as response:
                answer = await response.json()
            assert response.status == status, (client_id, answer)
        assert "CallRecords.Read.All" in answer["error"]["message"]
        presence = {**body, "resource": "/communications/presences/u1", "changeType": "updated"}
        headers = {"Authorization": f"Bearer {await token(http, graph, CLIENT)}"}
        async with http.post(url, json=presence, headers=headers) as response:
            answer = await response.json()
        assert response.status == 403
        assert "delegated" in answer["error"]["message"]
        # Each app lists its own subscriptions.
        async with http.get(url, headers=headers) as response:
            assert len((await response.json())["value"]) == 1
        other = {"Authorization": f"Bearer {await token(http, graph, MEDIA_ONLY)}"}
        async with http.get(url, headers=other) as response:
            assert (await response.json())["value"] == []
