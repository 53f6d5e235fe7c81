"""What an accepted Graph operation does, one named step each. An operation's declaration lists
its steps in order (``operations.py``); ``GraphService.perform`` runs them after the checks, the
same pipeline for every operation: schema, the call and what the route names, state, rules,
steps, answer. A new behaviour is a new step here, and a declaration that names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from mockgraph.calling.calls import Call, CommsOperation
from mockgraph.calling.media import Queued
from mockgraph.tones import tone_names

if TYPE_CHECKING:
    from mockgraph.calling.operations import Context, Effect, Operation


class Engine(Protocol):
    """What the steps ask of the Graph service."""

    def create_call(self, body: Mapping[str, Any]) -> Call: ...

    def play_claiming(self, operation: Operation, name: str, call: Call, body: Any) -> None: ...

    def play_beside(self, name: str, call: Call, body: Any) -> None: ...

    def play_media(self, queued: Queued, call: Call, *, queue: bool) -> None: ...

    def cancel_media(self, call: Call, reason: str) -> None: ...

    def interrupt(self, call: Call, reason: str) -> None: ...

    def mint_recording(self, comms: CommsOperation, origin: str) -> Mapping[str, Any]: ...

    def ring_transfer_target(self, call: Call, target: Mapping[str, Any]) -> None: ...

    def kept_alive(self, call: Call) -> None: ...

    def joins_no_meeting(self, call: Call) -> bool: ...


NO_VALUES: Mapping[str, Any] = MappingProxyType({})  # shared: nobody writes to it


@dataclass(slots=True)
class Doing:
    """One accepted operation, as its steps carry it out."""

    operation: Operation
    engine: Engine
    context: Context  # the checked body, the call, what the route names
    origin: str  # where the bot reached mockgraph, for URLs it hands out
    call: Call | None
    named: Any  # what the route names, or what a step made (a new group)
    comms: CommsOperation | None = None  # the commsOperation it answers with
    values: Mapping[str, Any] | None = None  # its scenario's template roots (a recording)

    @property
    def body(self) -> Mapping[str, Any]:
        return self.context.body

    @property
    def the_call(self) -> Call:
        if self.call is None:
            raise RuntimeError(f"a step of {self.operation.name} needs a call, and it has none")
        return self.call

    @property
    def the_comms(self) -> CommsOperation:
        if self.comms is None:
            raise RuntimeError(f"{self.operation.name} plays for an operation it did not start")
        return self.comms

    def media(self) -> Queued:
        """Its commsOperation's scenario, as the media queue plays it."""
        operation = self.operation
        values = self.values or NO_VALUES
        queued = Queued(self.comms, operation.name, operation.cancelled_scenario, self.body, values)
        ends = operation.ends_on_tone
        if ends is None:
            return queued
        tones = frozenset(tone_names(self.body.get(ends.tones) or []))
        return replace(queued, stop_tones=tones, stopped_scenario=ends.scenario)


Step = Callable[[Doing], None]


# --- the call ---------------------------------------------------------------------------------


def create_call(doing: Doing) -> None:
    """A new outgoing call from the body (create)."""
    doing.call = doing.engine.create_call(doing.body)


MEETING_NOT_FOUND = "join-meeting-not-found"


def join_only_a_meeting_that_exists(doing: Doing) -> None:
    """A join that names a meeting by a join id no meeting has fails once it is under way:
    the call plays ``join-meeting-not-found`` (establishing, then terminated 404)."""
    if doing.engine.joins_no_meeting(doing.the_call):
        doing.the_call.pin(MEETING_NOT_FOUND)


def take_callback(doing: Doing) -> None:
    """The body's callbackUri, if it has one, is where the call's notifications go now."""
    if doing.body.get("callbackUri"):
        doing.the_call.callback_uri = str(doing.body["callbackUri"])


def kept_alive(doing: Doing) -> None:
    """The call's 45 minutes without a keepAlive start again."""
    doing.engine.kept_alive(doing.the_call)


def keep(*keys: str) -> Step:
    """These body keys become the call's properties (answer's mediaConfig)."""

    def step(doing: Doing) -> None:
        doing.the_call.keep({key: doing.body[key] for key in keys if key in doing.body})

    step.__name__ = f"keep({', '.join(keys)})"
    return step


def acting(effect: Effect) -> Step:
    """A change to the call's domain (mute, hold, leave, a routing group); what it makes, if
    anything, is what the answer shows."""

    def step(doing: Doing) -> None:
        made = effect(doing.context)
        if made is not None:
            doing.named = made

    step.__name__ = getattr(effect, "__name__", "acting")
    return step


# --- commsOperations and media ----------------------------------------------------------------


def start_operation(doing: Doing) -> None:
    """The commsOperation the action answers with, carrying back what the declaration
    echoes."""
    returns = doing.operation.returns
    if returns is None:
        raise RuntimeError(f"{doing.operation.name} starts an operation but declares no type")
    call, name = doing.the_call, doing.operation.name
    comms = call.start_operation(returns.type, name, returns.status, doing.body)
    echoed = doing.operation.echoes
    comms.echo({key: doing.body[key] for key in echoed if key in doing.body})
    doing.comms = comms


def subscribe_to_tones(doing: Doing) -> None:
    doing.the_call.subscribe_to_tones()


def cancel_media(doing: Doing) -> None:
    """The call's running and queued prompts and recordings end, each with its cancelled
    scenario."""
    doing.engine.cancel_media(doing.the_call, f"cancelled by {doing.operation.name}")


def cancel_media_if(key: str) -> Step:
    """``cancel_media`` when the body's ``key`` is true ("barge into other existing
    queued-up/currently-processing record/playprompt requests")."""

    def step(doing: Doing) -> None:
        if doing.body.get(key) is True:
            cancel_media(doing)

    step.__name__ = f"cancel_media_if({key})"
    return step


def mint_recording(doing: Doing) -> None:
    """A location and token for what the operation records, as its scenario's
    ``{{ recording.… }}``."""
    doing.values = doing.engine.mint_recording(doing.the_comms, doing.origin)


def queue_media(doing: Doing) -> None:
    """Its scenario plays when its turn in the call's media queue comes (prompts, recordings
    play one after another)."""
    doing.engine.play_media(doing.media(), doing.the_call, queue=True)


def play_operation(doing: Doing) -> None:
    """Its operation's scenario plays now, beside whatever else plays for the call."""
    doing.engine.play_media(doing.media(), doing.the_call, queue=False)


# --- playing for the call ---------------------------------------------------------------------


@dataclass(frozen=True)
class Interrupt:
    """Whatever plays for the call stops, its prompts included (journaled with ``reason``);
    an operation with this step is not refused for a transfer still playing (hanging up)."""

    reason: str

    def __call__(self, doing: Doing) -> None:
        doing.engine.interrupt(doing.the_call, self.reason)


def play(doing: Doing) -> None:
    """Its scenario plays, claiming the call until its last step: a second operation that
    holds the call is 409 meanwhile. Its fallback's plays instead when that applies."""
    operation, context = doing.operation, doing.context
    name = operation.name
    if operation.fallback is not None and operation.fallback.applies(context):
        name = operation.fallback.scenario
    doing.engine.play_claiming(operation, name, doing.the_call, context.body)


def play_beside(doing: Doing) -> None:
    """Its scenario plays beside what claims the call (a roster change)."""
    doing.engine.play_beside(doing.operation.name, doing.the_call, doing.body)


def ring_transfer_target(doing: Doing) -> None:
    """A transfer to a bot mockgraph knows rings that bot."""
    doing.engine.ring_transfer_target(doing.the_call, doing.context.body["transferTarget"])


# Steps that play a scenario for the operation's name, and the one that holds the call.
PLAYING = frozenset({play, play_beside, queue_media, play_operation})
