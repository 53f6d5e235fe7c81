"""Who may steer: with --control-token, /_mock answers only its bearer; what bots read stays
open; a server bound beyond loopback without a token says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mockgraph.testing import MockGraph, MockGraphClient, MockGraphError
from tests.conftest import AUTH, BLIND, launched

TOKEN = "s3cret-token"


@pytest.fixture
async def guarded() -> AsyncIterator[MockGraph]:
    async with MockGraph(control_token=TOKEN, time_scale=0) as graph:
        yield graph


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/_mock/calls"),
        ("POST", "/_mock/calls"),
        ("POST", "/_mock/reset"),
        ("GET", "/_mock/journal"),
        ("PUT", "/_mock/time"),
        ("GET", "/_mock/calls/nope/wait?state=terminated"),
        ("POST", "/_mock/scenarios"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"])
async def test_the_control_plane_answers_only_its_bearer(
    guarded: MockGraph, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, guarded.url + path, headers=headers, json={}) as response,
    ):
        assert response.status == 401
        body = await response.json()
    assert body["error"]["code"] == "InvalidAuthenticationToken"
    assert "--control-token" in body["error"]["message"]
    assert guarded.backend.control.calls()["value"] == []  # nothing was done


async def test_with_the_token_everything_works(guarded: MockGraph) -> None:
    client = MockGraphClient(guarded.url, token=TOKEN)
    call = await client.seed_call("c", callback_uri="http://127.0.0.1:9/cb")
    assert (await client.call(call["id"]))["state"] == "established"
    assert (await guarded.calls())[0]["id"] == "c"  # the in-process server knows its own token
    with pytest.raises(MockGraphError) as refused:
        await MockGraphClient(guarded.url).calls()
    assert refused.value.status == 401


@pytest.mark.parametrize(
    "path", ["/_mock/health", "/_mock/keys", "/_mock/.well-known/openid-configuration"]
)
async def test_what_bots_read_stays_open(guarded: MockGraph, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(guarded.url + path) as response:
        assert response.status == 200


async def test_graph_paths_keep_their_own_check(guarded: MockGraph) -> None:
    await guarded.seed_call("c", callback_uri="http://127.0.0.1:9/cb")
    url = f"{guarded.graph_url()}/communications/calls/c/transfer"
    async with aiohttp.ClientSession() as http, http.post(url, json=BLIND, headers=AUTH) as r:
        assert r.status == 202  # the bot's bearer, not the control token


async def serve_and_stop(*args: str, env: dict[str, str] | None = None) -> str:
    """Start `mockgraph serve`, wait for its ready line, stop it; its stderr."""
    process, line = await launched("serve", *args, env=env)
    assert line.startswith("mockgraph listening on")
    process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode()


async def test_listening_beyond_loopback_without_a_token_warns() -> None:
    err = await serve_and_stop("--host", "0.0.0.0")
    assert "warning: listening on 0.0.0.0 with no --control-token" in err


@pytest.mark.parametrize(
    "args, env",
    [
        (("--host", "0.0.0.0", "--control-token", TOKEN), None),
        (("--host", "0.0.0.0"), {"MOCKGRAPH_CONTROL_TOKEN": TOKEN}),
        (("--host", "127.0.0.1"), None),
    ],
)
async def test_no_warning_with_a_token_or_on_loopback(
    args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    assert "warning" not in await serve_and_stop(*args, env=env)
