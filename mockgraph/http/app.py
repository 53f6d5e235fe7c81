"""The aiohttp application: routes, the Graph-shaped error and journal middleware, and the
server that runs it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from mockgraph.calling.service import CallingService
from mockgraph.clock import Clock, graph_date
from mockgraph.config import Settings
from mockgraph.errors import GraphError, MethodNotAllowed, ResourceNotFound, Unauthenticated
from mockgraph.http.control_routes import OPEN_CONTROL_PATHS, add_control_routes
from mockgraph.http.events import close_streams
from mockgraph.http.graph_routes import add_graph_routes
from mockgraph.http.keys import CONTROL, CONTROL_TOKEN, GRAPH, JOURNAL, SERVICE, SIGNING, STREAMS
from mockgraph.http.listening import AppServer, tls_context
from mockgraph.http.requests import CREATED_CALL, RECEIVED_BODY, require_bearer_token
from mockgraph.ids import new_id
from mockgraph.scenarios.library import ScenarioLibrary

log = logging.getLogger("mockgraph")
CONTROL_PREFIX = "/_mock/"


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
    return web.json_response(body, status=error.status)


def _http_error(exc: web.HTTPException, request: web.Request) -> GraphError:
    """aiohttp's own 404/405/413 as the Graph errors SDKs can parse."""
    where = f"{request.method} {request.path}"
    if exc.status == 404:
        return ResourceNotFound(f"mockgraph does not serve {where}.")
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        return MethodNotAllowed(f"{where} is not allowed here; allowed: {allowed}.")
    error = GraphError(exc.reason)
    error.status, error.code = exc.status, exc.reason.replace(" ", "")
    return error


async def _received_body(request: web.Request) -> bytes | str | None:
    """A body the handler did not read (the caller takes one it read as it is): its bytes, or
    a note if it could not be read."""
    if not request.body_exists:
        return None
    try:
        return await request.read()
    except web.HTTPException as exc:  # e.g. larger than client_max_size
        return f"<body not read: {exc.reason}>"


def _route_path(request: web.Request) -> str:
    """The path of the route that matched (``/_mock/ui/{file}``), else the request's own."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def require_control_token(request: web.Request) -> None:
    """With --control-token, /_mock answers only its bearer (bots' own paths stay open)."""
    expected = request.app[CONTROL_TOKEN]
    if not expected or _route_path(request) in OPEN_CONTROL_PATHS:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), expected):
        raise Unauthenticated(
            "The control plane needs 'Authorization: Bearer <token>' with mockgraph's "
            "--control-token."
        )


@web.middleware
async def graph_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request ids on every response, Graph-shaped errors, the journal of Graph requests, and
    Graph's first check: every Graph path needs a bearer token, before anything else."""
    request_id = new_id()
    client_request_id = request.headers.get("client-request-id") or new_id()
    # Journaled as it arrives, so that it comes before the notifications it causes; its
    # status and body are filled in once answered.
    record = None
    call_id = request.match_info.get("call_id")
    is_graph_path = not request.path.startswith(CONTROL_PREFIX)
    if is_graph_path:
        record = request.app[JOURNAL].record_request(
            method=request.method,
            path=request.raw_path,  # as it came on the request line
            headers=request.headers,
            call_id=call_id,
            request_id=request_id,
        )
    response: web.StreamResponse
    try:
        if is_graph_path:
            require_bearer_token(request)
        else:
            require_control_token(request)
        response = await handler(request)
    except GraphError as error:
        response = error_response(error, request_id, client_request_id)
    except web.HTTPException as exc:
        response = error_response(_http_error(exc, request), request_id, client_request_id)
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        failure = GraphError("mockgraph failed on this request; see its log.")
        response = error_response(failure, request_id, client_request_id)
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = client_request_id
    if record is not None:
        # The body's bytes are there for nearly every request: no coroutine for them.
        received = (
            request[RECEIVED_BODY] if RECEIVED_BODY in request else await _received_body(request)
        )
        # Only a request on no call can create one (and a miss costs Mapping.get a KeyError).
        created = request.get(CREATED_CALL) if call_id is None else None
        record.answered(response.status, received, created)
    return response


def build_app(
    settings: Settings, library: ScenarioLibrary, clock: Clock | None = None
) -> web.Application:
    app = web.Application(middlewares=[graph_middleware])
    service = CallingService(library, settings, clock=clock)
    app[SERVICE] = service
    app[GRAPH] = service.graph
    app[CONTROL] = service.control
    app[SIGNING] = service.signing
    app[JOURNAL] = service.journal
    app[CONTROL_TOKEN] = settings.control_token or ""
    app[STREAMS] = set()
    app.on_shutdown.append(close_streams)

    async def lifecycle(app: web.Application) -> Any:
        await service.start()
        yield
        await service.close()

    app.cleanup_ctx.append(lifecycle)
    add_graph_routes(app)
    add_control_routes(app)
    return app


class Server(AppServer):
    """mockgraph listening on ``settings.host``/``settings.port`` (0 picks a free port).

    ``async with Server(settings, library) as server: server.url``
    """

    def __init__(
        self, settings: Settings, library: ScenarioLibrary, clock: Clock | None = None
    ) -> None:
        context = tls_context(settings.tls_cert, settings.tls_key)  # TlsError before anything
        super().__init__(
            build_app(settings, library, clock), settings.host, settings.port, ssl_context=context
        )
        self.settings = settings

    @property
    def service(self) -> CallingService:
        return self.app[SERVICE]

    async def start(self) -> str:
        url = await super().start()
        # Once the caller has had its URL (and the CLI has printed its ready line), before the
        # first request is served: the key slows neither start-up nor a notification.
        asyncio.get_running_loop().call_soon(self.app[SIGNING].prepare)
        return url
