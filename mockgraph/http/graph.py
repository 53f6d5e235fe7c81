"""The fake Graph operations. Each handler reads the request and hands it to the backend."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockgraph.calling.service import CallingBackend
from mockgraph.errors import BadRequest
from mockgraph.http.requests import read_action_body, read_entity_body, require_bearer_token

BACKEND: web.AppKey[CallingBackend] = web.AppKey("backend", CallingBackend)
ACCEPTED = 202


def _version(request: web.Request) -> str:
    return request.match_info.get("version", "beta")  # the /beta/app/... alias has none


def _call_json(request: web.Request, call: Any) -> dict[str, Any]:
    base = f"{request.scheme}://{request.host}/{_version(request)}"
    return {"@odata.context": f"{base}/$metadata#communications/calls/$entity", **call.to_graph()}


async def transfer(request: web.Request) -> web.Response:
    """``POST /{version}/communications/calls/{id}/transfer`` -> 202, then notifications."""
    body = await read_action_body(request, _version(request), "transfer")
    request.app[BACKEND].transfer(request.match_info["call_id"], body)
    return web.Response(status=ACCEPTED)


async def answer(request: web.Request) -> web.Response:
    """``POST .../calls/{id}/answer`` -> 202, then establishing, established."""
    backend = request.app[BACKEND]
    call = backend.calls.get(request.match_info["call_id"], ended_ok=False)
    # The CSDL makes callbackUri non-nullable, the docs call it optional: a bot that leaves
    # it out keeps the call's own.
    body = await read_action_body(
        request, _version(request), "answer", defaults={"callbackUri": call.callback_uri}
    )
    backend.answer(call.id, body)
    return web.Response(status=ACCEPTED)


async def reject(request: web.Request) -> web.Response:
    """``POST .../calls/{id}/reject`` -> 202, then ``deleted``."""
    body = await read_action_body(request, _version(request), "reject", allow_empty=True)
    request.app[BACKEND].reject(request.match_info["call_id"], body)
    return web.Response(status=ACCEPTED)


async def redirect(request: web.Request) -> web.Response:
    """``POST .../calls/{id}/redirect`` -> 202, then ``deleted``/terminated."""
    body = await read_action_body(request, _version(request), "redirect")
    timeout = body.get("timeout")
    if timeout is not None and not 15 <= timeout <= 90:
        raise BadRequest(
            f"Invalid redirect request: 'timeout' must be 15 to 90 seconds, not {timeout}."
        )
    if not body["targets"]:
        raise BadRequest("Invalid redirect request: 'targets' must name at least one target.")
    if len(body["targets"]) > 25:
        raise BadRequest("Invalid redirect request: at most 25 'targets' ring at once.")
    request.app[BACKEND].redirect(request.match_info["call_id"], body)
    return web.Response(status=ACCEPTED)


async def keep_alive(request: web.Request) -> web.Response:
    """``POST .../calls/{id}/keepAlive`` -> 200; 404 once the call has ended."""
    require_bearer_token(request)
    request.app[BACKEND].keep_alive(request.match_info["call_id"])
    return web.Response(status=200)


async def get_call(request: web.Request) -> web.Response:
    """``GET .../calls/{id}`` -> 200 with the call."""
    require_bearer_token(request)
    call = request.app[BACKEND].get_call(request.match_info["call_id"])
    return web.json_response(_call_json(request, call))


async def delete_call(request: web.Request) -> web.Response:
    """``DELETE .../calls/{id}`` -> 204, then terminating and ``deleted``/terminated."""
    require_bearer_token(request)
    request.app[BACKEND].delete(request.match_info["call_id"])
    return web.Response(status=204)


async def create_call(request: web.Request) -> web.Response:
    """``POST .../communications/calls`` -> 201 with ``Location`` and the call, establishing."""
    body = await read_entity_body(request, _version(request), "call")
    if not body.get("callbackUri"):
        raise BadRequest("Invalid call: 'callbackUri' is required.")
    if not body.get("mediaConfig"):
        raise BadRequest("Invalid call: 'mediaConfig' is required.")
    if not (body.get("targets") or body.get("meetingInfo") or body.get("chatInfo")):
        raise BadRequest(
            "Invalid call: give 'targets' for a peer-to-peer call, or 'meetingInfo' and "
            "'chatInfo' to join a meeting."
        )
    call = request.app[BACKEND].create(body)
    response = web.json_response(_call_json(request, call), status=201)
    response.headers["Location"] = (
        f"{request.scheme}://{request.host}/{_version(request)}/communications/calls/{call.id}"
    )
    return response


VERSION = r"{version:v1\.0|beta}"


def add_graph_routes(app: web.Application) -> None:
    calls = f"/{VERSION}/communications/calls"
    call = f"{calls}/{{call_id}}"
    app.router.add_post(calls, create_call)
    app.router.add_get(call, get_call)
    app.router.add_delete(call, delete_call)
    app.router.add_post(f"{call}/answer", answer)
    app.router.add_post(f"{call}/reject", reject)
    app.router.add_post(f"{call}/redirect", redirect)
    app.router.add_post(f"{call}/transfer", transfer)
    app.router.add_post(f"{call}/keepAlive", keep_alive)
    app.router.add_post("/beta/app/calls/{call_id}/transfer", transfer)
