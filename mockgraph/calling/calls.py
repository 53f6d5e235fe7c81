"""Calls as Graph holds them, and the registry of calls mockgraph knows.

A call's state follows what was notified about it, so ``GET`` and later operations see the
same truth the bot was told. Which operation is allowed in which state is declared with each
operation (``operations.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockgraph.clock import iso
from mockgraph.errors import BadRequest, CallNotFound, Conflict, ItemNotFound
from mockgraph.ids import new_id

CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")
CALL_STATES = (
    "incoming",
    "establishing",
    "ringing",
    "established",
    "hold",
    "transferring",
    "transferAccepted",
    "redirecting",
    "terminating",
    "terminated",
    "unknownFutureValue",
)
# What a notification cannot change about a call: what the Call itself holds (id, where its
# notifications go) and instance annotations (@odata.type, @odata.id, @odata.etag). Everything
# else a scenario notifies (state, resultInfo, terminationReason, ...) is merged into the call.
OWN_PROPERTIES = frozenset({"id", "callbackUri"})


def app_hosted(media_config: Any) -> bool:
    """Whether a mediaConfig is an appHostedMediaConfig (the bot hosts its own media)."""
    kind = media_config.get("@odata.type", "") if isinstance(media_config, dict) else ""
    return "appHostedMediaConfig" in str(kind)


@dataclass(slots=True)
class CommsOperation:
    """An operation a Graph action returned (a prompt playing, a recording, a mute): Graph's
    ``commsOperation``, kept on its call until a ``deleted`` notification ends it."""

    id: str
    type: str  # the concrete Graph type, e.g. playPromptOperation
    call_id: str
    action: str  # the operation that started it, e.g. playPrompt
    status: str
    client_context: str | None
    properties: dict[str, Any] = field(default_factory=dict)  # resultInfo, recordingLocation...
    ended: bool = False  # its deleted notification went out: Graph no longer serves it

    @property
    def resource_url(self) -> str:
        return f"/communications/calls/{self.call_id}/operations/{self.id}"

    @property
    def running(self) -> bool:
        return self.status.lower() in ("notstarted", "running")

    def to_graph(self) -> dict[str, Any]:
        return {
            "@odata.type": f"#microsoft.graph.{self.type}",
            "id": self.id,
            "status": self.status,
            "clientContext": self.client_context,
            "resultInfo": None,
            **self.properties,
        }

    def echo(self, request: Mapping[str, Any]) -> None:
        """Carry back what the request said (invite's participants)."""
        self.properties.update(request)

    def to_json(self) -> dict[str, Any]:
        """The control plane's view: the Graph operation, what started it, whether it ended."""
        return {"operation": self.to_graph(), "action": self.action, "ended": self.ended}

    def apply(self, resource_data: Mapping[str, Any], change_type: str) -> None:
        """Take on what a notification told the bot about this operation; a ``deleted``
        one ends it."""
        for key, value in resource_data.items():
            if key == "status":
                self.status = str(value)
            elif key not in ("id", "clientContext") and "@" not in key:
                self.properties[key] = value
        if change_type.lower() == "deleted":
            self.ended = True


@dataclass(frozen=True)
class StateChange:
    state: str
    time: float  # time.time()
    cause: str

    def to_json(self) -> dict[str, str]:
        return {"state": self.state, "time": iso(self.time), "cause": self.cause}


# The media streams Graph lists for a participant, by what joined: a Teams client sends and
# receives audio, receives video and screen sharing, and has a data channel; a bot or a phone
# has one audio stream (sambetts/graph-calling-bots captures, GroupCallUserJoin and BotJoin).
TEAMS_CLIENT_STREAMS = (
    ("audio", "main-audio", "sendReceive"),
    ("video", "main-video", "receiveOnly"),
    ("videoBasedScreenSharing", "applicationsharing-video", "receiveOnly"),
    ("data", "data", "sendReceive"),
)
AUDIO_STREAMS = (("audio", "main-audio", "sendReceive"),)
# What a sharer adds: the changeScreenSharingRole page's roster shows it sendOnly.
SHARING_STREAM = ("videoBasedScreenSharing", "applicationsharing-video", "sendOnly")
# Identities that Microsoft Entra issues, which real rosters show with their tenant and
# identityProvider "AAD".
ENTRA_IDENTITIES = frozenset({"user", "application", "applicationInstance"})


# What an identitySet is about, most telling first: a person over the app or device they use.
MAIN_KINDS = ("user", "guest", "phone", "application", "applicationInstance")


def main_identity(identity: Mapping[str, Any]) -> Mapping[str, Any]:
    """The identity an identitySet is about (by ``MAIN_KINDS``, else any), or ``{}``."""
    for kind in (*MAIN_KINDS, *identity):
        value = identity.get(kind)
        if isinstance(value, Mapping) and "@" not in kind:
            return value
    return {}


def typed_identities(identity: Mapping[str, Any], tenant_id: str) -> dict[str, Any]:
    """An identitySet as real rosters show it: each identity typed, and an Entra identity with
    its tenant and identity provider."""
    typed: dict[str, Any] = {}
    for kind, value in identity.items():
        if "@" in kind or not isinstance(value, Mapping):
            continue
        inner = {"@odata.type": "#microsoft.graph.identity", **value}
        if kind in ENTRA_IDENTITIES:
            inner.setdefault("tenantId", tenant_id)
            inner.setdefault("identityProvider", "AAD")
        typed[kind] = inner
    return typed


@dataclass(slots=True)
class Participant:
    """Someone in a call's roster, as Graph's ``participant`` shows them."""

    id: str
    identity: dict[str, Any]  # an identitySet: {"user": {...}}, {"application": {...}}, ...
    source_ids: tuple[str, ...] = ("1",)  # one per media stream, unique in the call
    is_muted: bool = False
    is_in_lobby: bool = False
    on_hold_music: bool = False
    sharing_screen: bool = False  # a bot in the sharer role (changeScreenSharingRole)
    endpoint_id: str = field(default_factory=new_id)
    # When they joined and left (time.time(), as the history): the call record's sessions.
    joined: float = field(default_factory=time.time)
    left: float | None = None

    @property
    def is_bot(self) -> bool:
        return "application" in self.identity or "applicationInstance" in self.identity

    @property
    def is_teams_client(self) -> bool:
        """A person in Teams (not a bot, not a phone)."""
        return "user" in self.identity

    @property
    def streams(self) -> tuple[tuple[str, str, str], ...]:
        if self.is_teams_client:
            return TEAMS_CLIENT_STREAMS
        return (*AUDIO_STREAMS, SHARING_STREAM) if self.sharing_screen else AUDIO_STREAMS

    def to_graph(self) -> dict[str, Any]:
        """As real rosters show a participant (captures in sambetts/graph-calling-bots)."""
        info: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.participantInfo",
            "identity": {"@odata.type": "#microsoft.graph.identitySet", **self.identity},
            "endpointType": "default",
            "endpointId": self.endpoint_id,
            "participantId": self.id,
        }
        if self.is_teams_client:
            info["languageId"] = "en-US"
        return {
            "@odata.type": "#microsoft.graph.participant",
            "info": info,
            "mediaStreams": [
                {
                    "@odata.type": "#microsoft.graph.mediaStream",
                    "mediaType": media_type,
                    "label": label,
                    "sourceId": source_id,
                    "direction": direction,
                    "serverMuted": self.is_muted,
                }
                for (media_type, label, direction), source_id in zip(
                    self.streams, self.source_ids, strict=True
                )
            ],
            "isMuted": self.is_muted,
            "isInLobby": self.is_in_lobby,
            "publishedStates": [],
            "meetingRole": "none",
            "isIdentityAnonymized": False,
            "id": self.id,
        }


@dataclass(slots=True)
class Call:
    """A call as Graph holds it, plus what mockgraph needs to play scenarios for it."""

    id: str
    callback_uri: str
    properties: dict[str, Any]  # Graph call properties other than id
    history: list[StateChange] = field(default_factory=list)
    pinned_scenario: str | None = None
    last_scenario: str | None = None  # the scenario it played last
    running_operation: str | None = None
    application_instance: bool = True  # whether the bot has a phone number (PSTN transfers)
    waiting_step: int | None = None  # step mode: the step that waits for advance()
    operations: dict[str, CommsOperation] = field(default_factory=dict)
    subscribed_to_tones: bool = False
    tone_sequence: int = 0  # the sequenceId of the last tone notified
    next_source_id: int = 1  # media stream source ids are unique within a call
    participants: dict[str, Participant] = field(default_factory=dict)  # the roster, by id
    routing_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    sharing_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    departed: list[Participant] = field(default_factory=list)  # who left, in the order they did
    # Called when what the control plane shows of it changes (its registry's watchers).
    on_change: Callable[[Call], None] = field(default=lambda call: None, repr=False, compare=False)
    # Called once, when it ends (its registry's followers: the call record).
    on_end: Callable[[Call], None] = field(default=lambda call: None, repr=False, compare=False)

    @property
    def state(self) -> str:
        return str(self.properties.get("state", "unknownFutureValue"))

    @property
    def resource_url(self) -> str:
        return f"/communications/calls/{self.id}"

    def to_graph(self) -> dict[str, Any]:
        """The call as Graph's JSON represents it."""
        return {
            "@odata.type": "#microsoft.graph.call",
            "id": self.id,
            "callbackUri": self.callback_uri,
            **self.properties,
        }

    def to_json(self) -> dict[str, Any]:
        """The control plane's view: the Graph call plus mockgraph's bookkeeping."""
        return {
            "id": self.id,
            "state": self.state,
            "call": self.to_graph(),
            "history": [change.to_json() for change in self.history],
            "scenario": self.pinned_scenario,
            "lastScenario": self.last_scenario,
            "runningOperation": self.running_operation,
            "waitingStep": self.waiting_step,
            "operations": [operation.to_json() for operation in self.operations.values()],
            "subscribedToTones": self.subscribed_to_tones,
            "participants": self.roster(),
        }

    def reached(self, state: str) -> bool:
        """Whether the call is, or has been, in ``state``."""
        return self.entered(state) is not None

    def entered(self, state: str) -> float | None:
        """When the call first came to ``state`` (``time.time()``), if it ever did."""
        return next((change.time for change in self.history if change.state == state), None)

    def span(self) -> tuple[float, float]:
        """From when it connected (or began, if it never did) to when it ended (or now): the
        times a call record and an attendance report give it."""
        began = self.history[0].time if self.history else time.time()
        connected = self.entered("established")
        ended = self.entered("terminated")
        return (began if connected is None else connected), (ended or time.time())

    @property
    def ended(self) -> bool:
        return self.state == "terminated"

    @property
    def service_hosted_media(self) -> bool:
        """Whether Graph hosts the call's media (prompts, tones and recordings need it). A
        call that names no media config (a seeded one) counts as service-hosted."""
        return not app_hosted(self.properties.get("mediaConfig"))

    @property
    def is_group_call(self) -> bool:
        """A meeting or group chat call (Graph: it has meetingInfo or chatInfo)."""
        return bool(self.properties.get("meetingInfo") or self.properties.get("chatInfo"))

    def apply(self, resource_data: Mapping[str, Any], cause: str, change_type: str = "") -> None:
        """Take on what a notification told the bot about this call. A ``deleted``
        notification ends the call even if it names no state (reject's carries none)."""
        before = self.state
        for key, value in resource_data.items():
            if key not in OWN_PROPERTIES and "@" not in key:
                self.properties[key] = value
        if "state" not in resource_data and change_type.lower() == "deleted":
            self.properties["state"] = "terminated"
        if self.state != before:
            self.history.append(StateChange(self.state, time.time(), cause))
            if self.ended:
                self.on_end(self)
            self.on_change(self)

    def keep(self, properties: Mapping[str, Any]) -> None:
        """Take on Graph properties an operation's body set (answer's mediaConfig)."""
        self.properties.update(properties)

    def start_operation(
        self, type_name: str, action: str, status: str, body: Mapping[str, Any]
    ) -> CommsOperation:
        """A new operation of Graph type ``type_name``, started by ``action`` with ``body``."""
        operation = CommsOperation(
            id=new_id(),
            type=type_name,
            call_id=self.id,
            action=action,
            status=status,
            client_context=body.get("clientContext"),
        )
        self.operations[operation.id] = operation
        return operation

    def operation(self, operation_id: str, *, ended_ok: bool = False) -> CommsOperation:
        """One of its operations; ``OperationNotFound`` if unknown, or ended and not
        ``ended_ok`` (Graph forgets an operation once its deleted notification went out)."""
        found = self.operations.get(operation_id)
        if found is None or (found.ended and not ended_ok):
            raise ItemNotFound(
                "operation",
                self.id,
                operation_id,
                ": it never existed, or it ended and its deleted notification went out",
            )
        return found

    # --- the roster ---------------------------------------------------------------------------

    @property
    def roster_url(self) -> str:
        return f"/communications/calls/{self.id}/participants"

    def roster(self) -> list[dict[str, Any]]:
        """Every participant, as a roster notification's resourceData holds them."""
        return [participant.to_graph() for participant in self.participants.values()]

    def admit(self, identity: Mapping[str, Any], *, is_muted: bool = False) -> Participant:
        """Someone joins: a new participant with ``identity`` (an identitySet), typed as real
        rosters show it, with a source id of this call for each of its media streams."""
        typed = typed_identities(identity, str(self.properties.get("tenantId", "")))
        joining = Participant(new_id(), typed, is_muted=is_muted, source_ids=())
        self._give_sources(joining)
        self.participants[joining.id] = joining
        self.on_change(self)
        return joining

    def share_screen(self, participant: Participant, sharing: bool) -> None:
        """``participant`` (the bot) takes the sharer role, or the viewer's."""
        participant.sharing_screen = sharing
        participant.source_ids = participant.source_ids[: len(participant.streams)]
        self._give_sources(participant)
        self.on_change(self)

    def _give_sources(self, participant: Participant) -> None:
        """A source id of this call for each of its streams that has none yet."""
        missing = len(participant.streams) - len(participant.source_ids)
        fresh = range(self.next_source_id, self.next_source_id + missing)
        self.next_source_id += missing
        participant.source_ids = (*participant.source_ids, *(str(n) for n in fresh))

    def everyone(self) -> list[Participant]:
        """Everyone who was in the call: those who left, then those still in it."""
        return [*self.departed, *self.participants.values()]

    def participant(self, participant_id: str) -> Participant:
        found = self.participants.get(participant_id)
        if found is None:
            raise ItemNotFound("participant", self.id, participant_id, " in its roster")
        return found

    def participant_as(self, identity_id: str) -> Participant:
        """The participant whose identity (user, application, phone, …) has ``identity_id``."""
        for participant in self.participants.values():
            for identity in participant.identity.values():
                if isinstance(identity, Mapping) and identity.get("id") == identity_id:
                    return participant
        raise ItemNotFound("participant", self.id, identity_id, " with that identity id")

    def leave(self, participant_id: str) -> Participant:
        """Take ``participant_id`` off the roster (404 if it is not on it)."""
        left = self.participants.pop(self.participant(participant_id).id)
        self._depart(left)
        self.on_change(self)
        return left

    def _depart(self, participant: Participant) -> None:
        participant.left = time.time()
        self.departed.append(participant)

    def leave_all_but_the_bot(self) -> None:
        """Everyone but the bot leaves (the organiser ended the meeting)."""
        for participant in list(self.participants.values()):
            if not participant.is_bot:
                self._depart(self.participants.pop(participant.id))
        self.on_change(self)

    # --- audio routing groups -----------------------------------------------------------------

    def routing_group(self, group_id: str) -> dict[str, Any]:
        found = self.routing_groups.get(group_id)
        if found is None:
            raise ItemNotFound("audio routing group", self.id, group_id)
        return found

    def keep_routing_group(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace an audioRoutingGroup (Graph's JSON, with its ``id``)."""
        kept = {"@odata.type": "#microsoft.graph.audioRoutingGroup", **group}
        self.routing_groups[str(kept["id"])] = kept
        return kept

    def drop_routing_group(self, group_id: str) -> None:
        del self.routing_groups[self.routing_group(group_id)["id"]]

    # --- content sharing ----------------------------------------------------------------------

    def share_content(self, session_id: str | None = None) -> dict[str, Any]:
        """Someone starts sharing content: a new contentSharingSession."""
        session = {
            "@odata.type": "#microsoft.graph.contentSharingSession",
            "id": session_id or new_id(),
        }
        self.sharing_sessions[session["id"]] = session
        return session

    def sharing_session(self, session_id: str) -> dict[str, Any]:
        found = self.sharing_sessions.get(session_id)
        if found is None:
            raise ItemNotFound("content sharing session", self.id, session_id)
        return found

    @property
    def bot(self) -> Participant | None:
        """The bot's own entry in the roster: what call-level mute and unmute change."""
        return next((p for p in self.participants.values() if p.is_bot), None)

    def subscribe_to_tones(self) -> None:
        self.subscribed_to_tones = True

    def press(self, tone: str) -> dict[str, Any]:
        """The ``toneInfo`` of the next key press; ``sequenceId`` counts up per call."""
        self.tone_sequence += 1
        return {
            "@odata.type": "#microsoft.graph.toneInfo",
            "sequenceId": self.tone_sequence,
            "tone": tone,
        }

    def begin(self, operation: str) -> None:
        """Claim the call for ``operation`` (checked first, by its declaration)."""
        self.running_operation = operation
        self.on_change(self)

    def finish(self) -> None:
        self.running_operation = None
        self.on_change(self)

    def pin(self, scenario: str | None) -> None:
        """The scenario its next operation plays (``None``: the one its request selects)."""
        self.pinned_scenario = scenario
        self.on_change(self)

    def plays(self, scenario: str) -> None:
        self.last_scenario = scenario
        self.on_change(self)

    def wait_at_step(self, step: int | None) -> None:
        """Step mode: step ``step`` (1-based) waits for a release; ``None``: none waits."""
        if step != self.waiting_step:
            self.waiting_step = step
            self.on_change(self)


def _first_roster(properties: Mapping[str, Any], bot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Who is in a call that Graph set up: its source and its targets (the caller and the bot,
    for an incoming call; the bot and the callee, for an outgoing one), and the bot (identity
    ``bot``) if neither names it. A meeting's other participants are the meeting's: a test
    adds them."""
    found = []
    if not (properties.get("meetingInfo") or properties.get("chatInfo")):
        for info in [properties.get("source"), *(properties.get("targets") or [])]:
            identity = info.get("identity") if isinstance(info, dict) else None
            if isinstance(identity, dict) and identity:
                found.append({k: v for k, v in identity.items() if "@" not in k})
    if not any("application" in i or "applicationInstance" in i for i in found):
        found.append(dict(bot))
    return found


class CallWatcher(Protocol):
    """Told of every change the control plane shows (the inspector's event stream)."""

    def call_changed(self, call: Call) -> None: ...

    def calls_cleared(self) -> None: ...


class CallFollower(Protocol):
    """Told when calls begin, when they end and when the registry lets them go, and only
    then: a follower costs nothing per change (the keepAlive deadlines, the call records)."""

    def call_seeded(self, call: Call) -> None: ...

    def call_ended(self, call: Call) -> None: ...

    def calls_forgotten(self, call_ids: list[str]) -> None: ...

    def calls_cleared(self) -> None: ...


class CallRegistry:
    """The calls mockgraph knows, by id. Beyond ``limit`` calls, the oldest ended ones are
    forgotten (a long run must not grow without end); calls that are not over never are."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.forgotten = 0
        self._calls: dict[str, Call] = {}
        self._watchers: list[CallWatcher] = []
        self._followers: list[CallFollower] = []

    def watch(self, watcher: CallWatcher) -> Callable[[], None]:
        """Tell ``watcher`` of each change from now on; returns the unwatch."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def follow(self, follower: CallFollower) -> None:
        """Tell ``follower`` of each call seeded, and of calls let go, from now on."""
        self._followers.append(follower)

    def _changed(self, call: Call) -> None:
        for watcher in self._watchers:
            watcher.call_changed(call)

    def _ended(self, call: Call) -> None:
        for follower in self._followers:
            follower.call_ended(call)

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls.values())

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, call_id: str, *, ended_ok: bool = True) -> Call:
        """The call; ``CallNotFound`` if unknown, or ended and not ``ended_ok`` (Graph's view)."""
        call = self._calls.get(call_id)
        if call is None:
            raise CallNotFound(call_id)
        if call.ended and not ended_ok:
            raise CallNotFound(call_id, ended=True)
        return call

    def find(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def move_callback(self, call_id: str, url: str) -> None:
        """The bot answered a notification with a redirect: its later ones go to ``url``."""
        call = self._calls.get(call_id)
        if call is not None:
            call.callback_uri = url

    def seed(
        self,
        callback_uri: str,
        *,
        call_id: str | None = None,
        state: str,
        properties: Mapping[str, Any],
        application_instance: bool,
        cause: str,
        bot: Mapping[str, Any],
    ) -> Call:
        """Add a call, as if Graph had set it up; its callers say every default (``bot``: the
        bot's identity, for the roster)."""
        call_id = call_id or new_id()
        if not CALL_ID.match(call_id):
            raise BadRequest(
                f"'id' {call_id!r} must be 1-128 letters, digits, '.', '_', '~' or '-' "
                "(it becomes part of URLs)."
            )
        if call_id in self._calls:
            raise Conflict(f"A call with id '{call_id}' already exists.")
        graph_properties: dict[str, Any] = {
            "state": state,
            "direction": "incoming",
            "callChainId": new_id(),
            "myParticipantId": new_id(),
            "requestedModalities": ["audio"],
            **properties,
        }
        call = Call(
            id=call_id,
            callback_uri=callback_uri,
            properties=graph_properties,
            application_instance=application_instance,
        )
        call.history.append(StateChange(state, time.time(), cause))
        for identity in _first_roster(graph_properties, bot):
            call.admit(identity)
        call.on_change = self._changed
        call.on_end = self._ended
        self._calls[call_id] = call
        self._changed(call)
        for follower in self._followers:
            follower.call_seeded(call)
        if len(self._calls) > self.limit:
            self._forget_ended()
        return call

    def _forget_ended(self) -> None:
        # Down to 90% of the limit at once, so that the scan is rare (amortised).
        excess = len(self._calls) - int(self.limit * 0.9)
        ended = [call_id for call_id, call in self._calls.items() if call.ended][:excess]
        for call_id in ended:
            del self._calls[call_id]
        self.forgotten += len(ended)
        for follower in self._followers:
            follower.calls_forgotten(ended)

    def clear(self) -> None:
        self._calls.clear()
        self.forgotten = 0
        for watcher in self._watchers:
            watcher.calls_cleared()
        for follower in self._followers:
            follower.calls_cleared()
