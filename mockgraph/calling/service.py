"""The fake calling service: calls, scenarios, journal and delivery behind one object.

HTTP handlers translate requests into calls on this object and nothing more, so everything
here can be used and tested without a web server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockgraph.calling.calls import Call, CallRegistry
from mockgraph.config import Settings
from mockgraph.delivery.notifier import DeliveryPolicy, Notifier
from mockgraph.delivery.tokens import SigningKey, TokenIssuer
from mockgraph.errors import BadRequest, Conflict
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.loader import ScenarioError, load_text
from mockgraph.scenarios.model import Scenario
from mockgraph.scenarios.playback import Player
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
PSTN_FAILURE = "transfer-failure-7000"
# Graph call properties a seeded or rung call may be given.
CALL_SPEC_PROPERTIES = (
    "tenantId",
    "source",
    "targets",
    "direction",
    "requestedModalities",
    "meetingInfo",
    "chatInfo",
    "incomingContext",
    "subject",
)


class CallingBackend:
    def __init__(self, library: ScenarioLibrary, settings: Settings | None = None) -> None:
        self.library = library
        self.settings = settings = settings or Settings()
        self.calls = CallRegistry(settings.calls_limit)
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
            token_now=self.token_now,
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
        self.bots: dict[str, str] = dict(settings.bots)  # identity id -> callback URL

    async def start(self) -> None:
        await self.notifier.start()

    def prepare_signing_key(self) -> None:
        """Start making the signing key, if not yet started. A new RSA key takes a few tenths
        of a second: it is made in a daemon thread (stopping never waits for a key nobody
        will use), started once the server listens so that it does not slow start-up; the
        first token waits for it (once per process)."""
        if self._issuer is not None:
            return
        loop = asyncio.get_running_loop()
        self._issuer = future = loop.create_future()

        def make() -> None:
            issuer, failure = None, None
            try:
                issuer = self._make_issuer()
            except Exception as error:  # e.g. an unreadable --signing-key file
                failure = error
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, issuer, failure)

        threading.Thread(target=make, name="mockgraph-signing-key", daemon=True).start()

    def _make_issuer(self) -> TokenIssuer:
        path = self.settings.signing_key
        key = SigningKey.load_or_create(Path(path)) if path else SigningKey.for_process()
        return TokenIssuer(key, issuer=self.settings.token_issuer, audience=self.settings.app_id)

    async def issuer(self) -> TokenIssuer:
        self.prepare_signing_key()
        assert self._issuer is not None
        return await self._issuer

    def token_now(self, tenant_id: str) -> str | None:
        """The token without waiting, once the signing key exists; else None."""
        issuer = self._issuer
        if issuer is None or not issuer.done() or issuer.exception() is not None:
            return None
        return issuer.result().token(tenant_id or self.settings.tenant_id)

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
        cancelled = sum(
            1
            for entry in self.journal.entries()
            if isinstance(entry, NotificationRecord) and entry.note == "mockgraph stopped"
        )
        if cancelled:
            log.warning("%d notification(s) not delivered: cancelled at shutdown", cancelled)
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

    def _callback(self, spec: Mapping[str, Any]) -> str:
        callback_uri = spec.get("callbackUri") or self.settings.callback_url
        if not callback_uri:
            raise BadRequest(
                "'callbackUri' is required: give it in the body, "
                "or start mockgraph with --callback-url."
            )
        return str(callback_uri)

    def _call_properties(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "tenantId": self.settings.tenant_id,
            **{key: spec[key] for key in CALL_SPEC_PROPERTIES if key in spec},
        }

    def seed_call(self, spec: Mapping[str, Any]) -> Call:
        """Add a call the bot already has (``POST /_mock/calls``)."""
        return self._seed(spec, spec.get("state", "established"), {}, "seeded")

    def _seed(
        self, spec: Mapping[str, Any], state: str, defaults: Mapping[str, Any], cause: str
    ) -> Call:
        """A call from a control-plane ``spec``, over ``defaults`` for its Graph properties."""
        return self.calls.seed(
            self._callback(spec),
            call_id=spec.get("id"),
            state=state,
            properties={**defaults, **self._call_properties(spec)},
            application_instance=spec.get(
                "applicationInstance", self.settings.application_instance
            ),
            cause=cause,
        )

    def ring(self, spec: Mapping[str, Any]) -> Call:
        """A new incoming call (``POST /_mock/calls/incoming``): the bot gets the ``created``
        notification Graph sends, and the call ends if it is not answered, rejected or
        redirected within the ring timeout."""
        defaults = {
            "direction": "incoming",
            "requestedModalities": ["audio"],
            "source": {"identity": {"user": {"id": "caller", "displayName": "Caller"}}},
            "targets": [{"identity": {"application": {"id": self.settings.app_id}}}],
        }
        call = self._seed(spec, "incoming", defaults, "rang")
        created = {
            "changeType": "created",
            "resourceData": {
                "@odata.id": call.resource_url,
                "@odata.etag": f'W/"{len(call.history)}"',
                **call.to_graph(),
            },
        }
        self.player.send_now(call, created, "rang")
        timeout = float(spec.get("timeout", self.settings.ring_timeout))
        self.player.after(timeout, lambda: self._ring_timed_out(call))
        return call

    def _ring_timed_out(self, call: Call) -> None:
        if call.state == "incoming" and call.running_operation is None:
            self._start("ringTimeout", call, {})

    def pin_scenario(self, call_id: str, name: str | None) -> Call:
        """The scenario the call's next operation plays (``None`` unpins)."""
        call = self.calls.get(call_id)
        if name is not None and self.library.get(name) is None:
            loaded = ", ".join(self.library.names()) or "none"
            raise BadRequest(f"No scenario named '{name}' is loaded (loaded: {loaded}).")
        call.pinned_scenario = name
        return call

    def register_bot(self, identity_id: str, callback_uri: str) -> None:
        """Transfers to ``identity_id`` ring the bot at ``callback_uri``."""
        self.bots[identity_id] = callback_uri

    # --- the Graph operations -----------------------------------------------------------

    def get_call(self, call_id: str) -> Call:
        return self.calls.get(call_id, ended_ok=False)

    def answer(self, call_id: str, body: Mapping[str, Any]) -> None:
        self._act_on_incoming("answer", call_id, body)

    def reject(self, call_id: str, body: Mapping[str, Any]) -> None:
        self._act_on_incoming("reject", call_id, body)

    def redirect(self, call_id: str, body: Mapping[str, Any]) -> None:
        self._act_on_incoming("redirect", call_id, body)

    def _act_on_incoming(self, operation: str, call_id: str, body: Mapping[str, Any]) -> None:
        """answer, reject and redirect: checked first, so that a refused one changes nothing;
        then their callbackUri is where the call's notifications go."""
        call = self.calls.get(call_id, ended_ok=False)
        call.check(operation)
        if body.get("callbackUri"):
            call.callback_uri = str(body["callbackUri"])
        self._start(operation, call, body)

    def delete(self, call_id: str) -> None:
        """Hang up: whatever plays for the call stops, then the delete scenario plays."""
        call = self.calls.get(call_id, ended_ok=False)
        call.check("delete")
        if call.running_operation is not None:
            self.player.stop(call.id, "the call was deleted")
            call.finish()
        self._start("delete", call, {})

    def keep_alive(self, call_id: str) -> None:
        self.calls.get(call_id, ended_ok=False)

    def create(self, body: Mapping[str, Any]) -> Call:
        """``POST /communications/calls``: an outgoing call, establishing."""
        properties = {
            key: value
            for key, value in body.items()
            if key not in ("id", "callbackUri", "state", "direction") and "@" not in key
        }
        properties.setdefault("tenantId", self.settings.tenant_id)
        call = self.calls.seed(
            str(body["callbackUri"]),
            state="establishing",
            properties={**properties, "direction": "outgoing"},
            application_instance=self.settings.application_instance,
            cause="created",
        )
        self._start("create", call, body)
        return call

    def transfer(self, call_id: str, body: Mapping[str, Any]) -> None:
        """``POST /communications/calls/{id}/transfer``: check Graph's rules, accept, then
        play the scenario; a target that is a bot known to mockgraph is rung."""
        call = self.calls.get(call_id, ended_ok=False)
        call.check("transfer")
        target = body["transferTarget"]
        replaced_id = target.get("replacesCallId")
        if replaced_id is not None:
            replaced = self.calls.find(str(replaced_id))
            if replaced is None or replaced.ended:
                raise BadRequest(
                    f"'transferTarget.replacesCallId' names call '{replaced_id}', which "
                    "mockgraph does not know or which has ended."
                )
            if replaced.state != "established":
                raise Conflict(
                    f"The call to replace, '{replaced_id}', is {replaced.state}; "
                    "a consultative transfer needs it established."
                )
        if call.is_group_call and not body.get("transferee"):
            raise BadRequest("'transferee' is required to transfer from a group call.")
        identities = target.get("identity") or {}
        phone = identities.get("phone") if isinstance(identities, dict) else None
        forced = None
        if isinstance(phone, dict):
            number = str(phone.get("id", ""))
            if not E164.match(number):
                raise BadRequest(
                    f"'transferTarget.identity.phone.id' {number!r} is not an E.164 number "
                    "such as +12345678901."
                )
            if not call.application_instance:
                # Graph accepts it, then fails it: only an application instance (a bot with
                # a phone number) may transfer to PSTN.
                forced = PSTN_FAILURE
        self._start("transfer", call, body, scenario_name=forced)
        self._ring_transfer_target(call, target)

    def _ring_transfer_target(self, call: Call, target: Mapping[str, Any]) -> None:
        identities = target.get("identity") or {}
        for identity in identities.values() if isinstance(identities, dict) else ():
            if isinstance(identity, dict) and str(identity.get("id")) in self.bots:
                transferor = (call.properties.get("targets") or [{}])[0].get("identity") or {
                    "application": {"id": self.settings.app_id}
                }
                self.ring(
                    {
                        "callbackUri": self.bots[str(identity["id"])],
                        "source": call.properties.get("source")
                        or {"identity": {"user": {"id": "caller"}}},
                        "targets": [dict(target)],
                        "tenantId": call.properties.get("tenantId", self.settings.tenant_id),
                        "incomingContext": {"transferor": transferor},
                    }
                )
                return

    def _start(
        self,
        operation: str,
        call: Call,
        body: Mapping[str, Any],
        scenario_name: str | None = None,
    ) -> None:
        pinned = scenario_name or call.pinned_scenario
        scenario = self.library.select(operation, body, pinned)
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
            if not 0 <= scale < math.inf:  # NaN fails too (JSON parsers accept NaN)
                raise BadRequest("'scale' must be 0 or more (0 collapses every pause).")
            self.player.time_scale = scale
        if step is not None:
            self.player.step_mode = step
            if not step:  # leaving step mode lets every held step go
                for call in self.calls:
                    if call.waiting_step is not None:
                        self.player.advance(call.id)

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
