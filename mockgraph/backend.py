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
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.loader import ScenarioError, load_text
from mockgraph.scenarios.model import Scenario
from mockgraph.scenarios.playback import Player
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph")


class CallingBackend:
    def __init__(
        self,
        library: ScenarioLibrary,
        *,
        default_callback_url: str | None = None,
        delivery_timeout: float = 10.0,
        time_scale: float = 1.0,
        step_mode: bool = False,
    ) -> None:
        self.library = library
        self.default_callback_url = default_callback_url
        self.calls = CallRegistry()
        self.journal = Journal()
        self.changes = Changes()
        self.notifier = Notifier(self.changes, timeout=delivery_timeout)
        self.player = Player(
            self.calls,
            self.journal,
            self.notifier,
            self.changes,
            time_scale=time_scale,
            step_mode=step_mode,
        )
        self._startup_time = (time_scale, step_mode)

    async def start(self) -> None:
        await self.notifier.start()

    async def close(self) -> None:
        await self.player.cancel_all()
        await self.notifier.close()

    async def reset(self) -> None:
        """Forget calls and journal, stop what is playing, restore the start-up time settings.
        Scenarios stay."""
        await self.player.cancel_all()
        await self.notifier.cancel_all("reset")
        self.calls.clear()
        self.journal.clear()
        self.player.time_scale, self.player.step_mode = self._startup_time
        self.changes.notify()

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

    def load_scenarios(self, text: str, source: str) -> list[Scenario]:
        """Add the scenarios in YAML ``text``; raises ``ScenarioError`` and adds none if any
        is invalid."""
        scenarios, problems = load_text(text, source)
        if problems:
            raise ScenarioError(problems)
        self.library.add(scenarios)
        return scenarios

    def set_time(self, *, scale: float | None = None, step: bool | None = None) -> None:
        """Change the time scale and step mode until the next reset."""
        if scale is not None:
            if scale < 0:
                raise BadRequest("'scale' must be 0 or more (0 collapses every pause).")
            self.player.time_scale = scale
        if step is not None:
            self.player.step_mode = step

    def advance(self, call_id: str, steps: int = 1) -> Call:
        """Step mode: let the call's next ``steps`` notifications go out."""
        call = self.calls.get(call_id)
        if steps < 1:
            raise BadRequest("'steps' must be 1 or more.")
        self.player.advance(call.id, steps)
        return call

    @property
    def idle(self) -> bool:
        """Nothing scheduled, queued or in flight."""
        return not self.player.busy and not self.notifier.busy

    async def wait_idle(self, timeout: float = 3600) -> bool:
        """Whether everything scheduled, queued or in flight finished within ``timeout`` s."""
        return await self.changes.wait_until(lambda: self.idle, timeout)

    async def wait_for_state(self, call_id: str, state: str, timeout: float) -> bool:
        """Whether the call is, or has been, in ``state`` within ``timeout`` seconds."""
        call = self.calls.get(call_id)
        return await self.changes.wait_until(lambda: call.reached(state), timeout)

    async def wait_for_notifications(
        self, call_id: str, count: int, timeout: float
    ) -> list[NotificationRecord]:
        """The call's notifications once ``count`` of them are no longer pending (or, after
        ``timeout``, as many as there are)."""

        def finished() -> list[NotificationRecord]:
            return [
                entry
                for entry in self.journal.entries(call_id)
                if isinstance(entry, NotificationRecord) and entry.outcome != "pending"
            ]

        await self.changes.wait_until(lambda: len(finished()) >= count, timeout)
        return finished()
