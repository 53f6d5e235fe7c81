"""Graph's presence surface: one generic handler serves every declared presence operation
(``mockgraph.presence.operations``). It reads the body, hands it to the operation (the schema,
the user, the rules) and renders Graph's answer: 200 with the presence (or ``value``), or 200
with no body for the actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgraph.http.graph_routes import add_resource_routes
from mockgraph.http.keys import PRESENCES
from mockgraph.http.requests import origin, read_json_object
from mockgraph.presence.operations import PRESENCE_OPERATIONS, PresenceOperation

NAMES = {"{userId}": "{user_id}"}


def handler(
    operation: PresenceOperation, version: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = None
        if operation.request is not None:
            body = await read_json_object(request, allow_empty=operation.may_be_empty)
        user_id = request.match_info.get("user_id", "")
        result = operation.perform_checked(request.app[PRESENCES], version, user_id, body)
        context = operation.odata_context
        if context is None:
            return web.Response(status=200)
        shown = {"@odata.context": f"{origin(request)}/{version}/$metadata#{context}", **result}
        return web.json_response(shown)

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


def add_presence_routes(app: web.Application) -> None:
    add_resource_routes(app, PRESENCE_OPERATIONS, handler, NAMES)
