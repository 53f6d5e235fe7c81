"""Every Graph call-record operation mockgraph serves, declared once: its path (under
``/v1.0`` and ``/beta``), its permissions, the Graph type it answers with and what it does (a
``CallRecords`` method). The router, the OpenAPI description and the docs' table read these.

The checking order is the calls': authentication, route and method, then in ``perform``: the
query options (400), the record (404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.operations import Form
from mockgraph.callrecords.records import CallRecords
from mockgraph.identity.permissions import CALL_RECORDS_READ, check_permitted
from mockgraph.resources import versioned_forms

RECORD = "/communications/callRecords/{recordId}"

Perform = Callable[[CallRecords, str, Mapping[str, str], str], dict[str, Any]]


@dataclass(frozen=True)
class RecordOperation:
    name: str
    path: str  # below the version
    perform: Perform  # the CallRecords method: record id, query, the $metadata# prefix
    returns: str  # the Graph type of the 200's body (or of each of its ``value``)
    collection: bool = False
    permissions: frozenset[str] = CALL_RECORDS_READ
    method: str = "GET"

    def forms(self) -> tuple[Form, ...]:
        return versioned_forms(self.method, (self.path,))

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        check_permitted(self.name, self.permissions, roles)


RECORD_OPERATIONS = (
    RecordOperation(
        "getCallRecord", RECORD, CallRecords.get, "microsoft.graph.callRecords.callRecord"
    ),
    RecordOperation(
        "listCallRecordSessions",
        f"{RECORD}/sessions",
        CallRecords.sessions,
        "microsoft.graph.callRecords.session",
        collection=True,
    ),
    RecordOperation(
        "getCallRecordOrganizer",
        f"{RECORD}/organizer_v2",
        CallRecords.organizer,
        "microsoft.graph.callRecords.organizer",
    ),
    RecordOperation(
        "listCallRecordParticipants",
        f"{RECORD}/participants_v2",
        CallRecords.participants,
        "microsoft.graph.callRecords.participant",
        collection=True,
    ),
)
