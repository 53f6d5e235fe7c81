"""The fake Graph operations. Each handler reads the request and hands it to the backend."""

from __future__ import annotations

from aiohttp import web

from mockgraph.backend import CallingBackend
from mockgraph.graph.requests import read_action_body

BACKEND: web.AppKey[CallingBackend] = web.AppKey("backend", CallingBackend)


async def transfer(request: web.Request) -> web.Response:
    """``POST /{version}/communications/calls/{id}/transfer`` -> 202, then notifications."""
    version = request.match_info.get("version", "beta")  # the /beta/app/... alias has none
    body = await read_action_body(request, version, "transfer")
    request.app[BACKEND].transfer(request.match_info["call_id"], body)
    return web.Response(status=202)
