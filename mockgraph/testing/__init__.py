"""Testing with mockgraph: an in-process server, clients for one started elsewhere, a bot
receiver, and a pytest plugin (``mockgraph.testing.plugin``, registered as ``pytest11``).

Names are imported on first use: pytest loads the plugin, and so this package, in every run
of every project that has mockgraph installed, and aiohttp should not slow those down.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # "X as X": re-exported, for type checkers
    from mockgraph.clock import ManualClock as ManualClock
    from mockgraph.http.local_tls import TlsFiles as TlsFiles
    from mockgraph.http.local_tls import local_tls as local_tls
    from mockgraph.testing.client import MockGraphClient as MockGraphClient
    from mockgraph.testing.client import MockGraphError as MockGraphError
    from mockgraph.testing.client import MockGraphSyncClient as MockGraphSyncClient
    from mockgraph.testing.client import MockGraphTimeout as MockGraphTimeout
    from mockgraph.testing.client import SharedSession as SharedSession
    from mockgraph.testing.receiver import BotReceiver as BotReceiver
    from mockgraph.testing.receiver import Received as Received
    from mockgraph.testing.receiver import Reply as Reply
    from mockgraph.testing.server import MockGraph as MockGraph

_WHERE = {
    "BotReceiver": "mockgraph.testing.receiver",
    "Received": "mockgraph.testing.receiver",
    "Reply": "mockgraph.testing.receiver",
    "MockGraph": "mockgraph.testing.server",
    "MockGraphClient": "mockgraph.testing.client",
    "MockGraphError": "mockgraph.testing.client",
    "MockGraphSyncClient": "mockgraph.testing.client",
    "MockGraphTimeout": "mockgraph.testing.client",
    "SharedSession": "mockgraph.testing.client",
    "ManualClock": "mockgraph.clock",
    "TlsFiles": "mockgraph.http.local_tls",
    "local_tls": "mockgraph.http.local_tls",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
