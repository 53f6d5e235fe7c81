"""The fake Graph surface: one generic handler serves every declared operation.

The handler reads the request (steps 3-4 of the checking order: content type, size, and the
JSON itself), hands it to ``GraphService.perform`` (steps 5-8) and renders the declared
answer. Authentication (step 1) comes first, in ``endpoints.graph_endpoint``, which wraps every
Graph route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import cache
from typing import Protocol, TypeVar

from aiohttp import web

from mockgraph.calling.answers import Accepted
from mockgraph.calling.media import Recordings
from mockgraph.calling.operations import NAMESPACE, OPERATIONS, Form, Operation
from mockgraph.http.endpoints import Declared, Handler, graph_endpoint
from mockgraph.http.keys import GRAPH
from mockgraph.http.requests import CREATED_CALL, origin, read_json_object, require_bearer_token

R = TypeVar("R", bound="Routed")

# A route's ids, as the handler reads them: the call's, and what else the route names.
MATCH_NAMES = {
    "{id}": "{call_id}",
    "{opId}": "{item_id}",
    "{participantId}": "{item_id}",
    "{groupId}": "{item_id}",
    "{sessionId}": "{item_id}",
}


def aiohttp_path(form: Form, names: Mapping[str, str] = MATCH_NAMES) -> str:
    """A served form (``/v1.0/communications/calls/{id}/microsoft.graph.answer``) as
    aiohttp's pattern, its namespace in any case; ``names``: each path id as the handler
    reads it. A qualified form's pattern also matches its plain twin (the namespace is
    optional): ``routed`` adds it in the twin's place."""
    path = form.path.replace(NAMESPACE, "{namespace:(?i:microsoft\\.graph\\.)?}")
    for name, match_name in names.items():
        path = path.replace(name, match_name)
    return path


def routed(forms: Iterable[Form]) -> list[Form]:
    """The forms aiohttp's router gets, in order: each plain form of an action replaced by its
    qualified twin, whose pattern matches both. One resource where there were two halves the
    regular expressions aiohttp compiles at start (the route table was a tenth of a start,
    BENCHMARKS.md); the order of the plain forms is kept, so the hottest still come first."""
    forms = list(forms)
    qualified = {
        (f.method, f.version, f.path.replace(NAMESPACE, "")): f for f in forms if f.qualified
    }
    kept = [qualified.pop((f.method, f.version, f.path), f) for f in forms if not f.qualified]
    return kept + list(qualified.values())  # a qualified form with no plain twin (none yet)


class Served(Protocol):
    """What is served at forms: a call operation's route, or a resource operation (frozen, so
    that its patterns are derived once)."""

    def forms(self) -> tuple[Form, ...]: ...

    def __hash__(self) -> int: ...


class Routed(Declared, Served, Protocol):
    """A resource operation beyond the calls (presence, a call record, a meeting): its forms."""


@cache
def _patterns(served: Served, names: tuple[tuple[str, str], ...]) -> tuple[tuple[Form, str], ...]:
    """``served``'s forms as the router gets them (``routed``), each with its aiohttp pattern.
    The same for every server of a process, and a suite starts one per test: derived once (a
    third of an in-process start's own work beside aiohttp's, BENCHMARKS.md)."""
    match_names = dict(names)
    return tuple((form, aiohttp_path(form, match_names)) for form in routed(served.forms()))


def add_resource_routes(
    app: web.Application,
    operations: Iterable[R],
    handler: Callable[[R, str], Handler],
    names: Mapping[str, str],
) -> None:
    """Every form of each operation, served by ``handler(operation, version)`` inside the
    calls' endpoint (the checking order, Graph's errors, the journal); ``names``: each path id
    as the handler reads it."""
    names_given = tuple(names.items())
    for operation in operations:
        for form, pattern in _patterns(operation, names_given):
            serve = graph_endpoint(app, handler(operation, form.version), operation)
            app.router.add_route(form.method, pattern, serve)


def _base_url(request: web.Request, version: str) -> str:
    """This version's Graph base URL, as the bot reached it."""
    return f"{origin(request)}/{version}"


def _answer(
    request: web.Request, operation: Operation, version: str, outcome: Accepted
) -> web.Response:
    answer = operation.success
    if outcome.body is None:
        response = web.Response(status=answer.status)
    else:
        body = outcome.body
        if outcome.odata_context is not None:
            context = f"{_base_url(request, version)}/$metadata#{outcome.odata_context}"
            body = {"@odata.context": context, **body}
        response = web.json_response(body, status=answer.status)
    if answer.location and outcome.location is not None:
        response.headers["Location"] = f"{_base_url(request, version)}{outcome.location}"
    return response


def handler(
    operation: Operation, version: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = None
        if operation.request is not None:
            body = await read_json_object(request, allow_empty=operation.request.may_be_empty)
        outcome = request.app[GRAPH].perform(
            operation,
            version,
            request.match_info.get("call_id"),
            body,
            item_id=request.match_info.get("item_id"),
            # Read only where it is used: the Host header and scheme cost 2 µs a request.
            origin=origin(request) if operation.hands_out_urls else "",
        )
        if operation.creates_call and outcome.body is not None:
            request[CREATED_CALL] = str(outcome.body["id"])
        return _answer(request, operation, version, outcome)

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


async def download_recording(request: web.Request) -> web.Response:
    """A finished recording's audio, for the bearer of its recordingAccessToken."""
    audio = request.app[GRAPH].recording(
        request.match_info["recording_id"], require_bearer_token(request)
    )
    return web.Response(body=audio, content_type="application/octet-stream")


def add_graph_routes(app: web.Application) -> None:
    """Every form of every operation, in the table's order: aiohttp tries a collection's
    routes in the order they were added, and the transfer, the hottest, is first."""
    names = tuple(MATCH_NAMES.items())
    for operation in OPERATIONS:
        for form, pattern in _patterns(operation.route, names) if operation.route else ():
            serve = graph_endpoint(app, handler(operation, form.version), operation)
            app.router.add_route(form.method, pattern, serve)
    path = Recordings.PATH.replace("{id}", "{recording_id}")
    app.router.add_get(path, graph_endpoint(app, download_recording))
