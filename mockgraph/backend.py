"""The fake calling service: calls, scenarios, journal and delivery behind one object.

HTTP handlers translate requests into calls on this object and nothing more, so everything
here can be used and tested without a web server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mockgraph.calls import Call, CallRegistry
from mockgraph.delivery import Notifier
from mockgraph.errors import BadRequest
from mockgraph.journal import Journal
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.playback import Player

log = logging.getLogger("mockgraph")


class CallingBackend:
    def __init__(
        self,
        library: ScenarioLibrary,
        *,
        default_callback_url: str | None = None,
        delivery_timeout: float = 10.0,
    ) -> None:
        self.library = library
        self.default_callback_url = default_callback_url
        self.calls = CallRegistry()
        self.journal = Journal()
        self.notifier = Notifier(timeout=delivery_timeout)
        self.player = Player(self.calls, self.journal, self.notifier)

    async def start(self) -> None:
        await self.notifier.start()

    async def close(self) -> None:
        await self.player.cancel_all()
        await self.notifier.close()

    async def reset(self) -> None:
        """Forget calls and journal; stop what is playing. Scenarios stay."""
        await self.player.cancel_all()
        await self.notifier.cancel_all("reset")
        self.calls.clear()
        self.journal.clear()

    def seed_call(self, spec: Mapping[str, Any]) -> Call:
        """Add a call the bot already has (``POST /_mock/calls``)."""
        callback_uri = spec.get("callbackUri") or self.default_callback_url
        if not callback_uri:
            raise BadRequest(
                "'callbackUri' is required: give it in the body, "
                "or start mockgraph with --callback-url."
            )
        properties = {
            key: spec[key] for key in ("tenantId", "source", "targets", "direction") if key in spec
        }
        return self.calls.seed(
            str(callback_uri),
            call_id=spec.get("id"),
            state=spec.get("state", "established"),
            properties=properties,
        )

    def pin_scenario(self, call_id: str, name: str | None) -> Call:
        """The scenario the call's next operation plays (``None`` unpins)."""
        call = self.calls.get(call_id)
        if name is not None and self.library.get(name) is None:
            loaded = ", ".join(self.library.names()) or "none"
            raise BadRequest(f"No scenario named '{name}' is loaded (loaded: {loaded}).")
        call.pinned_scenario = name
        return call

    def transfer(self, call_id: str, body: Mapping[str, Any]) -> None:
        """``POST /communications/calls/{id}/transfer``: accept, then play the scenario."""
        self._start("transfer", self.calls.get(call_id), body)

    def _start(self, operation: str, call: Call, body: Mapping[str, Any]) -> None:
        scenario = self.library.select(operation, body, call.pinned_scenario)
        call.begin(operation)
        if scenario is not None and scenario.name == call.pinned_scenario:
            call.pinned_scenario = None  # a pin is for the next operation only
        if scenario is None:
            log.warning(
                "no scenario for %s of call %s: nothing will be notified", operation, call.id
            )
            call.finish()
            return
        self.player.play(scenario, call, body)

    @property
    def idle(self) -> bool:
        """Nothing scheduled, queued or in flight."""
        return not self.player.busy and not self.notifier.busy

    async def wait_idle(self) -> None:
        """Return once nothing is scheduled, queued or in flight."""
        while not self.idle:
            await self.player.wait_idle()
            await self.notifier.wait_idle()
