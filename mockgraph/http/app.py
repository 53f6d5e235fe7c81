"""The aiohttp application (its routes, each wrapped as ``endpoints`` says) and the server
that runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from mockgraph.calling.service import CallingService
from mockgraph.clock import Clock
from mockgraph.config import Settings
from mockgraph.http.control_routes import add_control_routes
from mockgraph.http.endpoints import add_fallback_route
from mockgraph.http.events import close_streams
from mockgraph.http.graph_routes import add_graph_routes
from mockgraph.http.identity_routes import add_identity_routes
from mockgraph.http.keys import (
    CALL_RECORDS,
    CONTROL,
    CONTROL_TOKEN,
    FAULTS,
    GRAPH,
    IDENTITY,
    JOURNAL,
    MEETINGS,
    PRESENCES,
    SERVICE,
    SIGNING,
    STREAMS,
    SUBSCRIPTIONS,
    TRUST,
)
from mockgraph.http.listening import AppServer, TlsError, tls_context
from mockgraph.http.local_tls import LocalTlsError, TlsFiles, local_tls, tls_files
from mockgraph.http.meeting_routes import add_meeting_routes
from mockgraph.http.presence_routes import add_presence_routes
from mockgraph.http.record_routes import add_record_routes
from mockgraph.http.subscription_routes import add_subscription_routes
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
    app[IDENTITY] = service.identity
    app[PRESENCES] = service.presences
    app[CALL_RECORDS] = service.call_records
    app[MEETINGS] = service.meetings
    app[SUBSCRIPTIONS] = service.subscriptions
    app[CONTROL_TOKEN] = settings.control_token or ""
    app[STREAMS] = set()
    app[TRUST] = b""  # http; the Server says otherwise when it serves https
    app.on_shutdown.append(close_streams)

    async def lifecycle(app: web.Application) -> Any:
        await service.start()
        yield
        await service.close()

    app.cleanup_ctx.append(lifecycle)
    add_graph_routes(app)
    add_presence_routes(app)
    add_record_routes(app)
    add_meeting_routes(app)
    add_subscription_routes(app)
    add_control_routes(app)
    add_identity_routes(app)
    add_fallback_route(app)
    return app


class Server(AppServer):
    """mockgraph listening on ``settings.host``/``settings.port`` (0 picks a free port).

    ``async with Server(settings, library) as server: server.url``
    """

    def __init__(
        self, settings: Settings, library: ScenarioLibrary, clock: Clock | None = None
    ) -> None:
        try:
            files = tls_files(
                settings.tls == "auto",
                settings.tls_cert,
                settings.tls_key,
                settings.tls_dir,
                settings.host,
            )
        except LocalTlsError as error:
            raise TlsError(str(error)) from None
        # No files unless auto, or both given: tls_context then says which one is missing.
        cert, key = (files.cert, files.key) if files else (settings.tls_cert, settings.tls_key)
        context = tls_context(cert, key)  # a TlsError before anything is built
        app = build_app(settings, library, clock)
        app[TRUST] = Path(files.trust).read_bytes() if files else b""
        super().__init__(app, settings.host, settings.port, ssl_context=context)
        self.settings = settings
        self.trust_file = files.trust if files else None  # what a client trusts https by

    @property
    def service(self) -> CallingService:
        return self.app[SERVICE]

    def webhook_tls(self) -> TlsFiles:
        """Files for a webhook on loopback that mockgraph trusts as a client (its local
        authority's)."""
        return local_tls(self.service.authority_folder, "127.0.0.1")

    async def start(self) -> str:
        url = await super().start()
        # Once the caller has had its URL (and the CLI has printed its ready line), before the
        # first request is served: the key slows neither start-up nor a notification.
        asyncio.get_running_loop().call_soon(self.app[SIGNING].prepare)
        return url
