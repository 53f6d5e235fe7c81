"""The identity platform's endpoints, at the root of mockgraph's URL as Entra's are at
``https://login.microsoftonline.com``, so that a bot's authority is ``https://HOST:PORT/{tenant}``.
Errors are Entra's shape, never Graph's: this is what MSAL and azure-identity parse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from mockgraph.http.keys import IDENTITY
from mockgraph.http.requests import origin
from mockgraph.identity.platform import EntraError

# Entra's token answers: never cached (a recorded answer's headers).
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


async def openid_configuration(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    document = request.app[IDENTITY].openid_configuration(origin(request), tenant)
    return web.json_response(document)


async def instance_discovery(request: web.Request) -> web.Response:
    endpoint = request.query.get("authorization_endpoint", "")
    document = request.app[IDENTITY].instance_discovery(origin(request), endpoint)
    return web.json_response(document)


async def keys(request: web.Request) -> web.Response:
    return web.json_response(request.app[IDENTITY].keys())


async def token(request: web.Request) -> web.Response:
    """``POST /{tenant}/oauth2/v2.0/token``: the client-credentials grant."""
    tenant = request.match_info["tenant"]
    correlation = request.headers.get("client-request-id")
    try:
        try:
            form = {key: str(value) for key, value in (await request.post()).items()}
        except ValueError:  # a body aiohttp cannot read as a form
            raise EntraError(
                400, "invalid_request", 900144, "The request body must be form-encoded."
            ) from None
        correlation = form.get("client-request-id") or correlation  # MSAL Node sends it here
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        answer = request.app[IDENTITY].token(
            tenant,
            form,
            endpoint=f"{origin(request)}{request.path}",
            origin=origin(request),
            basic=credentials.strip() if scheme.lower() == "basic" else None,
        )
    except EntraError as error:
        return web.json_response(error.body(correlation), status=error.status, headers=NO_STORE)
    return web.json_response(answer, headers=NO_STORE)


@dataclass(frozen=True)
class IdentityRoute:
    """One of the platform's endpoints: the router and the OpenAPI description read these."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    summary: str
    form: tuple[str, ...] = ()  # the fields of its form-encoded body, if it takes one
    query: tuple[str, ...] = ()
    refuses: tuple[int, ...] = ()  # the statuses of Entra's errors it answers with


TOKEN_FORM = (
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "client_assertion_type",
    "client_assertion",
)
IDENTITY_ROUTES = (
    IdentityRoute(
        "GET",
        "/common/discovery/instance",
        instance_discovery,
        "Instance discovery",
        query=("authorization_endpoint", "api-version"),
    ),
    IdentityRoute(
        "GET",
        "/{tenant}/v2.0/.well-known/openid-configuration",
        openid_configuration,
        "A tenant's OpenID configuration",
    ),
    IdentityRoute("GET", "/{tenant}/discovery/v2.0/keys", keys, "The keys tokens are signed with"),
    IdentityRoute(
        "POST",
        "/{tenant}/oauth2/v2.0/token",
        token,
        "The client-credentials grant",
        form=TOKEN_FORM,
        refuses=(400, 401),
    ),
)


def add_identity_routes(app: web.Application) -> None:
    for route in IDENTITY_ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
