"""The identity platform's endpoints, at the root of mockgraph's URL as Entra's are at
``https://login.microsoftonline.com``, so that a bot's authority is ``https://HOST:PORT/{tenant}``.
Errors are Entra's shape, never Graph's: this is what MSAL and azure-identity parse."""

from __future__ import annotations

from aiohttp import web

from mockgraph.http.keys import IDENTITY
from mockgraph.identity.platform import EntraError

# Entra's token answers: never cached (a recorded answer's headers).
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def openid_configuration(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    document = request.app[IDENTITY].openid_configuration(_origin(request), tenant)
    return web.json_response(document)


async def instance_discovery(request: web.Request) -> web.Response:
    endpoint = request.query.get("authorization_endpoint", "")
    document = request.app[IDENTITY].instance_discovery(_origin(request), endpoint)
    return web.json_response(document)


async def keys(request: web.Request) -> web.Response:
    return web.json_response(request.app[IDENTITY].keys())


async def token(request: web.Request) -> web.Response:
    """``POST /{tenant}/oauth2/v2.0/token``: the client-credentials grant."""
    tenant = request.match_info["tenant"]
    correlation = request.headers.get("client-request-id")
    try:
        form = {key: str(value) for key, value in (await request.post()).items()}
        correlation = form.get("client-request-id") or correlation  # MSAL Node sends it here
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        granted = request.app[IDENTITY].token(
            tenant,
            form,
            endpoint=f"{_origin(request)}{request.path}",
            origin=_origin(request),
            basic=credentials.strip() if scheme.lower() == "basic" else None,
        )
    except EntraError as error:
        return web.json_response(error.body(correlation), status=error.status, headers=NO_STORE)
    except ValueError:  # a form aiohttp cannot read
        body = EntraError(
            400, "invalid_request", 900144, "The request body must be form-encoded."
        ).body(correlation)
        return web.json_response(body, status=400, headers=NO_STORE)
    return web.json_response(granted.answer, headers=NO_STORE)


def add_identity_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/common/discovery/instance", instance_discovery)
    router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    router.add_get("/{tenant}/discovery/v2.0/keys", keys)
    router.add_post("/{tenant}/oauth2/v2.0/token", token)
