"""A meeting's attendance, as Graph reports it after the meeting (graph-beyond-calls-facts.md
§1.5): one report each time the meeting's call ends, with a record per person of who was
there, in what role, and when they joined and left. Made from the call when it is read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.calls import Call, Participant, main_identity
from mockgraph.clock import iso

REPORTS = uuid.UUID("6d6f636b-6772-4170-8861-7474656e6473")  # the namespace of report ids


@dataclass(frozen=True)
class Interval:
    joined: float
    left: float

    def to_graph(self) -> dict[str, Any]:
        return {
            "joinDateTime": iso(self.joined),
            "leaveDateTime": iso(self.left),
            "durationInSeconds": round(self.left - self.joined),
        }


@dataclass(frozen=True)
class AttendanceReport:
    """Who attended one of the meeting's calls: people, not bots, each once."""

    id: str
    start: float
    end: float
    records: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, call: Call, organizer_id: str) -> AttendanceReport:
        start, end = call.span()
        people: dict[str, list[Participant]] = {}
        for person in call.everyone():
            if not person.is_bot:
                people.setdefault(_person_id(person), []).append(person)
        records = tuple(
            _record(person_id, entries, organizer_id, start, end)
            for person_id, entries in people.items()
        )
        return cls(str(uuid.uuid5(REPORTS, call.id)), start, end, records)

    def to_graph(self, *, with_records: bool) -> dict[str, Any]:
        """The report; its ``attendanceRecords`` are empty unless asked for, as in a list."""
        return {
            "id": self.id,
            "totalParticipantCount": len(self.records),
            "meetingStartDateTime": iso(self.start),
            "meetingEndDateTime": iso(self.end),
            "attendanceRecords": list(self.records) if with_records else [],
        }


def _person_id(person: Participant) -> str:
    return str(main_identity(person.identity).get("id") or person.id)


def _record(
    person_id: str, entries: Iterable[Participant], organizer_id: str, start: float, end: float
) -> dict[str, Any]:
    entries = list(entries)
    intervals = [
        Interval(max(entry.joined, start), max(min(entry.left or end, end), start))
        for entry in entries
    ]
    user = next(iter(entries)).identity.get("user") or {}
    return {
        "id": person_id,
        "identity": {"id": person_id, "displayName": user.get("displayName")},
        "emailAddress": None,
        "role": "Organizer" if person_id == organizer_id else "Attendee",
        "totalAttendanceInSeconds": sum(round(i.left - i.joined) for i in intervals),
        "attendanceIntervals": [interval.to_graph() for interval in intervals],
    }
