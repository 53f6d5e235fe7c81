"""The aiohttp application (its routes, each wrapped as ``endpoints`` says) and the server
that runs it."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from mockgraph.calling.service import CallingService
from mockgraph.clock import Clock
from mockgraph.config import Settings
from mockgraph.http.control_routes import add_control_routes
from mockgraph.http.endpoints import add_fallback_route
from mockgraph.http.events import close_streams
from mockgraph.http.graph_routes import add_graph_routes
from mockgraph.http.keys import (
    CONTROL,
    CONTROL_TOKEN,
    FAULTS,
    GRAPH,
    JOURNAL,
    SERVICE,
    SIGNING,
    STREAMS,
)
from mockgraph.http.listening import AppServer, tls_context
from mockgraph.scenarios.library import ScenarioLibrary


def build_app(
    settings: Settings, library: ScenarioLibrary, clock: Clock | None = None
) -> web.Application:
    app = web.Application()
    service = CallingService(library, settings, clock=clock)
    app[SERVICE] = service
    app[GRAPH] = service.graph
    app[CONTROL] = service.control
    app[SIGNING] = service.signing
    app[JOURNAL] = service.journal
    app[FAULTS] = service.faults
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
    add_fallback_route(app)
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
