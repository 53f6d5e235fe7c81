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
from mockgraph.errors import BadRequest
from mockgraph.identity.permissions import (
    ONLINE_MEETINGS_READ,
    ONLINE_MEETINGS_WRITE,
    check_permitted,
)
from mockgraph.meetings.meetings import Asked, OnlineMeetings
from mockgraph.resources import versioned_forms
from mockgraph.schema.validation import problem

MEETINGS = "/users/{userId}/onlineMeetings"
MEETING = f"{MEETINGS}/{{meetingId}}"
ONLINE_MEETING = "microsoft.graph.onlineMeeting"


@dataclass(frozen=True)
class MeetingOperation:
    name: str
    method: str
    path: str  # below the version; an action's last segment is its name
    perform: Callable[[OnlineMeetings, Asked], Any]
    permissions: frozenset[str]
    status: int = 200  # a create's 201 (createOrGet: 200 when it found one); delete's 204
    request: str | None = None  # the Graph type its body is checked against; None: no body
    collection: bool = False  # its answer is {"value": [meeting, …]}
    action: bool = False

    def forms(self) -> tuple[Form, ...]:
        return versioned_forms(self.method, (self.path,), action=self.action)

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        check_permitted(self.name, self.permissions, roles)

    def perform_checked(
        self, meetings: OnlineMeetings, version: str, asked: Asked, body: Mapping[str, Any] | None
    ) -> Any:
        """The schema (400), then the operation."""
        if self.request is not None:
            wrong = problem(version, self.request, body or {})
            if wrong is not None:
                what = self.request.rpartition(".")[2]
                raise BadRequest(f"Invalid {what} request: {wrong}.")
        return self.perform(meetings, asked)


MEETING_OPERATIONS = (
    MeetingOperation(
        "createOnlineMeeting",
        "POST",
        MEETINGS,
        OnlineMeetings.create,
        ONLINE_MEETINGS_WRITE,
        status=201,
        request=ONLINE_MEETING,
    ),
    MeetingOperation(
        "createOrGetOnlineMeeting",
        "POST",
        f"{MEETINGS}/createOrGet",
        OnlineMeetings.create_or_get,
        ONLINE_MEETINGS_WRITE,
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
        collection=True,
    ),
    MeetingOperation("getOnlineMeeting", "GET", MEETING, OnlineMeetings.get, ONLINE_MEETINGS_READ),
    MeetingOperation(
        "updateOnlineMeeting",
        "PATCH",
        MEETING,
        OnlineMeetings.update,
        ONLINE_MEETINGS_WRITE,
        request=ONLINE_MEETING,
    ),
    MeetingOperation(
        "deleteOnlineMeeting",
        "DELETE",
        MEETING,
        OnlineMeetings.delete,
        ONLINE_MEETINGS_WRITE,
        status=204,
    ),
)
