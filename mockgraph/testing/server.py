"""mockgraph in this process, as tests use it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mockgraph.calling.service import CallingService
from mockgraph.clock import Clock
from mockgraph.config import Settings
from mockgraph.http.app import Server
from mockgraph.http.listening import Lifecycle
from mockgraph.http.local_tls import TlsFiles
from mockgraph.scenarios.loader import load_library
from mockgraph.testing.client import MockGraphClient


class MockGraph(MockGraphClient, Lifecycle):
    """mockgraph in this process on 127.0.0.1, port 0, with the built-ins and ``scenarios``;
    every ``MockGraphClient`` method works on it.

    ``async with MockGraph(scenarios=["my.yaml"]) as graph: graph.graph_url("v1.0")``
    """

    def __init__(
        self, scenarios: Sequence[str | Path] = (), *, clock: Clock | None = None, **settings: Any
    ) -> None:
        """``settings``: any ``mockgraph.config.Settings`` field (``callback_url``,
        ``time_scale``, ``step_mode``, ``delivery_attempts``, ``quirks``, ...). ``clock``:
        the time scenarios, ring time-outs, back-off and long polls read, e.g. a
        ``ManualClock`` that the test advances."""
        super().__init__("", settings.get("control_token"))
        options = {"host": "127.0.0.1", "port": 0, **settings}
        options["scenario_paths"] = tuple(str(p) for p in scenarios)
        config = Settings(**options)
        self.server = Server(config, load_library(config.scenario_paths), clock)

    def webhook_tls(self) -> TlsFiles:
        """Certificate files for a webhook on 127.0.0.1 that this mockgraph trusts: signed by
        the local authority in its ``tls_dir`` (made there if it is not yet). Serve the
        webhook with ``cert`` and ``key`` (``BotReceiver(tls=...)`` does)."""
        return self.server.webhook_tls()

    @property
    def backend(self) -> CallingService:
        """The fake calling service itself, for what the control plane does not offer."""
        return self.server.service

    async def start(self) -> str:
        self.url = await self.server.start()
        return self.url

    async def close(self) -> None:
        """Stop the server; safe to call twice."""
        await self.server.close()
