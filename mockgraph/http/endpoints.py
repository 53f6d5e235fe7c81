"""What every answer of one kind has, wrapped around its handler when its route is added.

A Graph path's answer: journaled as it arrives (before the notifications it causes),
Graph's first check (a bearer token, before anything else), Graph-shaped errors, and the
``request-id`` and ``client-request-id`` headers. A control-plane answer: the
``--control-token``, unless the route is open, and the same errors and ids. A request no route
takes gets the same, by its path's kind, with Graph's 404 or 405.

Wrapped per route rather than run as aiohttp middleware: middleware runs for every route
through two more coroutines and a partial per request (aiohttp's own ``current_app`` one comes
with the first): 508,000 instructions a transfer with them, 489,000 without (BENCHMARKS.md,
issue 24). And a route's facts (Graph or control, open or not) are known when it is added.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from typing import Protocol

from aiohttp import web

from mockgraph.clock import graph_date
from mockgraph.errors import GraphError, MethodNotAllowed, ResourceNotFound, Unauthenticated
from mockgraph.faults import Asked, Faults
from mockgraph.http.keys import CONTROL_TOKEN, FAULTS, IDENTITY, JOURNAL, SERVICE
from mockgraph.http.requests import CALLER, CREATED_CALL, RECEIVED_BODY, require_bearer_token
from mockgraph.identity.platform import IdentityPlatform
from mockgraph.ids import new_id
from mockgraph.journal import RequestRecord

log = logging.getLogger("mockgraph")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_mock/"
DOORS = ("/", "/_mock")  # where a browser gets a page of links, not Graph's 401 or 404


class Declared(Protocol):
    """What a Graph route does, as its endpoint needs it: a call operation, or a presence,
    call-record or meeting one."""

    @property
    def name(self) -> str: ...

    def check_permitted(self, roles: AbstractSet[str]) -> None: ...


def error_response(error: GraphError, request_id: str, client_request_id: str) -> web.Response:
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": graph_date(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        },
        **error.extra,
    }
    response = web.json_response(body, status=error.status)
    response.headers.update(error.headers)
    return response


def _as_graph_error(exc: Exception, request: web.Request) -> GraphError:
    """What a handler raised, as the Graph error SDKs can parse: mockgraph's own, aiohttp's
    (a 413 for a body over the size limit), or a failure of mockgraph's (a 500, logged)."""
    if isinstance(exc, GraphError):
        return exc
    if isinstance(exc, web.HTTPException):
        error = GraphError(exc.reason)
        error.status, error.code = exc.status, exc.reason.replace(" ", "")
        return error
    log.error("unexpected error serving %s %s", request.method, request.path, exc_info=exc)
    return GraphError("mockgraph failed on this request; see its log.")


async def _received_body(request: web.Request) -> bytes | str | None:
    """A body the handler did not read (the caller takes one it read as it is): its bytes, or
    a note if it could not be read."""
    if not request.body_exists:
        return None
    try:
        return await request.read()
    except web.HTTPException as exc:  # e.g. larger than client_max_size
        return f"<body not read: {exc.reason}>"


def graph_endpoint(
    app: web.Application, handler: Handler, operation: Declared | None = None
) -> Handler:
    """``handler`` answering on a Graph path of ``app`` (for ``operation``, what the route
    does; None on a path that names none). Under --auth strict, the request must carry a token
    of the identity platform with a permission that allows ``operation``."""
    name = operation.name if operation is not None else None
    # What every request reads, looked up once: the app's services do not change.
    journal, faults = app[JOURNAL], app[FAULTS]
    strict: IdentityPlatform | None = None
    if operation is not None and app[SERVICE].settings.auth == "strict":
        strict = app[IDENTITY]

    async def endpoint(request: web.Request) -> web.StreamResponse:
        request_id = new_id()
        client_request_id = request.headers.get("client-request-id") or new_id()
        call_id = request.match_info.get("call_id")
        # Journaled as it arrives, so that it comes before the notifications it causes; its
        # status and body are filled in once answered.
        record = journal.record_request(
            method=request.method,
            path=request.raw_path,  # as it came on the request line
            headers=request.headers,
            call_id=call_id,
            request_id=request_id,
        )
        response: web.StreamResponse
        try:
            token = require_bearer_token(request)
            if strict is not None and operation is not None:
                caller = strict.graph_caller(token)
                request[CALLER] = caller
                record.made_by(caller.app_id)
                operation.check_permitted(caller.roles)
            if faults.active:  # a fault answers before anything of the request is read
                asked = Asked(name, call_id, request.method, request.path)
                await _offer(faults, record, asked)
            response = await handler(request)
        except Exception as exc:
            response = error_response(_as_graph_error(exc, request), request_id, client_request_id)
        response.headers["request-id"] = request_id
        response.headers["client-request-id"] = client_request_id
        # The body's bytes are there for nearly every request: no coroutine for them.
        received = (
            request[RECEIVED_BODY] if RECEIVED_BODY in request else await _received_body(request)
        )
        # Only a request on no call can create one (and a miss costs Mapping.get a KeyError).
        created = request.get(CREATED_CALL) if call_id is None else None
        record.answered(response.status, received, created)
        return response

    endpoint.__name__ = endpoint.__qualname__ = getattr(handler, "__name__", "graph")
    return endpoint


async def _offer(faults: Faults, record: RequestRecord, asked: Asked) -> None:
    """The faults' turn: a fault's latency, then its error (raised), if one fires."""
    verdict, early = faults.offer(asked)
    if early:
        record.retried_early()
    if verdict is not None:
        record.faulted(verdict.fault_id)
        await faults.wait(verdict)
        if verdict.error is not None:
            raise verdict.error


def require_control_token(request: web.Request) -> None:
    """With --control-token, /_mock answers only its bearer."""
    expected = request.app[CONTROL_TOKEN]
    if not expected:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), expected):
        raise Unauthenticated(
            "The control plane needs 'Authorization: Bearer <token>' with mockgraph's "
            "--control-token."
        )


def control_endpoint(handler: Handler, *, open_: bool = False) -> Handler:
    """``handler`` answering on the control plane; ``open_``: without the --control-token
    (what bots, health checks and browsers read)."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        request_id = new_id()
        client_request_id = request.headers.get("client-request-id") or new_id()
        response: web.StreamResponse
        try:
            if not open_:
                require_control_token(request)
            response = await handler(request)
        except Exception as exc:
            response = error_response(_as_graph_error(exc, request), request_id, client_request_id)
        response.headers["request-id"] = request_id
        response.headers["client-request-id"] = client_request_id
        return response

    endpoint.__name__ = endpoint.__qualname__ = getattr(handler, "__name__", "control")
    return endpoint


async def _unmatched(request: web.Request) -> web.StreamResponse:
    """No route took the request: Graph's 405 naming the methods its path has, else 404."""
    where = f"{request.method} {request.path}"
    own = request.match_info.route.resource
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not own:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        named = ", ".join(sorted(allowed))
        raise MethodNotAllowed(f"{where} is not allowed here; allowed: {named}.")
    raise ResourceNotFound(f"mockgraph does not serve {where}.")


_UNMATCHED_CONTROL = control_endpoint(_unmatched)


def add_fallback_route(app: web.Application) -> None:
    """The route for what no other takes; added last, as aiohttp tries it after all others."""
    from mockgraph.http.control_routes import door  # the control plane's page files

    unmatched_graph = graph_endpoint(app, _unmatched)

    async def no_route(request: web.Request) -> web.StreamResponse:
        if request.path in DOORS and (page := door(request)) is not None:
            return page
        if request.path.startswith(CONTROL_PREFIX):
            return await _UNMATCHED_CONTROL(request)
        return await unmatched_graph(request)

    app.router.add_route("*", "/{unmatched_path:.*}", no_route)
