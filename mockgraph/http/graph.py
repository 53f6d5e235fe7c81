"""The fake Graph surface: one generic handler serves every declared operation.

The handler reads the request (steps 3-4 of the checking order: content type, size, and the
JSON itself), hands it to ``GraphService.perform`` (steps 5-8) and renders the declared
answer. Authentication (step 1) comes first, in the middleware, for every Graph path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockgraph.calling.calls import Call
from mockgraph.calling.operations import OPERATIONS, Operation
from mockgraph.http.keys import GRAPH
from mockgraph.http.requests import read_json_object

VERSION = r"v1\.0|beta"


def aiohttp_path(path: str) -> str:
    """A declared route (``/{version}/communications/calls/{id}``) as aiohttp's pattern."""
    return path.replace("{version}", f"{{version:{VERSION}}}").replace("{id}", "{call_id}")


def _version(request: web.Request) -> str:
    return request.match_info.get("version", "beta")  # the /beta/app/... alias has none


def _base_url(request: web.Request) -> str:
    """This version's Graph base URL, as the bot reached it."""
    return f"{request.scheme}://{request.host}/{_version(request)}"


def _call_json(request: web.Request, call: Call) -> dict[str, Any]:
    context = f"{_base_url(request)}/$metadata#communications/calls/$entity"
    return {"@odata.context": context, **call.to_graph()}


def handler(operation: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = None
        if operation.request is not None:
            body = await read_json_object(request, allow_empty=operation.request.may_be_empty)
        call = request.app[GRAPH].perform(
            operation, _version(request), request.match_info.get("call_id"), body
        )
        answer = operation.answer
        if answer.body == "call" and call is not None:
            response = web.json_response(_call_json(request, call), status=answer.status)
        else:
            response = web.Response(status=answer.status)
        if answer.location and call is not None:
            response.headers["Location"] = f"{_base_url(request)}{call.resource_url}"
        return response

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


def add_graph_routes(app: web.Application) -> None:
    for operation in OPERATIONS:
        for route in operation.routes:
            app.router.add_route(route.method, aiohttp_path(route.path), handler(operation))
