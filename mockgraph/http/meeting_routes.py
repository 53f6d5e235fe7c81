"""Graph's online meetings: one generic handler serves every declared online-meeting operation
(``mockgraph.meetings.operations``). It reads the body, hands it to the operation (the schema,
the meeting, the rules) and renders Graph's answer: the meeting (``201`` when made), ``value``
for a list, or ``204``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgraph.http.graph_routes import add_resource_routes
from mockgraph.http.keys import MEETINGS
from mockgraph.http.requests import origin, read_json_object
from mockgraph.meetings.meetings import Asked, Created
from mockgraph.meetings.operations import MEETING_OPERATIONS, MeetingOperation

NAMES = {"{userId}": "{user_id}", "{meetingId}": "{meeting_id}", "{reportId}": "{report_id}"}


def handler(
    operation: MeetingOperation, version: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = await read_json_object(request) if operation.request is not None else None
        ids = request.match_info
        asked = Asked(
            ids["user_id"],
            meeting_id=ids.get("meeting_id", ""),
            report_id=ids.get("report_id", ""),
            body=body or {},
            query=request.query,
        )
        result = operation.perform_checked(request.app[MEETINGS], version, asked, body)
        if result is None:
            return web.Response(status=operation.status)
        named = operation.context.format(
            user=asked.user_id, meeting=asked.meeting_id, report=asked.report_id
        )
        context = f"{origin(request)}/{version}/$metadata#{named}"
        if operation.collection:
            return web.json_response({"@odata.context": context, "value": result})
        status = operation.status
        if isinstance(result, Created):
            status, result = (operation.status if result.new else 200), result.shown
        return web.json_response({"@odata.context": context, **result}, status=status)

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


def add_meeting_routes(app: web.Application) -> None:
    add_resource_routes(app, MEETING_OPERATIONS, handler, NAMES)
