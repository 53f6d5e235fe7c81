"""The fake calling service: the composition root that builds and wires its parts.

``CallingService(library, settings)`` owns the calls, the journal, playback, delivery and
signing, and offers two faces: ``graph`` (the Graph operations a bot calls) and ``control``
(what a test does). Neither needs a web server, so both can be driven and tested without HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from mockgraph.calling.bots import Bots, CallDefaults
from mockgraph.calling.calls import CallRegistry, CallWatcher
from mockgraph.calling.control import ControlService
from mockgraph.calling.graph_service import GraphService
from mockgraph.calling.media import Recordings
from mockgraph.calling.operations import ROUTED_OPERATIONS
from mockgraph.calling.playback import Player, TimeSettings
from mockgraph.callrecords.records import CallRecords
from mockgraph.clock import Clock
from mockgraph.config import Settings
from mockgraph.delivery.notifier import DeliveryPolicy, Notifier
from mockgraph.delivery.signing import SigningService
from mockgraph.delivery.tokens import TokenIssuer
from mockgraph.delivery.webhooks import Webhooks
from mockgraph.errors import WaitTimedOut
from mockgraph.faults import Faults
from mockgraph.http.local_tls import default_folder
from mockgraph.identity.apps import Apps
from mockgraph.identity.platform import IdentityPlatform
from mockgraph.journal import Entry, Journal
from mockgraph.meetings.meetings import OnlineMeetings
from mockgraph.presence.presences import CallPresence, Presences
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.signals import Changes
from mockgraph.subscriptions.presence_feed import PresenceFeed
from mockgraph.subscriptions.subscriptions import Subscriptions

log = logging.getLogger("mockgraph")


class Watcher(CallWatcher, Protocol):
    """Told of every change a test or a person may watch: calls, and final journal entries."""

    def entry_final(self, entry: Entry) -> None: ...


class CallingService:
    def __init__(
        self,
        library: ScenarioLibrary,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings = settings or Settings()
        self.clock = clock = clock or Clock(seed=settings.random_seed)
        self._calls = calls = CallRegistry(settings.calls_limit)
        self.journal = journal = Journal(settings.journal_limit, settings.journal_file)
        self._changes = changes = Changes(clock)
        self.signing = signing = SigningService(
            key_file=settings.signing_key,
            issuer=settings.token_issuer,
            audience=settings.app_id,
            default_tenant=settings.tenant_id,
        )
        # What mockgraph trusts as a client, besides the system's CAs: its local authority.
        self.authority_folder = Path(settings.tls_dir) if settings.tls_dir else default_folder()
        trust = str(self.authority_folder / "ca.pem")
        delivery = DeliveryPolicy.from_settings(settings)
        self._notifier = notifier = Notifier(
            changes,
            delivery,
            clock,
            token=signing.token,
            on_redirect=calls.move_callback,
            on_halt=lambda call_id: self._player.stop(call_id, "an earlier notification failed"),
            also_trust=trust,
        )
        start_time = TimeSettings(settings.time_scale, settings.step_mode)
        self._player = player = Player(
            calls, journal, notifier, changes, clock, time=start_time, quirks=settings.quirks
        )
        defaults = CallDefaults(
            tenant_id=settings.tenant_id,
            app_id=settings.app_id,
            application_instance=settings.application_instance,
            ring_timeout=settings.ring_timeout,
            keepalive_timeout=settings.keepalive_timeout,
            bot_name=settings.bot_name,
        )
        bots = Bots(dict(settings.bots))
        recordings = Recordings(Path(settings.recording) if settings.recording else None)
        self.meetings = OnlineMeetings(clock, settings.tenant_id)
        self.graph = GraphService(
            calls, library, player, bots, defaults, recordings, clock, self.meetings
        )
        start_faults = (*settings.faults, *library.faults)
        self.faults = faults = Faults(clock, ROUTED_OPERATIONS, start_faults)
        self.identity = IdentityPlatform(
            Apps(settings.apps),
            lambda: signing.issuer.key,
            clock,
            tenant_id=settings.tenant_id,
            lifetime=settings.token_lifetime,
        )
        self.presences = Presences(clock, CallPresence(calls))
        calls.follow(self.meetings)
        self.call_records = CallRecords(
            clock,
            delay=settings.call_record_delay,
            pause=player.pause,
            limit=settings.calls_limit,
            join_url=self.meetings.join_url_of,
        )
        calls.follow(self.call_records)
        self._webhooks = webhooks = Webhooks(journal, changes, delivery, clock, also_trust=trust)
        self.subscriptions = Subscriptions(
            clock,
            validate=webhooks.validate,
            post=webhooks.post,
            tenant_id=settings.tenant_id,
            app_id=settings.app_id,
            allow_http=settings.allow_http_webhooks,
            token=signing.token,
        )
        self.call_records.watch(self.subscriptions)
        self.subscriptions.feed_presence(
            PresenceFeed(clock, self.presences, calls, self.subscriptions.presence_changed)
        )
        self.control = ControlService(
            calls,
            library,
            player,
            notifier,
            journal,
            changes,
            self.graph,
            bots,
            defaults,
            faults,
            self.identity.apps,
            self.meetings,
            callback_url=settings.callback_url,
            start_time=start_time,
            webhooks_busy=lambda: webhooks.busy,
        )

    async def start(self) -> None:
        await self._notifier.start()

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Tell ``watcher`` of every change from now on; returns the unwatch."""
        unwatch_calls = self._calls.watch(watcher)
        unsubscribe = self.journal.subscribe(watcher.entry_final)

        def unwatch() -> None:
            unwatch_calls()
            unsubscribe()

        return unwatch

    @property
    def issuer(self) -> TokenIssuer:
        """The token issuer (its key made now, if it is not yet)."""
        return self.signing.issuer

    async def close(self) -> None:
        """Stop playing; let deliveries in flight finish within the grace period."""
        await self._player.cancel_all("mockgraph stopped")
        await self._notifier.close(self.settings.grace_period)
        await self._webhooks.close()
        cancelled = self.journal.count_cancelled("mockgraph stopped")
        if cancelled:
            log.warning("%d notification(s) not delivered: cancelled at shutdown", cancelled)
        self.journal.close()

    async def reset(self, time: Mapping[str, Any] | None = None) -> None:
        """Forget calls (and their records), journal, faults, presence, meetings and
        subscriptions, restore
        the time settings, then apply ``time``."""
        await self.control.reset(time)
        self.presences.clear()
        self.meetings.clear()
        self.subscriptions.clear()
        await self._webhooks.cancel_all("reset")

    @property
    def idle(self) -> bool:
        return self.control.idle

    async def wait_idle(self, timeout: float = 3600) -> bool:
        """Whether everything scheduled, queued or in flight finished within ``timeout`` s."""
        try:
            await self.control.wait_idle(timeout)
        except WaitTimedOut:
            return False
        return True
