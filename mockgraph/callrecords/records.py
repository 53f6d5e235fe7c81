"""Call records as Graph's callRecords API keeps them (graph-beyond-calls-facts.md §2).

When a call ends, its record is made from what the call did: who was in it and when, its
modalities, whether it ever connected. The record's id is the call's ``callChainId``; calls of
one chain make one record, and a call of the chain that ends after the record was filed
updates it (``version`` grows, as Graph's does for late signals). A record becomes readable
``delay`` seconds after its call ended, scaled like a scenario pause (time scale 0: at once);
until then Graph answers 404, as it does before its record exists. Time is the injected
clock's, read when a record is read: nothing runs on a timer.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockgraph.calling.calls import Call, Participant, main_identity
from mockgraph.clock import Clock, Timer, iso
from mockgraph.errors import BadRequest, GraphError

NS = "#microsoft.graph.callRecords"
RECORD_TYPE = "microsoft.graph.callRecords.callRecord"
SESSION_TYPE = "microsoft.graph.callRecords.session"
# The callRecords modality enum (v1.0 CSDL): what of a call's requestedModalities a record keeps.
MODALITIES = ("audio", "video", "videoBasedScreenSharing", "data", "screenSharing")
# What $select may name (the CSDL's properties; organizer and participants are deprecated and
# stopped returning data on 2026-06-30, so they read null).
RECORD_PROPERTIES = frozenset(
    {
        "id",
        "version",
        "type",
        "modalities",
        "lastModifiedDateTime",
        "startDateTime",
        "endDateTime",
        "joinWebUrl",
        "organizer",
        "participants",
    }
)
SESSION_PROPERTIES = frozenset(
    {
        "id",
        "modalities",
        "startDateTime",
        "endDateTime",
        "isTest",
        "caller",
        "callee",
        "failureInfo",
    }
)
# $expand on a record: what may be expanded, and what sessions may expand in turn.
RECORD_EXPANSIONS = ("sessions", "participants_v2", "organizer_v2")
NESTED_EXPAND = re.compile(r"^(\w+)\(\$expand=(\w+)\)$", re.IGNORECASE)
EXPAND_FORMS = "sessions, sessions($expand=segments), participants_v2 and organizer_v2"
SESSIONS = uuid.UUID("6d6f636b-6772-4170-8873-657373696f6e")  # the namespace of session ids
# The conference server a group call's people connect to (callRecords serviceRole).
CONFERENCE = "skypeForBusinessAudioVideoMcu"


class CallRecordNotFound(GraphError):
    """No record with that id: no such call chain, its call not over, or its record not
    yet filed (Graph: 404 before the record exists and after its 30 days)."""

    status = 404
    code = "NotFound"


def _unknown_property(name: str, graph_type: str, forms: str) -> BadRequest:
    return BadRequest(
        f"Parsing OData Select and Expand failed: Could not find a property named '{name}' "
        f"on type '{graph_type}'. mockgraph {forms}."
    )


@dataclass(frozen=True)
class Query:
    """A read's ``$select`` and ``$expand``, checked against what the type has."""

    select: frozenset[str] | None = None  # None: the default properties
    expand: frozenset[str] = frozenset()
    segments: bool = False  # sessions($expand=segments), or a sessions read's $expand=segments

    @classmethod
    def of_record(cls, query: Mapping[str, str]) -> Query:
        expand: set[str] = set()
        segments = False
        for item in _items(query.get("$expand")):
            nested = NESTED_EXPAND.match(item)
            name = nested.group(1) if nested else item
            known = next((e for e in RECORD_EXPANSIONS if e.lower() == name.lower()), None)
            if known is None:
                raise _unknown_property(name, RECORD_TYPE, f"expands {EXPAND_FORMS}")
            if nested:
                if known != "sessions" or nested.group(2).lower() != "segments":
                    raise _unknown_property(
                        nested.group(2), SESSION_TYPE, f"expands {EXPAND_FORMS}"
                    )
                segments = True
            expand.add(known)
        select = _select(query.get("$select"), RECORD_PROPERTIES, RECORD_TYPE)
        return cls(select, frozenset(expand), segments)

    @classmethod
    def of_sessions(cls, query: Mapping[str, str]) -> Query:
        segments = False
        for item in _items(query.get("$expand")):
            if item.lower() != "segments":
                raise _unknown_property(item, SESSION_TYPE, "expands segments")
            segments = True
        return cls(
            _select(query.get("$select"), SESSION_PROPERTIES, SESSION_TYPE), segments=segments
        )


def _items(text: str | None) -> list[str]:
    """A comma-separated OData list, commas inside parentheses kept."""
    if not text:
        return []
    items, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def _select(text: str | None, known: frozenset[str], graph_type: str) -> frozenset[str] | None:
    names = _items(text)
    if not names:
        return None
    by_lower = {name.lower(): name for name in known}
    chosen = set()
    for name in names:
        if name.lower() not in by_lower:
            raise _unknown_property(name, graph_type, f"selects {', '.join(sorted(known))}")
        chosen.add(by_lower[name.lower()])
    return frozenset(chosen)


def _selected(shown: dict[str, Any], select: frozenset[str] | None) -> dict[str, Any]:
    if select is None:
        return shown
    return {k: v for k, v in shown.items() if k in select or k == "id" or k.startswith("@")}


# --- what a call leaves behind ----------------------------------------------------------------


def _plain_one(identity: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in identity.items() if k in ("id", "displayName", "tenantId")}


def _plain(identity: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """An identitySet as records show it: each identity's id, name and tenant, untyped."""
    return {
        kind: _plain_one(value)
        for kind, value in identity.items()
        if isinstance(value, Mapping) and "@" not in kind
    }


def _main(identity: Mapping[str, Any]) -> dict[str, Any]:
    return _plain_one(main_identity(identity))


def _user_agent(participant: Participant) -> dict[str, Any]:
    if participant.is_bot:
        return {"@odata.type": f"{NS}.serviceUserAgent", "role": "customBot"}
    if participant.is_teams_client:
        return {
            "@odata.type": f"{NS}.clientUserAgent",
            "platform": "windows",
            "productFamily": "teams",
        }
    return {"@odata.type": f"{NS}.serviceUserAgent", "role": "gateway"}  # a phone, through PSTN


def _endpoint(participant: Participant) -> dict[str, Any]:
    main = _main(participant.identity)
    return {
        "@odata.type": f"{NS}.participantEndpoint",
        "identity": _plain(participant.identity),
        "associatedIdentity": {"id": main.get("id"), "displayName": main.get("displayName")},
        "userAgent": _user_agent(participant),
    }


CONFERENCE_ENDPOINT = {
    "@odata.type": f"{NS}.serviceEndpoint",
    "userAgent": {"@odata.type": f"{NS}.serviceUserAgent", "role": CONFERENCE},
}


@dataclass(frozen=True)
class Session:
    """A leg of a call: who called whom (a group call: each person to the conference), when,
    and whether it failed."""

    id: str
    caller: Mapping[str, Any]
    callee: Mapping[str, Any]
    start: float
    end: float
    modalities: tuple[str, ...]
    failure: Mapping[str, Any] | None

    def to_graph(self, query: Query) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "modalities": list(self.modalities),
            "startDateTime": iso(self.start),
            "endDateTime": iso(self.end),
            "isTest": False,
            "caller": self.caller,
            "callee": self.callee,
            "failureInfo": self.failure,
        }
        shown = _selected(shown, query.select)
        if query.segments:
            shown["segments"] = [self._segment()]
        return shown

    def _segment(self) -> dict[str, Any]:
        labels = {"audio": "main-audio", "video": "main-video"}
        return {
            "id": self.id,
            "startDateTime": iso(self.start),
            "endDateTime": iso(self.end),
            "caller": self.caller,
            "callee": self.callee,
            "failureInfo": self.failure,
            "media": [
                {
                    "label": labels[modality],
                    "streams": [
                        {"streamId": f"{self.id}-{n}", "streamDirection": direction}
                        for n, direction in enumerate(("callerToCallee", "calleeToCaller"))
                    ],
                }
                for modality in self.modalities
                if modality in labels
            ],
        }


@dataclass(frozen=True)
class CallPart:
    """What one ended call gives its chain's record."""

    group: bool
    start: float  # when the first person joined (it connected), or when it began if it never did
    end: float
    modalities: tuple[str, ...]
    organizer: Mapping[str, Any]  # an identitySet
    people: tuple[Mapping[str, Any], ...]  # identitySets, each once
    sessions: tuple[Session, ...]

    @classmethod
    def of(cls, call: Call) -> CallPart:
        start, end = call.span()
        connected = call.reached("established")
        requested = call.properties.get("requestedModalities") or ["audio"]
        modalities = tuple(m for m in MODALITIES if m in requested) or ("audio",)
        everyone = call.everyone()
        failure = None
        if not connected:
            result = call.properties.get("resultInfo") or {}
            reason = result.get("message") if isinstance(result, Mapping) else None
            failure = {"stage": "callSetup", "reason": reason or "the call never connected"}
        if call.is_group_call:
            sessions = tuple(
                Session(
                    _session_id(call, n),
                    _endpoint(person),
                    CONFERENCE_ENDPOINT,
                    max(person.joined, start),
                    min(person.left or end, end),
                    modalities,
                    failure,
                )
                for n, person in enumerate(everyone)
            )
        else:
            caller, callee = _two_ends(call, everyone)
            session = Session(_session_id(call, 0), caller, callee, start, end, modalities, failure)
            sessions = (session,)
        people: dict[str, Mapping[str, Any]] = {}
        for person in everyone:
            people.setdefault(str(_main(person.identity).get("id")), _plain(person.identity))
        return cls(
            call.is_group_call,
            start,
            end,
            modalities,
            _organizer(call, everyone),
            tuple(people.values()),
            sessions,
        )


def _session_id(call: Call, n: int) -> str:
    # A GUID, as Graph's, that is the same at every read: the record is made when it is read.
    return str(uuid.uuid5(SESSIONS, f"{call.id}/{n}"))


def _identity_of(info: Any) -> Mapping[str, Any] | None:
    identity = info.get("identity") if isinstance(info, Mapping) else None
    return identity if isinstance(identity, Mapping) and identity else None


def _two_ends(call: Call, everyone: list[Participant]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A peer-to-peer call's caller and callee: its source calls its first target."""
    endpoints = [_endpoint(person) for person in everyone]
    source = _identity_of(call.properties.get("source"))
    targets = call.properties.get("targets") or []
    target = _identity_of(targets[0]) if targets else None

    def find(identity: Mapping[str, Any] | None) -> dict[str, Any] | None:
        wanted = _main(identity).get("id") if identity else None
        return next((e for e in endpoints if e["associatedIdentity"]["id"] == wanted), None)

    caller = find(source) or (endpoints[0] if endpoints else {})
    callee = find(target) or next((e for e in endpoints if e is not caller), caller)
    return caller, callee


def _organizer(call: Call, everyone: list[Participant]) -> Mapping[str, Any]:
    """Who organised it: a meeting's organizer, else whoever placed the call, else the bot."""
    meeting = call.properties.get("meetingInfo")
    organizer = meeting.get("organizer") if isinstance(meeting, Mapping) else None
    for identity in (organizer, _identity_of(call.properties.get("source"))):
        if isinstance(identity, Mapping) and _plain(identity):
            return _plain(identity)
    return _plain(everyone[0].identity) if everyone else {}


@dataclass
class CallRecord:
    """One call chain's record: its ended calls, each made into its part of the record when
    the record is first read (a call's end costs the request path nothing more)."""

    id: str
    calls: list[Call] = field(default_factory=list)
    filed: float = 0.0  # time.time() of its last change (lastModifiedDateTime)
    readable_at: float = 0.0  # the clock's monotonic seconds
    join_web_url: str | None = None  # the meeting's, for a call into one mockgraph knows
    _parts: list[CallPart] = field(default_factory=list)

    def add(self, call: Call, filed: float, readable_at: float) -> None:
        self.calls.append(call)
        self.filed = filed
        self.readable_at = readable_at

    @property
    def version(self) -> int:
        return len(self.calls)  # 1, and one more each time a later call updates it

    @property
    def parts(self) -> list[CallPart]:
        for call in self.calls[len(self._parts) :]:
            self._parts.append(CallPart.of(call))
        return self._parts

    @property
    def sessions(self) -> list[Session]:
        return [session for part in self.parts for session in part.sessions]

    def people(self) -> list[Mapping[str, Any]]:
        seen: dict[str, Mapping[str, Any]] = {}
        for part in self.parts:
            for person in part.people:
                seen.setdefault(str(_main(person).get("id")), person)
        return list(seen.values())

    def to_graph(self, query: Query, metadata: str) -> dict[str, Any]:
        """The record as Graph shows it; ``metadata``: ``{origin}/{version}/$metadata#``."""
        here = _here(metadata, self.id)
        shown: dict[str, Any] = {
            "@odata.context": metadata + _record_context(query),
            "id": self.id,
            "version": self.version,
            "type": "groupCall" if any(p.group for p in self.parts) else "peerToPeer",
            "modalities": [m for m in MODALITIES if any(m in p.modalities for p in self.parts)],
            "lastModifiedDateTime": iso(self.filed),
            "startDateTime": iso(min(p.start for p in self.parts)),
            "endDateTime": iso(max(p.end for p in self.parts)),
            "joinWebUrl": self.join_web_url,
            "organizer": None,
            "participants": None,
        }
        if query.select is None:
            del shown["organizer"], shown["participants"]  # deprecated: not in the default set
        shown = _selected(shown, query.select)
        shown["organizer_v2@odata.context"] = f"{here}/organizer_v2/$entity"
        shown["organizer_v2"] = self.organizer_v2()
        shown["participants_v2@odata.context"] = f"{here}/participants_v2/$entity"
        if "participants_v2" in query.expand:
            shown["participants_v2"] = self.participants_v2()
        if "sessions" in query.expand:
            shown["sessions"] = [session.to_graph(query) for session in self.sessions]
        return shown

    def organizer_v2(self) -> dict[str, Any]:
        organizer = self.parts[0].organizer
        return {"id": _main(organizer).get("id"), "identity": organizer}

    def participants_v2(self) -> list[dict[str, Any]]:
        return [{"id": _main(person).get("id"), "identity": person} for person in self.people()]


def _here(metadata: str, record_id: str) -> str:
    return f"{metadata}communications/callRecords('{record_id}')"


def _record_context(query: Query) -> str:
    expanded = []
    if "sessions" in query.expand:
        expanded.append("sessions(segments())" if query.segments else "sessions()")
    if "participants_v2" in query.expand:
        expanded.append("participants_v2()")
    inner = f"({','.join(expanded)})" if expanded else ""
    return f"communications/callRecords{inner}/$entity"


class RecordWatcher(Protocol):
    """Told when a record is filed (readable): the subscriptions to call records."""

    @property
    def watching_records(self) -> bool: ...

    def record_filed(self, record_id: str, version: int) -> None: ...


class CallRecords:
    """Every call chain's record (a ``CallFollower`` of the call registry): made when a call
    ends, readable ``delay`` seconds later (``pause`` scales them: the time scale's say). At
    most ``limit`` records are kept, the oldest let go first. A ``watcher`` is told of each
    filing when it is watching (a timer per ended call only then)."""

    def __init__(
        self,
        clock: Clock,
        *,
        delay: float,
        pause: Callable[[float], float],
        limit: int,
        join_url: Callable[[Call], str | None] = lambda call: None,
    ) -> None:
        self._clock = clock
        self.delay = delay
        self._pause = pause
        self._limit = limit
        self._join_url = join_url  # the meetings': the join link of a call's meeting
        self._records: dict[str, CallRecord] = {}
        self._watcher: RecordWatcher | None = None
        self._timers: set[Timer] = set()

    def watch(self, watcher: RecordWatcher) -> None:
        self._watcher = watcher

    # --- what the call registry tells it (a CallFollower) ------------------------------------

    def call_seeded(self, call: Call) -> None:
        pass  # a record begins when its call ends

    def call_ended(self, call: Call) -> None:
        chain = str(call.properties.get("callChainId") or call.id)
        record = self._records.pop(chain, None) or CallRecord(chain)
        self._records[chain] = record  # the newest last: the oldest go first
        record.add(
            call,
            filed=time.time(),
            readable_at=self._clock.monotonic() + self._pause(self.delay),
        )
        record.join_web_url = record.join_web_url or self._join_url(call)
        while len(self._records) > self._limit:
            del self._records[next(iter(self._records))]
        if self._watcher is not None and self._watcher.watching_records:
            self._tell_when_filed(self._watcher, chain, record.version)

    def _tell_when_filed(self, watcher: RecordWatcher, record_id: str, version: int) -> None:
        def filed() -> None:
            self._timers.discard(timer)
            watcher.record_filed(record_id, version)

        timer = self._clock.call_later(self._pause(self.delay), filed)
        self._timers.add(timer)

    def calls_forgotten(self, call_ids: list[str]) -> None:
        pass  # a record outlives its calls, as Graph's does

    def calls_cleared(self) -> None:
        self._records.clear()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    # --- reading them ----------------------------------------------------------------------

    def _readable(self, record_id: str) -> CallRecord:
        record = self._records.get(record_id)
        if record is None or record.readable_at > self._clock.monotonic():
            raise CallRecordNotFound(
                f"Call record '{record_id}' was not found: a record's id is its call's "
                "callChainId, and it is filed only after the call ends "
                f"({self.delay:g} s later, scaled by the time scale)."
            )
        return record

    def get(self, record_id: str, query: Mapping[str, str], metadata: str) -> dict[str, Any]:
        """The record: `$select`, and `$expand` of sessions (and their segments),
        participants_v2 and organizer_v2; 404 until its call has ended and its delay passed."""
        return self._readable(record_id).to_graph(Query.of_record(query), metadata)

    def sessions(self, record_id: str, query: Mapping[str, str], metadata: str) -> dict[str, Any]:
        """The record's sessions, `$expand=segments` and `$select` as on the record."""
        checked = Query.of_sessions(query)
        found = self._readable(record_id)
        return {
            "@odata.context": f"{_here(metadata, record_id)}/sessions",
            "value": [session.to_graph(checked) for session in found.sessions],
        }

    def organizer(self, record_id: str, query: Mapping[str, str], metadata: str) -> dict[str, Any]:
        """Who organised the call: a meeting's organizer, else who placed it."""
        found = self._readable(record_id)
        return {
            "@odata.context": f"{_here(metadata, record_id)}/organizer_v2/$entity",
            **found.organizer_v2(),
        }

    def participants(
        self, record_id: str, query: Mapping[str, str], metadata: str
    ) -> dict[str, Any]:
        """Everyone who was in the record's calls, each once."""
        found = self._readable(record_id)
        return {
            "@odata.context": f"{_here(metadata, record_id)}/participants_v2",
            "value": found.participants_v2(),
        }

    def known(self, metadata: str) -> list[dict[str, Any]]:
        """The control plane's view: every record, readable yet or not, fully expanded."""
        everything = Query(expand=frozenset(RECORD_EXPANSIONS), segments=True)
        now = self._clock.monotonic()
        return [
            {
                "id": record.id,
                "callIds": [call.id for call in record.calls],
                "readable": record.readable_at <= now,
                "readableInSeconds": max(0.0, record.readable_at - now),
                "record": record.to_graph(everything, metadata),
            }
            for record in self._records.values()
        ]
