"""Graph's call records: one generic handler serves every declared call-record operation
(``mockgraph.callrecords.operations``). It hands the record id and the query to the operation
(the query options, the record) and renders its 200."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgraph.callrecords.operations import RECORD_OPERATIONS, RecordOperation
from mockgraph.http.graph_routes import add_resource_routes
from mockgraph.http.keys import CALL_RECORDS
from mockgraph.http.requests import origin

NAMES = {"{recordId}": "{record_id}"}


def handler(
    operation: RecordOperation, version: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        metadata = f"{origin(request)}/{version}/$metadata#"
        record_id = request.match_info["record_id"]
        records = request.app[CALL_RECORDS]
        return web.json_response(operation.perform(records, record_id, request.query, metadata))

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


def add_record_routes(app: web.Application) -> None:
    add_resource_routes(app, RECORD_OPERATIONS, handler, NAMES)
