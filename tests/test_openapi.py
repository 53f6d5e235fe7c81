"""GET /_mock/openapi.json describes everything mockgraph serves (Graph, the control plane and
the identity platform), from the declarations; a short fuzz run against it finds no 5xx and no
answer the description does not allow."""

from __future__ import annotations

from typing import Any

import aiohttp

from bench.fuzz import fuzz
from mockgraph.calling.operations import OPERATIONS
from mockgraph.http.control_routes import CONTROL_ROUTES
from mockgraph.http.identity_routes import IDENTITY_ROUTES
from mockgraph.testing import MockGraph


async def served() -> dict[str, Any]:
    async with (
        MockGraph(control_token="t") as graph,  # open even with a control token
        aiohttp.ClientSession() as http,
        http.get(f"{graph.url}/_mock/openapi.json") as response,
    ):
        assert response.status == 200
        document: dict[str, Any] = await response.json()
        assert document["servers"] == [{"url": graph.url}]
        return document


async def test_every_route_is_described_and_every_reference_resolves() -> None:
    document = await served()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for operation in OPERATIONS:
        for form in operation.route.forms() if operation.route else ():
            path = form.path.replace("{id}", "{callId}")
            assert form.method.lower() in paths[path], (form.method, path)
            assert paths[path][form.method.lower()]["deprecated"] == ("/app/" in path)
    for control in CONTROL_ROUTES:
        assert (control.method.lower() in paths.get(control.path, {})) != control.streams
    for identity in IDENTITY_ROUTES:  # the identity platform's, with Entra's errors
        described = paths[identity.path][identity.method.lower()]
        assert {str(status) for status in identity.refuses} <= set(described["responses"])
    schemas = document["components"]["schemas"]

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
            return found + [r for item in value.values() for r in refs(item)]
        if isinstance(value, list):
            return [r for item in value for r in refs(item)]
        return []

    for ref in set(refs(document)):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


async def test_a_short_fuzz_finds_nothing() -> None:
    code, summary = await fuzz(examples=2, aliases=False)
    assert code == 0, summary


async def test_a_control_route_that_answered_409_describes_it() -> None:
    # The long fuzz found these: a seeded or rung call with an id already taken, and keys
    # pressed on a call whose bot has not subscribed to tones, answer 409
    # (tests/test_control.py, tests/test_media.py).
    document = await served()
    for path in ("/_mock/calls", "/_mock/calls/incoming", "/_mock/calls/{call_id}/tones"):
        assert "409" in document["paths"][path]["post"]["responses"], path
