"""Every Graph calling operation mockgraph serves, declared once.

A declaration says everything about its operation: its route (every form it is served at
derives from it), the Graph type its body is checked against, the states it is allowed from,
its own rules with their messages, its answer, what it returns, and what it does once
accepted: its named steps, in order (``steps.py``). One generic handler
(``mockgraph.http.graph_routes``) serves every declaration, one service (``GraphService``) checks
and performs them in one pipeline, and the README's tables are checked against this table by
a test.

The checking order, the same for every operation (the first layer that fails answers):

1. authentication (401) and 2. route and method (404/405), in the HTTP layer;
3. content type (415), 4. size (413), as the body is read;
5. JSON and schema (400), 6. the call exists (404), 7. its state allows the operation (409),
8. the operation's own rules (400/409), in ``GraphService.perform``.

Adding an operation is one ``Operation(...)`` here (and a step in ``steps.py`` if it does
something new), a scenario file, a README row and tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

from mockgraph.calling import answers, steps
from mockgraph.calling.answers import View
from mockgraph.calling.calls import CALL_STATES, Call, Participant, app_hosted
from mockgraph.calling.steps import PLAYING, Step
from mockgraph.config import parse_http_url
from mockgraph.errors import BadRequest, CallNotFound, Conflict
from mockgraph.identity.permissions import (
    ACCESS_MEDIA,
    ANY_CALLING,
    INITIATE,
    INITIATE_GROUP,
    JOIN_AS_GUEST,
    JOIN_GROUP,
    NONE_NEEDED,
    allowed_by,
    check_permitted,
)
from mockgraph.ids import new_id
from mockgraph.tones import tone_names

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ACTIVE = frozenset(
    {"establishing", "ringing", "established", "hold", "transferring", "transferAccepted"}
)


@dataclass(frozen=True)
class Collection:
    """A place Graph serves the calls collection at: ``/v1.0/communications/calls``."""

    version: str
    path: str  # with the version: /v1.0/communications/calls


# Where every call operation is served: the documented collection, in both versions, and the
# deprecated /app/calls tree that msgraph-beta-sdk still generates for every one of them.
COLLECTIONS = (
    Collection("v1.0", "/v1.0/communications/calls"),
    Collection("beta", "/beta/communications/calls"),
    Collection("beta", "/beta/app/calls"),
)
# Graph's v1.0 pages show the /app form of a few operations only (Route.v1_app).
V1_APP = Collection("v1.0", "/v1.0/app/calls")
# How OData qualifies a bound action's name (the .NET SDK sends it; Graph answers it as the
# plain name). Graph reads the namespace without regard to case (a real log shows
# Microsoft.Graph.changeScreenSharingRole), so mockgraph does too.
NAMESPACE = "microsoft.graph."


@dataclass(frozen=True)
class Form:
    """One path a route is served at, under one collection."""

    method: str
    path: str  # e.g. /beta/app/calls/{id}/microsoft.graph.answer
    version: str
    qualified: bool = False  # the action's name with its namespace

    @property
    def deprecated(self) -> bool:
        return "/app/" in self.path


@dataclass(frozen=True)
class Route:
    """A method and a path below the calls collection (``/{id}/answer``; ``""``: the
    collection itself). Every form it is served at derives from it (``forms``)."""

    method: str
    path: str
    action: bool = False  # its last segment is a bound action, also served qualified
    v1_app: bool = False  # Graph's v1.0 pages show its deprecated /v1.0/app/calls form too

    @property
    def collections(self) -> tuple[Collection, ...]:
        return (*COLLECTIONS, V1_APP) if self.v1_app else COLLECTIONS

    def forms(self) -> tuple[Form, ...]:
        """Every path it is served at: under each collection, and for an action also with its
        namespace-qualified name (``…/{id}/microsoft.graph.answer``)."""
        forms = [
            Form(self.method, collection.path + self.path, collection.version)
            for collection in self.collections
        ]
        if self.action:
            head, _, name = self.path.rpartition("/")
            forms += [
                Form(self.method, f"{c.path}{head}/{NAMESPACE}{name}", c.version, qualified=True)
                for c in self.collections
            ]
        return tuple(forms)

    @property
    def documented(self) -> str:
        """Its form in the v1.0 docs, with ``{calls}`` for the collection."""
        return "{calls}" + self.path


def action(path: str, *, v1_app: bool = False) -> Route:
    """A bound action's route: ``POST …/{id}/answer``."""
    return Route("POST", path, action=True, v1_app=v1_app)


@dataclass(frozen=True)
class Request:
    """The Graph type a request body is checked against (a ``$defs`` name of the schemas)."""

    type: str
    # Properties the CSDL makes required that Graph's docs call optional.
    optional: frozenset[str] = frozenset()
    may_be_empty: bool = False  # no body at all reads as {}

    @property
    def what(self) -> str:
        """How its errors name it: "transfer request" for ``action.transfer``, "call" for
        ``microsoft.graph.call``."""
        kind, _, name = self.type.rpartition(".")
        return f"{name} request" if kind == "action" else name


@dataclass(frozen=True)
class Success:
    """What an operation answers when it succeeds: Graph's status, and what its body shows."""

    status: int
    body: View | None = None  # what the body shows (answers.py); None: no body
    location: bool = False  # a Location header naming what the body is


@dataclass(frozen=True)
class Match:
    """A request field that tells one recorded request of an operation from another (a
    transfer to Alice from one to the PSTN): a recorded scenario's ``when`` rule. With
    ``presence``, only whether it is there (its value is an id that differs every run)."""

    path: str
    presence: bool = False


@dataclass(frozen=True)
class Returns:
    """The commsOperation an action returns: its Graph type and the status it starts in.
    ``running`` means a notification will end it; ``completed`` means none will."""

    type: str
    status: Literal["running", "completed"]


# What an action that returns a commsOperation answers: 200, the operation, its Location.
RETURNS_OPERATION = Success(200, body=answers.OPERATION, location=True)


class CallLookup(Protocol):
    def find(self, call_id: str) -> Call | None: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What an operation's rules and effects see: the checked body and, if it has them, its
    call and the participant its route names."""

    body: Mapping[str, Any]
    call: Call | None
    calls: CallLookup
    named: Any = None  # what the route names besides the call (a participant, a group)

    @property
    def the_call(self) -> Call:
        if self.call is None:
            raise RuntimeError("a rule that needs a call was declared on an operation without one")
        return self.call

    @property
    def participant(self) -> Participant | None:
        return self.named if isinstance(self.named, Participant) else None

    @property
    def the_participant(self) -> Participant:
        if self.participant is None:
            raise RuntimeError("a rule that needs a participant was declared on a call operation")
        return self.participant


Rule = Callable[[Context], None]
Effect = Callable[[Context], Any]  # what an accepted operation changes at once


@dataclass(frozen=True)
class Fallback:
    """When ``applies`` holds, the scenario operation ``scenario`` plays instead of the
    operation's own (Graph accepts the request, then fails it)."""

    scenario: str
    applies: Callable[[Context], bool]


@dataclass(frozen=True)
class EndsOnTone:
    """A key press the request names (in its ``tones`` key) ends the operation while it
    runs: what it was playing stops, and the scenario operation ``scenario`` plays."""

    tones: str
    scenario: str


@dataclass(frozen=True)
class Operation:
    name: str  # also the scenario operation it plays
    route: Route | None = None  # None: Graph's own event, e.g. ringTimeout
    # The application permissions any one of which allows it (under --auth strict).
    permissions: frozenset[str] = ANY_CALLING
    request: Request | None = None  # None: the body is not read
    on_call: bool = True  # False: on the collection (create)
    allowed_from: frozenset[str] | None = None  # None: any state (ended calls are 404 anyway)
    advice: Mapping[str, str] = field(default_factory=dict)  # by state: what to do instead
    rules: tuple[Rule, ...] = ()
    success: Success = Success(202)
    returns: Returns | None = None  # the commsOperation it answers with
    # What its route names besides the call (one of its operations, participants, groups or
    # sessions), found by id: the call's lookup, which is the 404 when it has none.
    names: Callable[[Call, str], Any] | None = None
    fallback: Fallback | None = None
    cancelled_scenario: str | None = None  # played for one of its operations when cancelled
    ends_on_tone: EndsOnTone | None = None
    echoes: tuple[str, ...] = ()  # body keys the returned operation carries back
    matched_by: tuple[Match, ...] = ()  # what a recorded scenario's ``when`` rules name
    # What it does once accepted, in order (steps.py): the same pipeline runs them all.
    steps: tuple[Step, ...] = ()

    @cached_property  # derived from the steps once, not on every request
    def plays(self) -> bool:
        """Whether a scenario for its name plays when it is accepted."""
        return any(step in PLAYING for step in self.steps)

    @cached_property
    def stages(self) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
        """Its steps before the first that plays, and the rest: the answer shows things as
        they are between the two."""
        first = next((n for n, step in enumerate(self.steps) if step in PLAYING), len(self.steps))
        return self.steps[:first], self.steps[first:]

    @cached_property
    def creates_call(self) -> bool:
        return steps.create_call in self.steps

    @cached_property
    def hands_out_urls(self) -> bool:
        """Whether its notifications carry URLs of mockgraph's (a recording's), which need the
        origin the bot reached it at."""
        return steps.mint_recording in self.steps

    @cached_property
    def interrupts(self) -> bool:
        """Whether it stops what plays for the call (hanging up during a transfer)."""
        return any(isinstance(step, steps.Interrupt) for step in self.steps)

    @cached_property
    def sets_callback(self) -> bool:
        """Whether its body names the callbackUri the call's notifications go to."""
        return steps.take_callback in self.steps or self.creates_call

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        """Raise the 403 Graph's calling API answers if no role in the token allows this."""
        check_permitted(self.name, self.permissions, roles)

    def check_state(self, call: Call) -> None:
        """Raise the 404 or 409 Graph answers if the call's state does not allow this."""
        if call.ended:
            raise CallNotFound(call.id, ended=True)
        if self.allowed_from is not None and call.state not in self.allowed_from:
            need = " or ".join(sorted(self.allowed_from))
            advice = self.advice.get(call.state)
            raise Conflict(
                f"Cannot {self.name} call '{call.id}': it is {call.state}, and {self.name} "
                f"needs a call that is {need}" + (f"; {advice}." if advice else ".")
            )
        running = call.running_operation
        if (
            running is not None
            and self.claims_call
            and (not self.interrupts or running == self.name)
        ):
            raise Conflict(
                f"Call '{call.id}' already has a {running} in progress; "
                f"wait for its notifications before another {self.name}."
            )

    @cached_property
    def claims_call(self) -> bool:
        """Whether it holds the whole call while it plays (a transfer); one that plays beside
        the call (a prompt, a roster change) does not."""
        return steps.play in self.steps

    def check_rules(self, context: Context) -> None:
        for rule in self.rules:
            rule(context)


# --- redirect -------------------------------------------------------------------------------


def _redirect_timeout(context: Context) -> None:
    """`timeout` is 15 to 90 seconds (400)."""
    timeout = context.body.get("timeout")
    if timeout is not None and not 15 <= timeout <= 90:
        raise BadRequest(
            f"Invalid redirect request: 'timeout' must be 15 to 90 seconds, not {timeout}."
        )


def _redirect_targets(context: Context) -> None:
    """`targets` names 1 to 25 targets (400)."""
    targets = context.body["targets"]
    if not targets:
        raise BadRequest("Invalid redirect request: 'targets' must name at least one target.")
    if len(targets) > 25:
        raise BadRequest("Invalid redirect request: at most 25 'targets' ring at once.")


# --- answer and create ----------------------------------------------------------------------


def _callback_uri(context: Context) -> None:
    """`callbackUri`, if given, is an http(s) URL (400): Graph POSTs the call's notifications
    to it, and fails at once rather than at every delivery."""
    uri = context.body.get("callbackUri")
    if uri:
        try:
            parse_http_url(str(uri))
        except ValueError as error:
            raise BadRequest(f"'callbackUri' {error}.") from None


def _app_hosted_blob(context: Context) -> None:
    """An `appHostedMediaConfig` carries the media platform's `blob` (400; the Kiota SDKs drop
    an empty blob, which real bots then meet as this 400)."""
    media = context.body.get("mediaConfig") or {}
    if app_hosted(media) and not media.get("blob"):
        raise BadRequest(
            "'mediaConfig.blob' is required with an appHostedMediaConfig: the blob your "
            "media platform made (MediaPlatform.CreateMediaConfiguration in the .NET SDK)."
        )


# --- create ---------------------------------------------------------------------------------


def _e164(where: str, number: Any) -> None:
    """A phone identity's id must be an E.164 number (the create, redirect and transfer pages:
    "Phone ID is the phone number in E.164 format")."""
    if not E164.match(str(number)):
        raise BadRequest(f"'{where}' {number!r} is not an E.164 number such as +12345678901.")


def _phones_are_e164(key: str) -> Rule:
    """Each phone identity among ``key``'s participants is an E.164 number."""

    def rule(context: Context) -> None:
        for index, invitee in enumerate(context.body.get(key) or []):
            identity = invitee.get("identity") if isinstance(invitee, dict) else None
            phone = identity.get("phone") if isinstance(identity, dict) else None
            if isinstance(phone, dict):
                _e164(f"{key}[{index}].identity.phone.id", phone.get("id", ""))

    rule.__doc__ = f"Each phone among `{key}` is an E.164 number such as `+12345678901` (400)."
    return rule


def _create_required(context: Context) -> None:
    """`callbackUri`, `mediaConfig`, and `targets` (a peer-to-peer call) or `meetingInfo` and
    `chatInfo` (a meeting) are given (400)."""
    body = context.body
    for name in ("callbackUri", "mediaConfig"):
        if not body.get(name):
            raise BadRequest(f"Invalid call: '{name}' is required.")
    if not (body.get("targets") or body.get("meetingInfo") or body.get("chatInfo")):
        raise BadRequest(
            "Invalid call: give 'targets' for a peer-to-peer call, or 'meetingInfo' and "
            "'chatInfo' to join a meeting."
        )


# --- transfer -------------------------------------------------------------------------------


def _replaced_call(context: Context) -> None:
    """A consultative transfer replaces a call mockgraph knows (400) that is established (409)."""
    replaced_id = context.body["transferTarget"].get("replacesCallId")
    if replaced_id is None:
        return
    replaced = context.calls.find(str(replaced_id))
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


def _group_call_transferee(context: Context) -> None:
    """A transfer from a group call names its `transferee` (400)."""
    if context.the_call.is_group_call and not context.body.get("transferee"):
        raise BadRequest("'transferee' is required to transfer from a group call.")


def pstn_target(body: Mapping[str, Any]) -> str | None:
    """The phone number a transfer is to, if it is to a phone (PSTN)."""
    identities = body["transferTarget"].get("identity") or {}
    phone = identities.get("phone") if isinstance(identities, dict) else None
    return str(phone.get("id", "")) if isinstance(phone, dict) else None


def _pstn_is_e164(context: Context) -> None:
    """A phone `transferTarget` is an E.164 number such as `+12345678901` (400)."""
    number = pstn_target(context.body)
    if number is not None:
        _e164("transferTarget.identity.phone.id", number)


def _pstn_without_application_instance(context: Context) -> bool:
    """Only an application instance (a bot with a phone number) may transfer to PSTN; Graph
    accepts the request from any other bot, then fails it."""
    return pstn_target(context.body) is not None and not context.the_call.application_instance


# --- media: prompts, recordings, tones --------------------------------------------------------


def _service_hosted_media(context: Context) -> None:
    """Calls with service-hosted media only (400)."""
    call = context.the_call
    if not call.service_hosted_media:
        raise BadRequest(
            f"Call '{call.id}' hosts its own media (appHostedMediaConfig); prompts, "
            "recordings and tones need a call answered or created with "
            "serviceHostedMediaConfig."
        )


def _prompts(most: int) -> Rule:
    def rule(context: Context) -> None:
        prompts = context.body.get("prompts") or []
        if len(prompts) > most:
            raise BadRequest(
                f"'prompts' holds {len(prompts)} prompts; Graph plays at most {most} at once."
            )

    rule.__doc__ = f"At most {most} `prompts` (400)."
    return rule


def _some_prompts(context: Context) -> None:
    """`prompts` holds at least one prompt (400)."""
    if not context.body["prompts"]:
        raise BadRequest("'prompts' must hold at least one mediaPrompt.")


RECORD_TIMERS = (
    "initialSilenceTimeoutInSeconds",
    "maxSilenceTimeoutInSeconds",
    "maxRecordDurationInSeconds",
)


def _record_timers(context: Context) -> None:
    """Its silence and duration timers are 1 to 120 seconds (400)."""
    for name in RECORD_TIMERS:
        seconds = context.body.get(name)
        if seconds is not None and not 1 <= seconds <= 120:
            raise BadRequest(f"'{name}' must be 1 to 120 seconds, not {seconds}.")


def _stop_tones(context: Context) -> None:
    """`stopTones` are tones Graph knows (400)."""
    try:
        tone_names(context.body.get("stopTones") or [])
    except ValueError as error:
        raise BadRequest(f"'stopTones': {error}.") from None


def _some_tones(context: Context) -> None:
    """`tones` holds at least one tone, and `delayBetweenTonesMs` is not negative (400)."""
    if not context.body["tones"]:
        raise BadRequest("'tones' must hold at least one tone.")
    delay = context.body.get("delayBetweenTonesMs")
    if delay is not None and delay < 0:
        raise BadRequest(f"'delayBetweenTonesMs' must not be negative, not {delay}.")


def _group_call(what: str) -> Rule:
    def rule(context: Context) -> None:
        if not context.the_call.is_group_call:
            raise BadRequest(f"{what} is only supported for group calls (meetings).")

    rule.__doc__ = "Group calls only: a meeting, seeded or created with `meetingInfo` (400)."
    return rule


def _sharing_role(context: Context) -> None:
    """The bot shares its screen (a sendOnly screen-sharing stream) as a sharer, not as a
    viewer."""
    bot = context.the_call.bot
    if bot is not None:
        context.the_call.share_screen(bot, context.body["role"] == "sharer")


def _app_hosted_media(context: Context) -> None:
    """Calls with app-hosted media only (400)."""
    if context.the_call.service_hosted_media:
        raise BadRequest(
            "changeScreenSharingRole is only supported for calls with app-hosted media "
            "(appHostedMediaConfig)."
        )


# --- participants ---------------------------------------------------------------------------


def _invitees(context: Context) -> None:
    """1 to 5 `participants`, several only in a group call; a `replacesCallId` names a call
    mockgraph knows that has not ended (400)."""
    invitees = context.body["participants"]
    if not invitees:
        raise BadRequest("Invalid invite request: 'participants' must name at least one.")
    if len(invitees) > 5:
        raise BadRequest(
            f"Invalid invite request: 'participants' names {len(invitees)}; Graph invites "
            "at most 5 at once."
        )
    if len(invitees) > 1 and not context.the_call.is_group_call:
        raise BadRequest(
            "Invalid invite request: inviting several participants at once is only supported "
            "for group calls."
        )
    replaced_id = invitees[0].get("replacesCallId")
    if replaced_id is not None:
        replaced = context.calls.find(str(replaced_id))
        if replaced is None or replaced.ended:
            raise BadRequest(
                f"'participants[0].replacesCallId' names call '{replaced_id}', which mockgraph "
                "does not know or which has ended."
            )


def _one_on_hold(context: Context) -> None:
    """One participant on hold at a time (409)."""
    held = [p for p in context.the_call.participants.values() if p.on_hold_music]
    if held and held[0] is not context.participant:
        raise Conflict(
            f"Participant '{held[0].id}' is already on hold; Graph holds one participant at a "
            "time (stopHoldMusic first)."
        )


def _muting(muted: bool) -> Effect:
    def effect(context: Context) -> None:
        participant = context.participant or context.the_call.bot
        if participant is not None:
            participant.is_muted = muted

    return effect


def _holding(held: bool) -> Effect:
    def effect(context: Context) -> None:
        context.the_participant.on_hold_music = held

    return effect


def _leaving(context: Context) -> None:
    context.the_call.leave(context.the_participant.id)


# --- audio routing groups -------------------------------------------------------------------


def _routing_mode(context: Context) -> None:
    """`routingMode` is given; `oneToOne` has one source and one receiver, `multicast` one
    source and any receivers (400)."""
    body = context.body
    existing = context.named if isinstance(context.named, dict) else {}
    merged = {**existing, **body}
    mode = merged.get("routingMode")
    if mode is None:
        raise BadRequest("Invalid audioRoutingGroup: 'routingMode' is required.")
    sources, receivers = merged.get("sources") or [], merged.get("receivers") or []
    if mode in ("oneToOne", "multicast") and len(sources) != 1:
        raise BadRequest(
            f"Invalid audioRoutingGroup: a {mode} group has exactly one source, not {len(sources)}."
        )
    if mode == "oneToOne" and len(receivers) != 1:
        raise BadRequest(
            f"Invalid audioRoutingGroup: a oneToOne group has exactly one receiver, not "
            f"{len(receivers)}."
        )


def _new_routing_group(context: Context) -> None:
    """An `id` given is not the call's already (409)."""
    group_id = context.body.get("id")
    if group_id is not None and group_id in context.the_call.routing_groups:
        raise Conflict(
            f"Call '{context.the_call.id}' already has audio routing group '{group_id}'."
        )


def _keeping_group(context: Context) -> dict[str, Any]:
    group = {**(context.named or {}), **context.body}
    group.setdefault("id", new_id())
    return context.the_call.keep_routing_group(group)


def _dropping_group(context: Context) -> None:
    context.the_call.drop_routing_group(str(context.named["id"]))


# --- the table ------------------------------------------------------------------------------

INCOMING = frozenset({"incoming"})

ANSWER = Operation(
    "answer",
    route=action("/{id}/answer"),
    # The CSDL makes callbackUri non-nullable, the docs call it optional: a bot that leaves it
    # out keeps the call's own.
    request=Request("action.answer", optional=frozenset({"callbackUri"})),
    allowed_from=INCOMING,
    rules=(_callback_uri, _app_hosted_blob),
    # How the call's media is hosted decides whether prompts, tones and recordings work.
    steps=(steps.take_callback, steps.keep("mediaConfig"), steps.play),
    matched_by=(Match("acceptedModalities.0"),),
)
REJECT = Operation(
    "reject",
    permissions=NONE_NEEDED,
    route=action("/{id}/reject"),
    request=Request("action.reject", may_be_empty=True),
    allowed_from=INCOMING,
    advice={"established": "reject does not end an answered call; delete it instead"},
    rules=(_callback_uri,),
    steps=(steps.take_callback, steps.play),
    matched_by=(Match("reason"),),
)
REDIRECT = Operation(
    "redirect",
    permissions=allowed_by(INITIATE),
    route=action("/{id}/redirect"),
    request=Request("action.redirect"),
    allowed_from=INCOMING,
    rules=(_redirect_timeout, _redirect_targets, _callback_uri, _phones_are_e164("targets")),
    steps=(steps.take_callback, steps.play),
    matched_by=(
        Match("targets.0.identity.user.id"),
        Match("targets.0.identity.phone.id"),
        Match("targets.0.identity.applicationInstance.id"),
        Match("timeout"),
    ),
)
TRANSFER = Operation(
    "transfer",
    permissions=allowed_by(INITIATE),
    route=action("/{id}/transfer"),
    request=Request("action.transfer"),
    allowed_from=frozenset({"established"}),
    rules=(_replaced_call, _group_call_transferee, _pstn_is_e164),
    fallback=Fallback("onPstnWithoutInstance", _pstn_without_application_instance),
    steps=(steps.play, steps.ring_transfer_target),
    matched_by=(
        Match("transferTarget.identity.user.id"),
        Match("transferTarget.identity.phone.id"),
        Match("transferTarget.identity.applicationInstance.id"),
        Match("transferTarget.replacesCallId", presence=True),
    ),
)
CREATE = Operation(
    "create",
    permissions=allowed_by(INITIATE, JOIN_GROUP, JOIN_AS_GUEST),
    route=Route("POST", ""),
    request=Request("microsoft.graph.call"),
    on_call=False,
    rules=(_create_required, _callback_uri, _phones_are_e164("targets"), _app_hosted_blob),
    success=Success(201, body=answers.CALL, location=True),
    steps=(steps.create_call, steps.join_only_a_meeting_that_exists, steps.play),
    matched_by=(
        Match("targets.0.identity.user.id"),
        Match("targets.0.identity.phone.id"),
        Match("targets.0.identity.applicationInstance.id"),
        Match("meetingInfo", presence=True),
    ),
)
GET = Operation("get", route=Route("GET", "/{id}"), success=Success(200, body=answers.CALL))
DELETE = Operation(
    "delete",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=Route("DELETE", "/{id}"),
    # Hang up a call that is set up or being set up; an incoming one is rejected instead.
    allowed_from=ACTIVE | {"redirecting", "terminating"},
    advice={"incoming": "reject an incoming call instead"},
    success=Success(204),
    steps=(steps.Interrupt("the call was deleted"), steps.play),
)
KEEP_ALIVE = Operation(
    "keepAlive",
    route=action("/{id}/keepAlive"),
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    success=Success(200),
    steps=(steps.kept_alive,),
)
ESTABLISHED = frozenset({"established"})
PLAY_PROMPT = Operation(
    "playPrompt",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=action("/{id}/playPrompt"),
    request=Request("action.playPrompt"),
    allowed_from=ESTABLISHED,
    rules=(_service_hosted_media, _some_prompts, _prompts(20)),
    success=RETURNS_OPERATION,
    returns=Returns("playPromptOperation", "running"),
    cancelled_scenario="playPromptCancelled",
    steps=(steps.start_operation, steps.queue_media),
    matched_by=(Match("prompts.0.mediaInfo.uri"),),
)
RECORD_RESPONSE = Operation(
    "recordResponse",
    permissions=allowed_by(ACCESS_MEDIA),
    route=action("/{id}/recordResponse"),
    request=Request("action.recordResponse"),
    allowed_from=ESTABLISHED,
    rules=(_service_hosted_media, _prompts(1), _record_timers, _stop_tones),
    success=RETURNS_OPERATION,
    returns=Returns("recordOperation", "running"),
    cancelled_scenario="recordResponseCancelled",
    # "Stop tones specified to end recording": pressed while it records, it ends at once.
    ends_on_tone=EndsOnTone("stopTones", "recordResponseStopTone"),
    steps=(
        steps.cancel_media_if("bargeInAllowed"),
        steps.start_operation,
        steps.mint_recording,
        steps.queue_media,
    ),
    matched_by=(Match("prompts.0.mediaInfo.uri"), Match("stopTones", presence=True)),
)
SUBSCRIBE_TO_TONE = Operation(
    "subscribeToTone",
    permissions=allowed_by(ACCESS_MEDIA),
    route=action("/{id}/subscribeToTone"),
    request=Request("action.subscribeToTone", may_be_empty=True),
    allowed_from=ESTABLISHED,
    rules=(_service_hosted_media,),
    success=RETURNS_OPERATION,
    returns=Returns("subscribeToToneOperation", "completed"),
    steps=(steps.start_operation, steps.subscribe_to_tones),
)
CANCEL_MEDIA_PROCESSING = Operation(
    "cancelMediaProcessing",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=action("/{id}/cancelMediaProcessing"),
    request=Request("action.cancelMediaProcessing", may_be_empty=True),
    allowed_from=ESTABLISHED,
    success=RETURNS_OPERATION,
    returns=Returns("cancelMediaProcessingOperation", "completed"),
    steps=(steps.cancel_media, steps.start_operation),
)
SEND_DTMF_TONES = Operation(
    "sendDtmfTones",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=action("/{id}/sendDtmfTones", v1_app=True),
    request=Request("action.sendDtmfTones"),
    allowed_from=ESTABLISHED,
    rules=(_some_tones,),
    success=RETURNS_OPERATION,
    returns=Returns("sendDtmfTonesOperation", "running"),
    steps=(steps.start_operation, steps.play_operation),
    matched_by=(Match("tones.0"),),
)
UPDATE_RECORDING_STATUS = Operation(
    "updateRecordingStatus",
    permissions=allowed_by(JOIN_GROUP, ACCESS_MEDIA),
    route=action("/{id}/updateRecordingStatus"),
    request=Request("action.updateRecordingStatus"),
    allowed_from=ESTABLISHED,
    success=RETURNS_OPERATION,
    returns=Returns("updateRecordingStatusOperation", "completed"),
    steps=(steps.start_operation,),
)
CHANGE_SCREEN_SHARING_ROLE = Operation(
    "changeScreenSharingRole",
    permissions=allowed_by(ACCESS_MEDIA),
    route=action("/{id}/changeScreenSharingRole"),
    request=Request("action.changeScreenSharingRole"),
    allowed_from=ESTABLISHED,
    rules=(_group_call("changeScreenSharingRole"), _app_hosted_media),
    success=Success(202),
    # "all participants will receive a roster update"
    steps=(steps.acting(_sharing_role), steps.play_beside),
)
GET_OPERATION = Operation(
    "getOperation",
    route=Route("GET", "/{id}/operations/{opId}", v1_app=True),
    success=Success(200, body=answers.OPERATION),
    names=Call.operation,
)
MUTE = Operation(
    "mute",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=action("/{id}/mute"),
    request=Request("action.mute", may_be_empty=True),
    allowed_from=ESTABLISHED,
    rules=(_group_call("mute"),),
    success=RETURNS_OPERATION,
    returns=Returns("muteParticipantOperation", "completed"),
    steps=(steps.acting(_muting(True)), steps.start_operation, steps.play_operation),
)
UNMUTE = Operation(
    "unmute",
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    route=action("/{id}/unmute"),
    request=Request("action.unmute", may_be_empty=True),
    allowed_from=ESTABLISHED,
    rules=(_group_call("unmute"),),
    success=RETURNS_OPERATION,
    returns=Returns("unmuteParticipantOperation", "completed"),
    steps=(steps.acting(_muting(False)), steps.start_operation, steps.play_operation),
)
PARTICIPANTS = "/{id}/participants"
PARTICIPANT = PARTICIPANTS + "/{participantId}"
LIST_PARTICIPANTS = Operation(
    "listParticipants",
    route=Route("GET", PARTICIPANTS),
    permissions=allowed_by(INITIATE, ACCESS_MEDIA),
    success=Success(200, body=answers.ROSTER),
)
GET_PARTICIPANT = Operation(
    "getParticipant",
    route=Route("GET", PARTICIPANT),
    success=Success(200, body=answers.PARTICIPANT),
    names=Call.participant,
)
INVITE = Operation(
    "invite",
    permissions=allowed_by(INITIATE_GROUP),
    route=action(PARTICIPANTS + "/invite"),
    request=Request("action.participants.invite"),
    allowed_from=ESTABLISHED,
    rules=(_invitees, _phones_are_e164("participants")),
    success=RETURNS_OPERATION,
    returns=Returns("inviteParticipantsOperation", "running"),
    echoes=("participants",),
    steps=(steps.start_operation, steps.play_operation),
    matched_by=(
        Match("participants.0.identity.user.id"),
        Match("participants.0.identity.phone.id"),
        Match("participants.0.identity.applicationInstance.id"),
        Match("participants.0.replacesCallId", presence=True),
    ),
)
MUTE_PARTICIPANT = Operation(
    "muteParticipant",
    route=action(PARTICIPANT + "/mute"),
    request=Request("action.participant.mute", may_be_empty=True),
    allowed_from=ESTABLISHED,
    names=Call.participant,
    rules=(_group_call("Muting a participant"),),
    success=RETURNS_OPERATION,
    returns=Returns("muteParticipantOperation", "completed"),
    steps=(steps.acting(_muting(True)), steps.start_operation, steps.play_operation),
)
START_HOLD_MUSIC = Operation(
    "startHoldMusic",
    permissions=NONE_NEEDED,
    route=action(PARTICIPANT + "/startHoldMusic"),
    request=Request("action.participant.startHoldMusic", may_be_empty=True),
    allowed_from=ESTABLISHED,
    names=Call.participant,
    rules=(_one_on_hold,),
    success=Success(202, body=answers.OPERATION, location=True),
    returns=Returns("startHoldMusicOperation", "running"),
    steps=(steps.acting(_holding(True)), steps.start_operation, steps.play_operation),
)
STOP_HOLD_MUSIC = Operation(
    "stopHoldMusic",
    permissions=NONE_NEEDED,
    route=action(PARTICIPANT + "/stopHoldMusic"),
    request=Request("action.participant.stopHoldMusic", may_be_empty=True),
    allowed_from=ESTABLISHED,
    names=Call.participant,
    success=Success(202, body=answers.OPERATION, location=True),
    returns=Returns("stopHoldMusicOperation", "running"),
    steps=(steps.acting(_holding(False)), steps.start_operation, steps.play_operation),
)
REMOVE_PARTICIPANT = Operation(
    "removeParticipant",
    permissions=allowed_by(JOIN_AS_GUEST, JOIN_GROUP),
    route=Route("DELETE", PARTICIPANT),
    names=Call.participant,
    success=Success(204),
    steps=(steps.acting(_leaving), steps.play_beside),
)
ROUTING_GROUPS = "/{id}/audioRoutingGroups"
ROUTING_GROUP = ROUTING_GROUPS + "/{groupId}"
CREATE_ROUTING_GROUP = Operation(
    "createAudioRoutingGroup",
    permissions=allowed_by(JOIN_GROUP, INITIATE_GROUP),
    route=Route("POST", ROUTING_GROUPS, v1_app=True),
    request=Request("microsoft.graph.audioRoutingGroup"),
    rules=(_new_routing_group, _routing_mode),
    steps=(steps.acting(_keeping_group),),
    success=Success(200, body=answers.ROUTING_GROUP),  # 200, not 201, as the docs show
)
LIST_ROUTING_GROUPS = Operation(
    "listAudioRoutingGroups",
    permissions=allowed_by(JOIN_GROUP, INITIATE_GROUP),
    route=Route("GET", ROUTING_GROUPS, v1_app=True),
    success=Success(200, body=answers.ROUTING_GROUPS),
)
GET_ROUTING_GROUP = Operation(
    "getAudioRoutingGroup",
    permissions=allowed_by(JOIN_GROUP, INITIATE_GROUP),
    route=Route("GET", ROUTING_GROUP, v1_app=True),
    names=Call.routing_group,
    success=Success(200, body=answers.ROUTING_GROUP),
)
UPDATE_ROUTING_GROUP = Operation(
    "updateAudioRoutingGroup",
    permissions=allowed_by(JOIN_GROUP, INITIATE_GROUP),
    route=Route("PATCH", ROUTING_GROUP, v1_app=True),
    request=Request("microsoft.graph.audioRoutingGroup"),
    names=Call.routing_group,
    rules=(_routing_mode,),
    steps=(steps.acting(_keeping_group),),
    success=Success(200, body=answers.ROUTING_GROUP),
)
DELETE_ROUTING_GROUP = Operation(
    "deleteAudioRoutingGroup",
    permissions=allowed_by(JOIN_GROUP, INITIATE_GROUP),
    route=Route("DELETE", ROUTING_GROUP, v1_app=True),
    names=Call.routing_group,
    steps=(steps.acting(_dropping_group),),
    success=Success(204),
)
ADD_LARGE_GALLERY_VIEW = Operation(
    "addLargeGalleryView",
    permissions=allowed_by(JOIN_AS_GUEST, JOIN_GROUP, INITIATE_GROUP),
    route=action("/{id}/addLargeGalleryView", v1_app=True),
    request=Request("action.addLargeGalleryView", may_be_empty=True),
    allowed_from=ESTABLISHED,
    rules=(_group_call("addLargeGalleryView"),),
    success=Success(202, body=answers.OPERATION, location=True),
    returns=Returns("addLargeGalleryViewOperation", "completed"),
    steps=(steps.start_operation,),
)
LIST_CONTENT_SHARING_SESSIONS = Operation(
    "listContentSharingSessions",
    route=Route("GET", "/{id}/contentSharingSessions"),
    success=Success(200, body=answers.SESSIONS),
)
GET_CONTENT_SHARING_SESSION = Operation(
    "getContentSharingSession",
    route=Route("GET", "/{id}/contentSharingSessions/{sessionId}"),
    names=Call.sharing_session,
    success=Success(200, body=answers.SESSION),
)
LOG_DEVICE_QUALITY = Operation(
    "logTeleconferenceDeviceQuality",
    route=action("/logTeleconferenceDeviceQuality"),
    request=Request("action.calls.logTeleconferenceDeviceQuality"),
    on_call=False,
    success=Success(200),
)
# Graph's own: an incoming call nobody answered, rejected or redirected in time.
RING_TIMEOUT = Operation("ringTimeout", allowed_from=INCOMING, steps=(steps.play,))
# Graph's own: a call the bot did not keep alive for 45 minutes (call-keepalive.md) ends;
# what plays for it stops, as on a hang-up. A call the bot is deleting is left to end so.
KEEP_ALIVE_EXPIRED = Operation(
    "keepAliveExpired",
    allowed_from=ACTIVE,
    steps=(steps.Interrupt("the bot did not keep the call alive"), steps.play),
)
# The far side's: the caller (or whoever the bot called) hangs up, with the resultInfo Graph
# sends for it (POST /_mock/calls/{id}/hangup); what plays for the call stops, as on a delete.
HANG_UP = Operation(
    "hangUp",
    request=Request(
        "microsoft.graph.resultInfo", optional=frozenset({"code", "subcode"}), may_be_empty=True
    ),
    allowed_from=ACTIVE | INCOMING | {"terminating"},
    steps=(steps.Interrupt("the call was hung up by the far side"), steps.play),
)
# The call's media path fails (POST /_mock/calls/{id}/mediaFailure): Graph ends the call with
# call-delete's 410/301005; what plays for it stops, as on a hang-up.
MEDIA_FAILURE = Operation(
    "mediaFailure",
    allowed_from=ACTIVE,
    steps=(steps.Interrupt("the call's media failed"), steps.play),
)


def _ending_meeting(context: Context) -> None:
    context.the_call.leave_all_but_the_bot()


# The organiser ends the meeting (POST /_mock/calls/{id}/meetingEnded): everyone but the bot
# leaves. A capture shows only that roster update, and no deleted for the call (comms-samples
# #77): the call stays up until the bot deletes it or stops keeping it alive.
MEETING_ENDED = Operation(
    "meetingEnded",
    allowed_from=ACTIVE,
    rules=(_group_call("Ending a meeting"),),
    steps=(steps.acting(_ending_meeting), steps.play_beside),
)

# What a scenario step's farSide makes happen, by name: the far side's events.
FAR_SIDE = {operation.name: operation for operation in (HANG_UP, MEDIA_FAILURE, MEETING_ENDED)}

OPERATIONS: tuple[Operation, ...] = (
    TRANSFER,
    ANSWER,
    REJECT,
    REDIRECT,
    CREATE,
    GET,
    DELETE,
    KEEP_ALIVE,
    RING_TIMEOUT,
    KEEP_ALIVE_EXPIRED,
    HANG_UP,
    MEDIA_FAILURE,
    MEETING_ENDED,
    PLAY_PROMPT,
    RECORD_RESPONSE,
    SUBSCRIBE_TO_TONE,
    CANCEL_MEDIA_PROCESSING,
    SEND_DTMF_TONES,
    UPDATE_RECORDING_STATUS,
    CHANGE_SCREEN_SHARING_ROLE,
    GET_OPERATION,
    MUTE,
    UNMUTE,
    LIST_PARTICIPANTS,
    GET_PARTICIPANT,
    INVITE,
    MUTE_PARTICIPANT,
    START_HOLD_MUSIC,
    STOP_HOLD_MUSIC,
    REMOVE_PARTICIPANT,
    CREATE_ROUTING_GROUP,
    LIST_ROUTING_GROUPS,
    GET_ROUTING_GROUP,
    UPDATE_ROUTING_GROUP,
    DELETE_ROUTING_GROUP,
    ADD_LARGE_GALLERY_VIEW,
    LIST_CONTENT_SHARING_SESSIONS,
    GET_CONTENT_SHARING_SESSION,
    LOG_DEVICE_QUALITY,
)


# The operations a Graph request can name (a fault's match.operation): those with a route.
ROUTED_OPERATIONS = frozenset(operation.name for operation in OPERATIONS if operation.route)


def scenario_operations() -> list[str]:
    """Every operation a scenario may be for: what operations play, and their fallbacks."""
    names = [op.name for op in OPERATIONS if op.plays]
    names += [op.fallback.scenario for op in OPERATIONS if op.fallback is not None]
    names += [op.cancelled_scenario for op in OPERATIONS if op.cancelled_scenario is not None]
    names += [op.ends_on_tone.scenario for op in OPERATIONS if op.ends_on_tone is not None]
    return names


assert all(state in CALL_STATES for op in OPERATIONS for state in (op.allowed_from or ())), (
    "an operation is allowed from a state calls do not have"
)
