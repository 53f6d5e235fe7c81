"""Graph's subscriptions: one generic handler serves every declared subscription operation
(``mockgraph.subscriptions.operations``). It reads the body and who asks, hands them to the
operation (the schema, the subscription, its rules, the handshake) and renders Graph's answer:
the subscription (``201`` when made), ``value`` for the list, or ``204``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockgraph.http.graph_routes import add_resource_routes
from mockgraph.http.keys import SUBSCRIPTIONS
from mockgraph.http.requests import CALLER, origin, read_json_object
from mockgraph.subscriptions.operations import SUBSCRIPTION_OPERATIONS, SubscriptionOperation
from mockgraph.subscriptions.subscriptions import Asked

NAMES = {"{subscriptionId}": "{subscription_id}"}


def handler(
    operation: SubscriptionOperation, version: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        body = await read_json_object(request) if operation.request is not None else None
        caller = request.get(CALLER)
        asked = Asked(
            request.match_info.get("subscription_id", ""),
            body=body or {},
            app_id=caller.app_id if caller is not None else "",
            roles=caller.roles if caller is not None else None,
        )
        result = await operation.perform_checked(request.app[SUBSCRIPTIONS], version, asked, body)
        if result is None:
            return web.Response(status=operation.status)
        context = f"{origin(request)}/{version}/$metadata#{operation.context}"
        if operation.collection:
            return web.json_response({"@odata.context": context, "value": result})
        return web.json_response({"@odata.context": context, **result}, status=operation.status)

    serve.__name__ = serve.__qualname__ = operation.name
    return serve


def add_subscription_routes(app: web.Application) -> None:
    add_resource_routes(app, SUBSCRIPTION_OPERATIONS, handler, NAMES)
