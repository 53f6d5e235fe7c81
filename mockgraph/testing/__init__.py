"""Helpers for tests that use mockgraph: an in-process server and a bot receiver."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mockgraph.app import Server
from mockgraph.config import Settings
from mockgraph.scenarios.loader import load_library
from mockgraph.testing.receiver import BotReceiver, Received

__all__ = ["BotReceiver", "MockGraph", "Received"]


class MockGraph(Server):
    """mockgraph in this process on 127.0.0.1, port 0, with the built-ins and ``scenarios``.

    ``async with MockGraph(scenarios=["my.yaml"]) as graph: graph.graph_url("v1.0")``
    """

    def __init__(
        self,
        scenarios: Sequence[str | Path] = (),
        *,
        callback_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        settings = Settings(
            host=host,
            port=port,
            scenario_paths=tuple(str(p) for p in scenarios),
            callback_url=callback_url,
        )
        super().__init__(settings, load_library(settings.scenario_paths))

    def graph_url(self, version: str = "v1.0") -> str:
        """The base URL a bot's Graph client uses, e.g. ``http://127.0.0.1:PORT/v1.0``."""
        return f"{self.url}/{version}"
