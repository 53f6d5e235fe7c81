"""The control plane for tests, under /_mock (Graph paths never start with it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockgraph.errors import BadRequest
from mockgraph.graph.handlers import BACKEND
from mockgraph.graph.requests import read_json_object

SEED_KEYS = ("id", "callbackUri", "state", "tenantId", "source", "targets", "direction")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def seed_call(request: web.Request) -> web.Response:
    body = await read_json_object(request, require_content_type=False)
    unknown = sorted(set(body) - set(SEED_KEYS))
    if unknown:
        raise BadRequest(f"Unknown key(s) {unknown}; a seeded call takes: {', '.join(SEED_KEYS)}.")
    for key in ("id", "callbackUri", "state", "tenantId", "direction"):
        if key in body and not isinstance(body[key], str):
            raise BadRequest(f"'{key}' must be a string.")
    if "direction" in body and body["direction"] not in ("incoming", "outgoing"):
        raise BadRequest("'direction' must be 'incoming' or 'outgoing'.")
    call = request.app[BACKEND].seed_call(body)
    return web.json_response(call.to_graph(), status=201)


async def list_calls(request: web.Request) -> web.Response:
    return web.json_response({"value": [call.to_json() for call in request.app[BACKEND].calls]})


async def get_call(request: web.Request) -> web.Response:
    call = request.app[BACKEND].calls.get(request.match_info["call_id"])
    return web.json_response(call.to_json())


async def pin_scenario(request: web.Request) -> web.Response:
    body = await read_json_object(request, require_content_type=False)
    name = body.get("name", ...)
    if name is ... or not (name is None or isinstance(name, str)):
        raise BadRequest('Send {"name": "<scenario name>"}, or {"name": null} to unpin.')
    call = request.app[BACKEND].pin_scenario(request.match_info["call_id"], name)
    return web.json_response(call.to_json())


async def list_scenarios(request: web.Request) -> web.Response:
    library = request.app[BACKEND].library
    return web.json_response({"value": [scenario.summary() for scenario in library]})


async def journal(request: web.Request) -> web.Response:
    call_id = request.query.get("callId")
    entries: list[dict[str, Any]] = [
        entry.to_json() for entry in request.app[BACKEND].journal.entries(call_id)
    ]
    return web.json_response({"value": entries})


async def reset(request: web.Request) -> web.Response:
    await request.app[BACKEND].reset()
    return web.json_response({"status": "reset"})


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/_mock/health", health)
    app.router.add_post("/_mock/calls", seed_call)
    app.router.add_get("/_mock/calls", list_calls)
    app.router.add_get("/_mock/calls/{call_id}", get_call)
    app.router.add_put("/_mock/calls/{call_id}/scenario", pin_scenario)
    app.router.add_get("/_mock/scenarios", list_scenarios)
    app.router.add_get("/_mock/journal", journal)
    app.router.add_post("/_mock/reset", reset)
