"""The fake calling service: calls, scenarios, journal and delivery behind one object.

HTTP handlers translate requests into calls on this object and nothing more, so everything
here can be used and tested without a web server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockgraph.calls import Call, CallRegistry
from mockgraph.config import Settings
from mockgraph.delivery import DeliveryPolicy, Notifier
from mockgraph.errors import BadRequest
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.loader import ScenarioError, load_text
from mockgraph.scenarios.model import Scenario
from mockgraph.scenarios.playback import Player
from mockgraph.signals import Changes
from mockgraph.tokens import SigningKey, TokenIssuer

log = logging.getLogger("mockgraph")


class CallingBackend:
    def __init__(self, library: ScenarioLibrary, settings: Settings | None = None) -> None:
        self.library = library
        self.settings = settings = settings or Settings()
        self.calls = CallRegistry()
        self.journal = Journal(settings.journal_limit)
        self.changes = Changes()
        self.notifier = Notifier(
            self.changes,
            DeliveryPolicy(
                timeout=settings.delivery_timeout,
                attempts=settings.delivery_attempts,
                backoff=settings.retry_backoff,
                halt_on_failure=settings.halt_on_failure,
            ),
            token=self.token,
            on_redirect=self._redirected,
            on_halt=lambda call_id: self.player.stop(call_id, "an earlier notification failed"),
        )
        self.player = Player(
            self.calls,
            self.journal,
            self.notifier,
            self.changes,
            time_scale=settings.time_scale,
            step_mode=settings.step_mode,
            quirks=settings.quirks,
        )
        self._issuer: asyncio.Future[TokenIssuer] | None = None

    async def start(self) -> None:
        await self.notifier.start()
        # A new RSA key takes about half a second to make: do it off the event loop, while
        # the server already answers; the first token waits for it (once per process).
        self._issuer = asyncio.create_task(asyncio.to_thread(self._make_issuer))

    def _make_issuer(self) -> TokenIssuer:
        path = self.settings.signing_key
        key = SigningKey.load_or_create(Path(path)) if path else SigningKey.for_process()
        return TokenIssuer(key, issuer=self.settings.token_issuer, audience=self.settings.app_id)

    async def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            raise RuntimeError("CallingBackend.start() was not awaited")
        return await self._issuer

    async def token(self, tenant_id: str) -> str:
        """The bearer token of a notification about a call in ``tenant_id``."""
        return (await self.issuer()).token(tenant_id or self.settings.tenant_id)

    def _redirected(self, call_id: str, url: str) -> None:
        call = self.calls.find(call_id)
        if call is not None:
            call.callback_uri = url

    async def close(self) -> None:
        """Stop playing; let deliveries in flight finish within the grace period."""
        await self.player.cancel_all("mockgraph stopped")
        await self.notifier.close(self.settings.grace_period)
        if self._issuer is not None and not self._issuer.done():
            self._issuer.cancel()

    async def reset(self) -> None:
        """Forget calls and journal, stop what is playing, restore the start-up time settings.
        Scenarios stay."""
        await self.player.cancel_all("reset")
        await self.notifier.cancel_all("reset")
        self.calls.clear()
        self.journal.clear()
        self.player.time_scale = self.settings.time_scale
        self.player.step_mode = self.settings.step_mode
        self.changes.notify()

    def seed_call(self, spec: Mapping[str, Any]) -> Call:
        """Add a call the bot already has (``POST /_mock/calls``)."""
        callback_uri = spec.get("callbackUri") or self.settings.callback_url
        if not callback_uri:
            raise BadRequest(
                "'callbackUri' is required: give it in the body, "
                "or start mockgraph with --callback-url."
            )
        properties = {
            "tenantId": self.settings.tenant_id,
            **{
                key: spec[key]
                for key in ("tenantId", "source", "targets", "direction")
                if key in spec
            },
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


def _settle(
    future: asyncio.Future[TokenIssuer], issuer: TokenIssuer | None, error: Exception | None
) -> None:
    if future.done():  # cancelled: the server stopped first
        return
    if error is not None:
        future.set_exception(error)
    elif issuer is not None:
        future.set_result(issuer)
