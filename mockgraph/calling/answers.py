"""What a Graph operation's answer shows: one named view per kind of body (the call, an
operation, the roster, ...). A view makes the body from what the operation touched, and names
the Graph type the OpenAPI description gives it; an operation's declaration names its view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.calls import Call, CommsOperation, Participant
from mockgraph.schema.validation import declared


@dataclass(frozen=True)
class Accepted:
    """What an accepted operation answers with: the body Graph's JSON had at the moment it was
    accepted (a scenario's first steps may already have moved things on), the resource it
    names (for ``Location``), and its OData context (what follows ``$metadata#``)."""

    body: dict[str, Any] | None = None
    location: str | None = None
    odata_context: str | None = None


NOTHING = Accepted()


@dataclass(frozen=True)
class Touched:
    """What an accepted operation acted on: its call, the commsOperation it started, what its
    route names besides the call, and the Graph version it was asked in."""

    call: Call
    comms: CommsOperation | None
    named: Any
    version: str

    @property
    def calls(self) -> str:
        """The call's OData path, as @odata.context names it."""
        return f"communications/calls('{self.call.id}')"


@dataclass(frozen=True)
class View:
    """One kind of answer body."""

    name: str
    show: Callable[[Touched], Accepted]
    graph_type: str | None = None  # what the OpenAPI description says it is; None: an object
    doc: str = ""  # what it is, in the reference's words


def _call(touched: Touched) -> Accepted:
    """The call, with only what the version's call type declares: a scenario may have
    notified more."""
    call_type = declared(touched.version, "microsoft.graph.call")
    call = touched.call
    body = {key: value for key, value in call.to_graph().items() if key in call_type}
    return Accepted(body, call.resource_url, "communications/calls/$entity")


def _operation(touched: Touched) -> Accepted:
    """The operation the action started, or (GET) the one the route names."""
    shown = touched.comms or touched.named
    assert isinstance(shown, CommsOperation)
    return Accepted(shown.to_graph(), shown.resource_url)


def _roster(touched: Touched) -> Accepted:
    return Accepted({"value": touched.call.roster()}, None, f"{touched.calls}/participants")


def _participant(touched: Touched) -> Accepted:
    assert isinstance(touched.named, Participant)
    return Accepted(touched.named.to_graph(), None, f"{touched.calls}/participants/$entity")


def _routing_group(touched: Touched) -> Accepted:
    assert isinstance(touched.named, dict)
    return Accepted(dict(touched.named), None, f"{touched.calls}/audioRoutingGroups/$entity")


def _routing_groups(touched: Touched) -> Accepted:
    groups = list(touched.call.routing_groups.values())
    return Accepted({"value": groups}, None, f"{touched.calls}/audioRoutingGroups")


def _sessions(touched: Touched) -> Accepted:
    sessions = list(touched.call.sharing_sessions.values())
    return Accepted({"value": sessions}, None, f"{touched.calls}/contentSharingSessions")


def _session(touched: Touched) -> Accepted:
    assert isinstance(touched.named, dict)
    return Accepted(dict(touched.named), None, f"{touched.calls}/contentSharingSessions/$entity")


CALL = View("call", _call, "microsoft.graph.call", "the call")
OPERATION = View("operation", _operation, "microsoft.graph.commsOperation", "the operation")
ROSTER = View("roster", _roster, doc='`{"value": [participant, …]}`')
PARTICIPANT = View("participant", _participant, "microsoft.graph.participant", "the participant")
ROUTING_GROUP = View(
    "routingGroup", _routing_group, "microsoft.graph.audioRoutingGroup", "the group"
)
ROUTING_GROUPS = View("routingGroups", _routing_groups, doc='`{"value": [group, …]}`')
SESSIONS = View("sessions", _sessions, doc='`{"value": [session, …]}`')
SESSION = View("session", _session, doc="the session")
