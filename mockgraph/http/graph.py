"""The fake Graph surface: one generic handler serves every declared operation.

The handler reads the request (steps 3-4 of the checking order: content type, size, and the
JSON itself), hands it to ``GraphService.perform`` (steps 5-8) and renders the declared
answer. Authentication (step 1) comes first, in the middleware, for every Graph path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgraph.calling.graph import Outcome
from mockgraph.calling.media import Recordings
from mockgraph.calling.operations import OPERATIONS, Operation
from mockgraph.http.keys import GRAPH
from mockgraph.http.requests import CREATED_CALL, read_json_object, require_bearer_token

VERSION = r"v1\.0|beta"


def aiohttp_path(path: str) -> str:
    """A declared route (``/{version}/communications/calls/{id}``) as aiohttp's pattern."""
    return (
        path.replace("{version}", f"{{version:{VERSION}}}")
        .replace("{id}", "{call_id}")
        .replace("{opId}", "{item_id}")
        .replace("{participantId}", "{item_id}")
        .replace("{groupId}", "{item_id}")
        .replace("{sessionId}", "{item_id}")
    )


def _version(request: web.Request) -> str:
    return request.match_info.get("version", "beta")  # the /beta/app/... alias has none


def _base_url(request: web.Request) -> str:
    """This version's Graph base URL, as the bot reached it."""
    return f"{request.scheme}://{request.host}/{_version(request)}"


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _answer(request: web.Request, operation: Operation, outcome: Outcome) -> web.Response:
    answer = operation.answer
    if outcome.body is None:
        response = web.Response(status=answer.status)
    else:
        body = outcome.body
        if outcome.odata_context is not None:
            context = f"{_base_url(request)}/$metadata#{outcome.odata_context}"
            body = {"@odata.context": context, **body}
        response = web.json_response(body, status=answer.status)
    if answer.location and outcome.location is not None:
        response.headers["Location"] = f"{_base_url(request)}{outcome.location}"
    return response


def handler(operation: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = None
        if operation.request is not None:
            body = await read_json_object(request, allow_empty=operation.request.may_be_empty)
        outcome = request.app[GRAPH].perform(
            operation,
            _version(request),
            request.match_info.get("call_id"),
            body,
            item_id=request.match_info.get("item_id"),
            origin=_origin(request),
        )
        if operation.creates_call and outcome.body is not None:
            request[CREATED_CALL] = str(outcome.body["id"])
        return _answer(request, operation, outcome)

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


async def download_recording(request: web.Request) -> web.Response:
    """A finished recording's audio, for the bearer of its recordingAccessToken."""
    audio = request.app[GRAPH].recording(
        request.match_info["recording_id"], require_bearer_token(request)
    )
    return web.Response(body=audio, content_type="application/octet-stream")


def add_graph_routes(app: web.Application) -> None:
    for operation in OPERATIONS:
        for route in operation.routes:
            app.router.add_route(route.method, aiohttp_path(route.path), handler(operation))
    app.router.add_get(Recordings.PATH.replace("{id}", "{recording_id}"), download_recording)
