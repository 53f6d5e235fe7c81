"""The Graph operations: every declaration in ``operations.py`` is checked and performed here,
in one order, and Graph's own events (an incoming call, its ring time-out) start here. What
plays, and when, the Director decides (``director.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mockgraph.calling.answers import NOTHING, Accepted, Touched
from mockgraph.calling.bots import Bots, CallDefaults
from mockgraph.calling.calls import Call, CallRegistry, CommsOperation
from mockgraph.calling.director import Director
from mockgraph.calling.keepalive import KeepAliveWatch
from mockgraph.calling.media import Queued, Recordings
from mockgraph.calling.operations import (
    FAR_SIDE,
    KEEP_ALIVE_EXPIRED,
    RING_TIMEOUT,
    Context,
    Operation,
)
from mockgraph.calling.playback import Player
from mockgraph.calling.steps import Doing
from mockgraph.clock import Clock
from mockgraph.errors import BadRequest, GraphError
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.schema.validation import problem


def _shown(operation: Operation, doing: Doing, version: str) -> Accepted:
    """What the operation's answer shows of what it touched."""
    view = operation.success.body
    if view is None or doing.call is None:  # most answers (a transfer's 202): nothing to build
        return NOTHING
    return view.show(Touched(doing.call, doing.comms, doing.named, version))


class MeetingDirectory(Protocol):
    """What the online meetings say of a call that joins one."""

    def names_no_meeting(self, call: Call) -> bool: ...


class GraphService:
    def __init__(
        self,
        calls: CallRegistry,
        library: ScenarioLibrary,
        player: Player,
        bots: Bots,
        defaults: CallDefaults,
        recordings: Recordings,
        clock: Clock,
        meetings: MeetingDirectory | None = None,
    ) -> None:
        self._calls = calls
        self._meetings = meetings
        self._player = player
        self._bots = bots
        self._defaults = defaults
        self._recordings = recordings
        self._director = Director(library, player, recordings)
        self._keep_alive = KeepAliveWatch(
            calls, clock, defaults.keepalive_timeout, player.deadline, self._not_kept_alive
        )
        player.let_far_side_act(self._far_side_acts)

    def perform(
        self,
        operation: Operation,
        version: str,
        call_id: str | None,
        body: Mapping[str, Any] | None,
        *,
        item_id: str | None = None,
        origin: str = "http://mockgraph",
    ) -> Accepted:
        """Check ``operation`` in the documented order (schema 400, the call and what its route
        names 404, state 409, its rules 400/409), then do it. A refused operation changes
        nothing and notifies nothing. ``item_id``: the operation, participant or audio routing
        group the route names; ``origin``: where the bot reached mockgraph, for URLs it hands
        out (recordings)."""
        body = dict(body or {})
        request = operation.request
        if request is not None:
            wrong = problem(version, request.type, body, request.optional)
            if wrong is not None:
                raise BadRequest(f"Invalid {request.what}: {wrong}.")
        call = self._calls.get(call_id, ended_ok=False) if operation.on_call and call_id else None
        named: Any = None
        if call is not None:
            if operation.names is not None:
                named = operation.names(call, str(item_id))
            operation.check_state(call)
        context = Context(body, call, self._calls, named)
        operation.check_rules(context)
        doing = Doing(operation, self, context, origin, call, named)
        acting, playing = operation.stages
        for step in acting:
            step(doing)
        accepted = _shown(operation, doing, version)  # as accepted, before anything plays
        for step in playing:
            step(doing)
        return accepted

    # --- what the steps ask of it (steps.Engine) -----------------------------------------------

    def create_call(self, body: Mapping[str, Any]) -> Call:
        return self._create(body)

    def play_claiming(self, operation: Operation, name: str, call: Call, body: Any) -> None:
        self._director.play_claiming(operation, name, call, body)

    def play_beside(self, name: str, call: Call, body: Any) -> None:
        self._director.play_beside(name, call, body)

    def play_media(self, queued: Queued, call: Call, *, queue: bool) -> None:
        self._director.play_media(queued, call, queue=queue)

    def cancel_media(self, call: Call, reason: str) -> None:
        self._director.cancel_media(call, reason)

    def interrupt(self, call: Call, reason: str) -> None:
        self._director.interrupt(call, reason)

    def kept_alive(self, call: Call) -> None:
        self._keep_alive.kept(call)

    def joins_no_meeting(self, call: Call) -> bool:
        return self._meetings is not None and self._meetings.names_no_meeting(call)

    def mint_recording(self, comms: CommsOperation, origin: str) -> Mapping[str, Any]:
        return self._recordings.mint(comms, origin).values()

    def stops_on(self, call: Call, tone: str) -> bool:
        """Whether pressing ``tone`` now ends what runs on the call (a recording's stopTones)."""
        return self._director.stops_on(call, tone)

    def recording(self, recording_id: str, bearer: str) -> bytes:
        """A finished recording's audio, for the bearer of its access token."""
        return self._recordings.download(recording_id, bearer)

    def reset(self) -> None:
        self._director.reset()
        self._recordings.clear()

    def _create(self, body: Mapping[str, Any]) -> Call:
        """An outgoing call, establishing: the body's Graph properties, less what Graph sets."""
        properties = {
            key: value
            for key, value in body.items()
            if key not in ("id", "callbackUri", "state", "direction") and "@" not in key
        }
        properties.setdefault("tenantId", self._defaults.tenant_id)
        properties.setdefault("source", self._defaults.source)
        return self._calls.seed(
            str(body["callbackUri"]),
            state="establishing",
            properties={**properties, "direction": "outgoing"},
            application_instance=self._defaults.application_instance,
            cause="created",
            bot=self._defaults.bot,
        )

    # --- Graph's own events ------------------------------------------------------------------

    def ring(
        self,
        callback_uri: str,
        properties: Mapping[str, Any],
        *,
        call_id: str | None = None,
        timeout: float | None = None,
        application_instance: bool | None = None,
    ) -> Call:
        """A new incoming call: the bot gets the ``created`` notification Graph sends, and the
        call ends if it is not answered, rejected or redirected within the ring time-out."""
        defaults = self._defaults
        call = self._calls.seed(
            callback_uri,
            call_id=call_id,
            state="incoming",
            properties={
                "direction": "incoming",
                "requestedModalities": ["audio"],
                "source": {"identity": {"user": {"id": "caller", "displayName": "Caller"}}},
                "targets": [{"identity": defaults.bot}],
                "tenantId": defaults.tenant_id,
                **properties,
            },
            application_instance=(
                defaults.application_instance
                if application_instance is None
                else application_instance
            ),
            cause="rang",
            bot=defaults.bot,
        )
        created = {
            "changeType": "created",
            "resourceData": {
                "@odata.id": call.resource_url,
                "@odata.etag": f'W/"{len(call.history)}"',
                **call.to_graph(),
            },
        }
        self._player.send_now(call, created, "rang")
        deadline = defaults.ring_timeout if timeout is None else timeout
        self._player.after_deadline(deadline, lambda: self._ring_timed_out(call))
        return call

    def _ring_timed_out(self, call: Call) -> None:
        try:
            RING_TIMEOUT.check_state(call)
        except GraphError:  # answered, rejected or redirected in time
            return
        self.play_claiming(RING_TIMEOUT, RING_TIMEOUT.name, call, {})

    def _not_kept_alive(self, call: Call) -> bool:
        """The call's 45 minutes passed with no keepAlive: Graph ends it, unless it is not in a
        state to (the bot's delete is under way)."""
        try:
            self.perform(KEEP_ALIVE_EXPIRED, "v1.0", call.id, None)
        except GraphError:
            return False
        return True

    def _far_side_acts(self, call: Call, event: str) -> str | None:
        """A scenario step's far-side event, as its control-plane route makes it happen; why
        not, if it cannot happen now (the call ended meanwhile, or is not a meeting)."""
        try:
            self.perform(FAR_SIDE[event], "v1.0", call.id, None)
        except GraphError as error:
            return f"the far side's {event} cannot happen now: {error.message}"
        return None

    def ring_transfer_target(self, call: Call, target: Mapping[str, Any]) -> None:
        """A transfer to a bot known to mockgraph rings that bot, with the transferring bot as
        the ``transferor`` and the transferee as the ``source``."""
        identities = target.get("identity") or {}
        for identity in identities.values() if isinstance(identities, dict) else ():
            url = self._bots.url_of(str(identity.get("id"))) if isinstance(identity, dict) else None
            if url is None:
                continue
            transferor = (call.properties.get("targets") or [{}])[0].get("identity") or {
                "application": {"id": self._defaults.app_id}
            }
            self.ring(
                url,
                {
                    "source": call.properties.get("source")
                    or {"identity": {"user": {"id": "caller"}}},
                    "targets": [dict(target)],
                    "tenantId": call.properties.get("tenantId", self._defaults.tenant_id),
                    "incomingContext": {"transferor": transferor},
                },
            )
            return
