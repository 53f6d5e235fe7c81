"""Online meetings as Graph's onlineMeetings API keeps them (graph-beyond-calls-facts.md §1):
standalone meetings an app creates for a user (its organizer), found again by id, by
``externalId`` (createOrGet), by join URL or by join meeting id, changed and deleted.

A meeting has what Graph's examples show of one: a ``joinWebUrl`` of the Teams form (its
thread, ``Tid`` and ``Oid`` in ``context``), the ``chatInfo`` a bot joins with,
``joinMeetingIdSettings`` with a generated join id, and ``participants`` with the organizer.
Time is the injected clock's wall time.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from mockgraph.calling.calls import Call, main_identity
from mockgraph.clock import Clock, iso
from mockgraph.errors import BadRequest, GraphError
from mockgraph.meetings.attendance import AttendanceReport

HOUR = timedelta(hours=1)
# Set by Graph, never by a request (the resource page's read-only list); a body naming them is
# not refused, but they keep Graph's values.
READ_ONLY = frozenset(
    {
        "id",
        "joinWebUrl",
        "joinInformation",
        "creationDateTime",
        "audioConferencing",
        "videoTeleconferenceId",
        "chatInfo",
    }
)
# What a create or an update takes apart from the rest of the body.
CREATED_APART = frozenset({"startDateTime", "endDateTime", "participants", "joinMeetingIdSettings"})
# The two $filter forms of the get page that find a meeting: by its join URL, by its join id.
BY_JOIN_URL = re.compile(r"^\s*joinWebUrl\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$", re.IGNORECASE)
BY_JOIN_ID = re.compile(
    r"^\s*joinMeetingIdSettings/joinMeetingId\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$",
    re.IGNORECASE,
)
FILTER_FORMS = (
    "$filter=JoinWebUrl eq '{joinWebUrl}' and "
    "$filter=joinMeetingIdSettings/joinMeetingId eq '{joinMeetingId}'"
)


class ReportNotFound(GraphError):
    """No attendance report with that id for that meeting."""

    status = 404
    code = "NotFound"


class MeetingNotFound(GraphError):
    """No meeting with that id for that user (Graph: 404 for a meeting id it does not know)."""

    status = 404
    code = "NotFound"


def _moment(value: Any, what: str) -> datetime | None:
    """An Edm.DateTimeOffset as a UTC time that an hour more still fits (400 if not one)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        moment + HOUR  # a default end must fit too
    except (ValueError, OverflowError):
        raise BadRequest(f"'{what}' must be an ISO 8601 date and time, not {value!r}.") from None
    return moment


def _written(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def times(body: Mapping[str, Any], now: float) -> tuple[str, str]:
    """A new meeting's start and end, as createOrGet's page sets them: neither given, now and
    an hour later; a start only, an hour after it; an end with no start, or an end before
    its start, is refused."""
    start = _moment(body.get("startDateTime"), "startDateTime")
    end = _moment(body.get("endDateTime"), "endDateTime")
    if end is not None and start is None:
        raise BadRequest("'endDateTime' needs a 'startDateTime'.")
    start = start or datetime.fromtimestamp(now, UTC)
    end = end or start + HOUR
    if end < start:
        raise BadRequest("'endDateTime' must not be before 'startDateTime'.")
    return _written(start), _written(end)


@dataclass
class Meeting:
    """One meeting: its organizer, its externalId (if createOrGet made it), Graph's JSON, and
    the calls into it that ended (one attendance report each)."""

    organizer_id: str
    external_id: str | None
    shown: dict[str, Any]
    ended_calls: list[Call] = field(default_factory=list)
    live_calls: dict[str, Call] = field(default_factory=dict)  # calls into it, not over
    present: dict[str, dict[str, Any]] = field(default_factory=dict)  # who is in it, by id

    def to_json(self) -> dict[str, Any]:
        """The control plane's view: the meeting, who is in it, and the calls into it."""
        return {
            "id": self.id,
            "organizerId": self.organizer_id,
            "subject": self.shown.get("subject"),
            "joinWebUrl": self.shown["joinWebUrl"],
            "threadId": self.thread_id,
            "people": [{"id": key, "identity": value} for key, value in self.present.items()],
            "liveCalls": list(self.live_calls),
            "endedCalls": [call.id for call in self.ended_calls],
        }

    @property
    def thread_id(self) -> str:
        return str(self.shown["chatInfo"]["threadId"])

    def reports(self) -> list[AttendanceReport]:
        return [AttendanceReport.of(call, self.organizer_id) for call in self.ended_calls]

    @property
    def id(self) -> str:
        return str(self.shown["id"])

    def attended_by(self, user_id: str) -> bool:
        """Whether ``user_id`` organises it or is invited (the get page: either may read it)."""
        if user_id == self.organizer_id:
            return True
        attendees = (self.shown.get("participants") or {}).get("attendees") or []
        return any(
            isinstance(a, Mapping)
            and ((a.get("identity") or {}).get("user") or {}).get("id") == user_id
            for a in attendees
        )

    def matches(self, field: str, value: str) -> bool:
        if field == "joinWebUrl":
            # The page asks for the URL encoded in the filter; one encoding more or less,
            # it names the same meeting.
            return _decoded(value) == _decoded(str(self.shown["joinWebUrl"]))
        return value == str(self.shown["joinMeetingIdSettings"]["joinMeetingId"])


class OnlineMeetings:
    """Every online meeting, by id. A ``CallFollower`` of the call registry: a call whose
    ``chatInfo`` names a meeting's thread is that meeting's, and its end files a report."""

    def __init__(self, clock: Clock, tenant_id: str) -> None:
        self._clock = clock
        self._tenant_id = tenant_id
        self._meetings: dict[str, Meeting] = {}
        self._by_thread: dict[str, Meeting] = {}

    def clear(self) -> None:
        self._meetings.clear()
        self._by_thread.clear()

    # --- what the call registry tells it (a CallFollower) ------------------------------------

    def call_seeded(self, call: Call) -> None:
        """A call into a meeting finds there whoever is in it already."""
        meeting = self._meeting_of(call)
        if meeting is not None:
            meeting.live_calls[call.id] = call
            for identity in meeting.present.values():
                call.admit(identity)

    def call_ended(self, call: Call) -> None:
        meeting = self._meeting_of(call)
        if meeting is not None:
            meeting.live_calls.pop(call.id, None)
            meeting.ended_calls.append(call)

    def names_no_meeting(self, call: Call) -> bool:
        """Whether the call joins by a ``joinMeetingIdMeetingInfo`` whose join id no meeting
        has. mockgraph makes every meeting's join id, so such a meeting does not exist. (A
        ``chatInfo`` thread it does not know may be a meeting a test never made: that call
        joins, as before there were meetings.)"""
        info = call.properties.get("meetingInfo")
        if not isinstance(info, Mapping) or "joinMeetingId" not in info:
            return False
        return self._meeting_of(call) is None

    def join_url_of(self, call: Call) -> str | None:
        """The join link of the meeting a call joined, if it joined one mockgraph knows."""
        meeting = self._meeting_of(call)
        return str(meeting.shown["joinWebUrl"]) if meeting is not None else None

    def _meeting_of(self, call: Call) -> Meeting | None:
        """The meeting a call joined: by its ``chatInfo`` thread, or by the join id of a
        ``joinMeetingIdMeetingInfo`` (that form needs no chatInfo). Asked at every call's
        start and end: with no meeting, it looks at nothing."""
        if not self._meetings:
            return None
        chat = call.properties.get("chatInfo")
        thread = chat.get("threadId") if isinstance(chat, Mapping) else None
        if isinstance(thread, str) and thread in self._by_thread:
            return self._by_thread[thread]
        info = call.properties.get("meetingInfo")
        join_id = info.get("joinMeetingId") if isinstance(info, Mapping) else None
        if join_id is None:
            return None
        return next(
            (m for m in self._meetings.values() if m.matches("joinMeetingId", str(join_id))),
            None,
        )

    def calls_forgotten(self, call_ids: list[str]) -> None:
        pass  # a report outlives its call, as Graph's does

    def calls_cleared(self) -> None:
        for meeting in self._meetings.values():
            meeting.ended_calls.clear()
            meeting.live_calls.clear()

    # --- people in a meeting, as a test moves them -----------------------------------------

    def known(self) -> list[dict[str, Any]]:
        return [meeting.to_json() for meeting in self._meetings.values()]

    def _any(self, meeting_id: str) -> Meeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise MeetingNotFound(f"Online meeting '{meeting_id}' was not found.")
        return meeting

    def join(self, meeting_id: str, identity: Mapping[str, Any]) -> tuple[str, list[Call]]:
        """Someone (an identitySet) joins the meeting, and so every call into it; returns
        their id and the calls whose roster changed."""
        meeting = self._any(meeting_id)
        person_id = _identity_id(identity)
        meeting.present[person_id] = dict(identity)
        calls = list(meeting.live_calls.values())
        for call in calls:
            call.admit(identity)
        return person_id, calls

    def leave(self, meeting_id: str, person_id: str) -> list[Call]:
        """Someone leaves the meeting, and so every call into it (404 if not in it); returns
        the calls whose roster changed."""
        meeting = self._any(meeting_id)
        if meeting.present.pop(person_id, None) is None:
            raise MeetingNotFound(f"'{person_id}' is not in online meeting '{meeting_id}'.")
        calls = []
        for call in meeting.live_calls.values():
            for participant in call.everyone():
                if participant.left is None and _identity_id(participant.identity) == person_id:
                    call.leave(participant.id)
                    calls.append(call)
        return calls

    def _new(self, user_id: str, body: Mapping[str, Any], external_id: str | None) -> Meeting:
        now = self._clock.wall()
        start, end = times(body, now)
        guid = str(uuid.UUID(int=self._clock.random.getrandbits(128)))
        thread = f"19:meeting_{base64.b64encode(guid.encode()).decode().rstrip('=')}@thread.v2"
        meeting_id = base64.urlsafe_b64encode(f"1*{user_id}*0**{thread}".encode()).decode()
        context = _teams_quote(f'{{"Tid":"{self._tenant_id}","Oid":"{user_id}"}}')
        organizer = {
            "identity": {
                "user": {
                    "id": user_id,
                    "displayName": None,
                    "tenantId": self._tenant_id,
                    "identityProvider": "AAD",
                }
            },
            "upn": None,
            "role": "presenter",
        }
        participants = body.get("participants") or {}
        # The join id and its passcode are the service's (create's page: no custom passcode);
        # the body may only ask for a passcode.
        asked_settings = body.get("joinMeetingIdSettings") or {}
        passcode_required = bool(asked_settings.get("isPasscodeRequired"))
        shown: dict[str, Any] = {
            "id": meeting_id.rstrip("="),
            "creationDateTime": iso(now),
            "startDateTime": start,
            "endDateTime": end,
            "joinWebUrl": (
                f"https://teams.microsoft.com/l/meetup-join/{_teams_quote(thread)}/0"
                f"?context={context}"
            ),
            "subject": None,
            "externalId": external_id,
            "isBroadcast": False,
            "allowedPresenters": "everyone",
            "allowMeetingChat": "enabled",
            "allowAttendeeToEnableCamera": True,
            "allowAttendeeToEnableMic": True,
            "isEntryExitAnnounced": True,
            "recordAutomatically": False,
            "videoTeleconferenceId": None,
            "audioConferencing": None,
            "chatInfo": {"threadId": thread, "messageId": "0", "replyChainMessageId": None},
            "joinMeetingIdSettings": {
                "isPasscodeRequired": passcode_required,
                "joinMeetingId": str(self._clock.random.randrange(10**11, 10**12)),
                "passcode": self._passcode() if passcode_required else None,
            },
            **_writable(body, exclude=CREATED_APART),
            "participants": {
                "organizer": organizer,
                "attendees": list(participants.get("attendees") or []),
            },
        }
        meeting = Meeting(user_id, external_id, shown)
        self._meetings[meeting.id] = meeting
        self._by_thread[meeting.thread_id] = meeting
        return meeting

    def _passcode(self) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        return "".join(self._clock.random.choice(letters) for _ in range(6))

    def _meeting(self, user_id: str, meeting_id: str) -> Meeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None or not meeting.attended_by(user_id):
            raise MeetingNotFound(
                f"Online meeting '{meeting_id}' was not found for user '{user_id}' (its "
                "organizer or an attendee)."
            )
        return meeting

    # --- the operations ------------------------------------------------------------------

    def create(self, asked: Asked) -> Created:
        """A new meeting that `userId` organises (`201`); `startDateTime` and `endDateTime`
        default to now and an hour later. Graph's read-only properties keep its values."""
        external_id = asked.body.get("externalId")
        return Created(self._new(asked.user_id, asked.body, external_id).shown)

    def create_or_get(self, asked: Asked) -> Created:
        """The meeting `userId` organises with this `externalId`: `200` with it if there is
        one, else a new one (`201`), as `create` makes it."""
        external_id = str(asked.body["externalId"])
        for meeting in self._meetings.values():
            if (meeting.organizer_id, meeting.external_id) == (asked.user_id, external_id):
                return Created(meeting.shown, new=False)
        return Created(self._new(asked.user_id, asked.body, external_id).shown)

    def get(self, asked: Asked) -> dict[str, Any]:
        """The meeting, for its organizer or an attendee; `404` for any other."""
        return self._meeting(asked.user_id, asked.meeting_id).shown

    def find(self, asked: Asked) -> list[dict[str, Any]]:
        """The meetings that `userId` organises or attends with that join URL
        (`$filter=JoinWebUrl eq '…'`) or join meeting id
        (`$filter=joinMeetingIdSettings/joinMeetingId eq '…'`); any other query is `400`."""
        text = asked.query.get("$filter")
        by_url = BY_JOIN_URL.match(text or "")
        by_id = BY_JOIN_ID.match(text or "")
        found = by_url or by_id
        if found is None:
            given = f"$filter={text}" if text else "no $filter"
            raise BadRequest(
                f"mockgraph lists a user's online meetings only by {FILTER_FORMS}; "
                f"the request had {given}."
            )
        field = "joinWebUrl" if by_url else "joinMeetingId"
        value = found.group("value").replace("''", "'")
        return [
            meeting.shown
            for meeting in self._meetings.values()
            if meeting.attended_by(asked.user_id) and meeting.matches(field, value)
        ]

    def update(self, asked: Asked) -> dict[str, Any]:
        """Changes the properties given. Start and end change together or not at all; the
        organizer and `joinMeetingIdSettings` never change; `participants.attendees` is
        replaced whole."""
        body = asked.body
        meeting = self._meeting(asked.user_id, asked.meeting_id)
        if ("startDateTime" in body) != ("endDateTime" in body):
            raise BadRequest("Give both 'startDateTime' and 'endDateTime' to change either.")
        if "joinMeetingIdSettings" in body:
            raise BadRequest("'joinMeetingIdSettings' cannot change once the meeting exists.")
        participants = body.get("participants") or {}
        if participants.get("organizer") is not None:
            raise BadRequest("A meeting's organizer cannot change.")
        changes = _writable(body, exclude={*CREATED_APART, "externalId"})
        if "startDateTime" in body:
            start = _moment(body["startDateTime"], "startDateTime")
            end = _moment(body["endDateTime"], "endDateTime")
            if start is None or end is None or end < start:
                raise BadRequest("'endDateTime' must not be before 'startDateTime'.")
            changes.update(startDateTime=_written(start), endDateTime=_written(end))
        if "attendees" in participants:
            meeting.shown["participants"]["attendees"] = list(participants["attendees"] or [])
        meeting.shown.update(changes)
        return meeting.shown

    def delete(self, asked: Asked) -> None:
        """The meeting is gone (`204`); its join URL finds nothing after."""
        meeting = self._meetings.pop(self._meeting(asked.user_id, asked.meeting_id).id)
        del self._by_thread[meeting.thread_id]

    def attendance_reports(self, asked: Asked) -> list[dict[str, Any]]:
        """A report for each time the meeting's call ended (a call that joined with its
        `chatInfo`), oldest first; each with its `attendanceRecords` empty, as the page
        shows them in a list."""
        meeting = self._meeting(asked.user_id, asked.meeting_id)
        return [report.to_graph(with_records=False) for report in meeting.reports()]

    def attendance_report(self, asked: Asked) -> dict[str, Any]:
        """One report; `$expand=attendanceRecords` includes who attended."""
        expand = asked.query.get("$expand", "")
        wanted = any(item.strip().lower() == "attendancerecords" for item in expand.split(","))
        return self._report(asked).to_graph(with_records=wanted)

    def attendance_records(self, asked: Asked) -> list[dict[str, Any]]:
        """Each person (not the bot) who was in the call: their role (`Organizer` or
        `Attendee`), each time they joined and left, and their total in seconds."""
        return list(self._report(asked).records)

    def _report(self, asked: Asked) -> AttendanceReport:
        meeting = self._meeting(asked.user_id, asked.meeting_id)
        for report in meeting.reports():
            if report.id == asked.report_id:
                return report
        raise ReportNotFound(
            f"Attendance report '{asked.report_id}' was not found for meeting '{asked.meeting_id}'."
        )


@dataclass(frozen=True)
class Asked:
    """What a request asks of the meetings: the user in its path (the organizer, or an
    attendee reading), the meeting it names (or ""), its body and its query."""

    user_id: str
    meeting_id: str = ""
    body: Mapping[str, Any] = field(default_factory=dict)
    report_id: str = ""
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Created:
    """A meeting a create answered with: ``new`` ones are ``201``, a found one ``200``."""

    shown: dict[str, Any]
    new: bool = True


def _identity_id(identity: Mapping[str, Any]) -> str:
    """The id of the identity an identitySet is about (400 if it names none)."""
    found = main_identity(identity).get("id")
    if not found:
        raise BadRequest('The identity must name an id (e.g. {"user": {"id": "…"}}).')
    return str(found)


def _decoded(text: str) -> str:
    """``text`` with its percent-encoding undone, however many times it was applied."""
    while (once := unquote(text)) != text:
        text = once
    return text


def _teams_quote(text: str) -> str:
    """Percent-encoded as Teams writes its join links: every reserved character, in lower
    case (``19%3ameeting_…%40thread.v2``)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe=""))


def _writable(body: Mapping[str, Any], exclude: AbstractSet[str]) -> dict[str, Any]:
    return {
        key: value
        for key, value in body.items()
        if key not in READ_ONLY and key not in exclude and "@" not in key
    }
