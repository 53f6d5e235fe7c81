"""Every Graph online-meeting operation mockgraph serves, declared once: its path (under
``/v1.0`` and ``/beta``; an action also by its qualified name), the Graph type its body is
checked against, its permissions, its status and what it does (an ``OnlineMeetings`` method).
The router, the OpenAPI description and the docs' table read these.

The checking order is the calls': authentication, route and method, content type and size,
then in ``perform_checked``: the schema (400), then the operation (the meeting's 404, its
rules' 400).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.operations import Form
from mockgraph.identity.permissions import (
    ONLINE_MEETING_ARTIFACTS_READ,
    ONLINE_MEETINGS_READ,
    ONLINE_MEETINGS_WRITE,
    check_permitted,
)
from mockgraph.meetings.meetings import Asked, OnlineMeetings
from mockgraph.resources import check_body, versioned_forms

MEETINGS = "/users/{userId}/onlineMeetings"
MEETING = f"{MEETINGS}/{{meetingId}}"
REPORTS = f"{MEETING}/attendanceReports"
REPORT = f"{REPORTS}/{{reportId}}"
ONLINE_MEETING = "microsoft.graph.onlineMeeting"
# What an answer's @odata.context names after $metadata#, with the path's ids.
MEETINGS_CONTEXT = "users('{user}')/onlineMeetings"
REPORTS_CONTEXT = "users('{user}')/onlineMeetings('{meeting}')/attendanceReports"


@dataclass(frozen=True)
class MeetingOperation:
    name: str
    method: str
    path: str  # below the version; an action's last segment is its name
    perform: Callable[[OnlineMeetings, Asked], Any]
    permissions: frozenset[str]
    context: str  # the answer's @odata.context after $metadata#: {user}, {meeting}, {report}
    status: int = 200  # a create's 201 (createOrGet: 200 when it found one); delete's 204
    request: str | None = None  # the Graph type its body is checked against; None: no body
    collection: bool = False  # its answer is {"value": [...]}
    action: bool = False
    returns: str | None = ONLINE_MEETING  # the Graph type answered (None: described loosely)

    def forms(self) -> tuple[Form, ...]:
        return versioned_forms(self.method, (self.path,), action=self.action)

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        check_permitted(self.name, self.permissions, roles)

    def perform_checked(
        self, meetings: OnlineMeetings, version: str, asked: Asked, body: Mapping[str, Any] | None
    ) -> Any:
        """The schema (400), then the operation."""
        check_body(version, self.request, body)
        return self.perform(meetings, asked)


MEETING_OPERATIONS = (
    MeetingOperation(
        "createOnlineMeeting",
        "POST",
        MEETINGS,
        OnlineMeetings.create,
        ONLINE_MEETINGS_WRITE,
        f"{MEETINGS_CONTEXT}/$entity",
        status=201,
        request=ONLINE_MEETING,
    ),
    MeetingOperation(
        "createOrGetOnlineMeeting",
        "POST",
        f"{MEETINGS}/createOrGet",
        OnlineMeetings.create_or_get,
        ONLINE_MEETINGS_WRITE,
        f"{MEETINGS_CONTEXT}/$entity",
        status=201,
        request="action.onlineMeetings.createOrGet",
        action=True,
    ),
    MeetingOperation(
        "listOnlineMeetings",
        "GET",
        MEETINGS,
        OnlineMeetings.find,
        ONLINE_MEETINGS_READ,
        MEETINGS_CONTEXT,
        collection=True,
    ),
    MeetingOperation(
        "getOnlineMeeting",
        "GET",
        MEETING,
        OnlineMeetings.get,
        ONLINE_MEETINGS_READ,
        f"{MEETINGS_CONTEXT}/$entity",
    ),
    MeetingOperation(
        "updateOnlineMeeting",
        "PATCH",
        MEETING,
        OnlineMeetings.update,
        ONLINE_MEETINGS_WRITE,
        f"{MEETINGS_CONTEXT}/$entity",
        request=ONLINE_MEETING,
    ),
    MeetingOperation(
        "deleteOnlineMeeting",
        "DELETE",
        MEETING,
        OnlineMeetings.delete,
        ONLINE_MEETINGS_WRITE,
        "",
        status=204,
    ),
    # A report's attendanceRecords is a navigation the generated schemas do not hold: reports
    # are described loosely.
    MeetingOperation(
        "listAttendanceReports",
        "GET",
        REPORTS,
        OnlineMeetings.attendance_reports,
        ONLINE_MEETING_ARTIFACTS_READ,
        REPORTS_CONTEXT,
        collection=True,
        returns=None,
    ),
    MeetingOperation(
        "getAttendanceReport",
        "GET",
        REPORT,
        OnlineMeetings.attendance_report,
        ONLINE_MEETING_ARTIFACTS_READ,
        f"{REPORTS_CONTEXT}/$entity",
        returns=None,
    ),
    MeetingOperation(
        "listAttendanceRecords",
        "GET",
        f"{REPORT}/attendanceRecords",
        OnlineMeetings.attendance_records,
        ONLINE_MEETING_ARTIFACTS_READ,
        f"{REPORTS_CONTEXT}('{{report}}')/attendanceRecords",
        collection=True,
        returns="microsoft.graph.attendanceRecord",
    ),
)
