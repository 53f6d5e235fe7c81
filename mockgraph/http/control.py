"""The control plane for tests, under /_mock (Graph paths never start with it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockgraph.calling.service import CALL_SPEC_PROPERTIES
from mockgraph.errors import BadRequest, WaitTimedOut
from mockgraph.http.graph import BACKEND
from mockgraph.http.requests import read_json_object
from mockgraph.scenarios.loader import ScenarioError

# What a seeded call may be given: its Graph properties, and mockgraph's own.
SEED_KEYS = ("id", "callbackUri", "state", "applicationInstance", *CALL_SPEC_PROPERTIES)
RING_KEYS = (*(key for key in SEED_KEYS if key not in ("state", "direction")), "timeout")
MAX_WAIT = 300.0  # seconds; a long poll never holds a connection longer


def query_number(
    request: web.Request,
    name: str,
    default: float,
    *,
    integer: bool = False,
    maximum: float = float("inf"),
) -> float:
    """A number from 0 to ``maximum`` from the query string, or a 400 naming it."""
    text = request.query.get(name)
    if text is None:
        return default
    kind = "a whole number" if integer else "a number"
    limit = f" from 0 to {maximum:g}" if maximum != float("inf") else ", 0 or more"
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise BadRequest(f"Query parameter '{name}' must be {kind}{limit}, not {text!r}.") from None
    if not 0 <= value <= maximum:
        raise BadRequest(f"Query parameter '{name}' must be {kind}{limit}, not {text!r}.")
    return value


def query_timeout(request: web.Request) -> float:
    """A long poll's ``timeout`` (seconds, default 5, at most MAX_WAIT)."""
    return query_number(request, "timeout", 5.0, maximum=MAX_WAIT)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _call_spec(body: dict[str, Any], allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"Unknown key(s) {unknown}; {what} takes: {', '.join(allowed)}.")
    for key in ("id", "callbackUri", "state", "tenantId", "direction", "subject"):
        if key in body and not isinstance(body[key], str):
            raise BadRequest(f"'{key}' must be a string.")
    if "direction" in body and body["direction"] not in ("incoming", "outgoing"):
        raise BadRequest("'direction' must be 'incoming' or 'outgoing'.")
    if "applicationInstance" in body and not isinstance(body["applicationInstance"], bool):
        raise BadRequest("'applicationInstance' must be true or false.")
    timeout = body.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise BadRequest("'timeout' must be a number of seconds, more than 0.")
    return body


async def seed_call(request: web.Request) -> web.Response:
    body = await read_json_object(request, require_content_type=False)
    call = request.app[BACKEND].seed_call(_call_spec(body, SEED_KEYS, "a seeded call"))
    return web.json_response(call.to_graph(), status=201)


async def ring(request: web.Request) -> web.Response:
    """A new incoming call: the bot gets Graph's ``created`` notification."""
    body = await read_json_object(request, require_content_type=False, allow_empty=True)
    call = request.app[BACKEND].ring(_call_spec(body, RING_KEYS, "an incoming call"))
    return web.json_response(call.to_graph(), status=201)


async def list_bots(request: web.Request) -> web.Response:
    bots = request.app[BACKEND].bots
    return web.json_response({"value": [{"id": k, "callbackUri": v} for k, v in bots.items()]})


async def register_bot(request: web.Request) -> web.Response:
    """Transfers to this identity id ring the bot at ``callbackUri``."""
    body = await read_json_object(request, require_content_type=False)
    callback_uri = body.get("callbackUri")
    if not isinstance(callback_uri, str) or not callback_uri:
        raise BadRequest('Send {"callbackUri": "<the bot\'s notification URL>"}.')
    identity_id = request.match_info["identity_id"]
    request.app[BACKEND].register_bot(identity_id, callback_uri)
    return web.json_response({"id": identity_id, "callbackUri": callback_uri})


async def list_calls(request: web.Request) -> web.Response:
    calls = request.app[BACKEND].calls
    return web.json_response(
        {
            "value": [call.to_json() for call in calls],
            "forgotten": calls.forgotten,
            "limit": calls.limit,
        }
    )


async def get_call(request: web.Request) -> web.Response:
    call = request.app[BACKEND].calls.get(request.match_info["call_id"])
    return web.json_response(call.to_json())


async def pin_scenario(request: web.Request) -> web.Response:
    body = await read_json_object(request, require_content_type=False)
    name = body.get("name", ...)
    if name is ... or not (name is None or isinstance(name, str)):
        raise BadRequest('Send {"name": "<scenario name>"}, or {"name": null} to unpin.')
    call = request.app[BACKEND].pin_scenario(request.match_info["call_id"], name)
    return web.json_response(call.to_json())


async def wait_for_state(request: web.Request) -> web.Response:
    """Long poll until the call is, or has been, in ``state``: 200, or 408 with its state."""
    backend = request.app[BACKEND]
    state = request.query.get("state")
    if not state:
        raise BadRequest("Query parameter 'state' is required, e.g. ?state=terminated.")
    timeout = query_timeout(request)
    call = backend.calls.get(request.match_info["call_id"])
    if not await backend.wait_for_state(call.id, state, timeout):
        raise WaitTimedOut(
            f"Call '{call.id}' did not reach {state} within {timeout:g} s; it is {call.state} "
            f"(history: {' -> '.join(change.state for change in call.history)}).",
            call=call.to_json(),
        )
    return web.json_response(call.to_json())


async def wait_for_notifications(request: web.Request) -> web.Response:
    """Long poll until ``count`` of the call's notifications are delivered or failed."""
    backend = request.app[BACKEND]
    call = backend.calls.get(request.match_info["call_id"])
    count = int(query_number(request, "count", 0, integer=True))
    timeout = query_timeout(request)
    records = await backend.wait_for_notifications(call.id, count, timeout)
    value = [record.to_json() for record in records]
    if len(records) < count:
        raise WaitTimedOut(
            f"Call '{call.id}' has {len(records)} finished notification(s), not {count}, "
            f"after {timeout:g} s; it is {call.state}.",
            value=value,
        )
    return web.json_response({"value": value})


async def wait_idle(request: web.Request) -> web.Response:
    """Long poll until nothing is scheduled, queued or in flight."""
    timeout = query_timeout(request)
    if not await request.app[BACKEND].wait_idle(timeout):
        raise WaitTimedOut(f"Still busy after {timeout:g} s.", idle=False)
    return web.json_response({"idle": True})


async def advance(request: web.Request) -> web.Response:
    """Step mode: release the call's next ``steps`` (default 1) notifications."""
    body = await read_json_object(request, require_content_type=False, allow_empty=True)
    steps = body.get("steps", 1)
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise BadRequest("'steps' must be a whole number.")
    call = request.app[BACKEND].advance(request.match_info["call_id"], steps)
    return web.json_response(call.to_json())


async def get_time(request: web.Request) -> web.Response:
    player = request.app[BACKEND].player
    return web.json_response({"scale": player.time_scale, "step": player.step_mode})


async def set_time(request: web.Request) -> web.Response:
    """``{"scale": 0}`` collapses every pause, ``{"step": true}`` turns on step mode; until
    the next reset."""
    body = await read_json_object(request, require_content_type=False)
    unknown = sorted(set(body) - {"scale", "step"})
    if unknown:
        raise BadRequest(f"Unknown key(s) {unknown}; send 'scale' and/or 'step'.")
    scale = body.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)):
        raise BadRequest("'scale' must be a number.")
    step = body.get("step")
    if step is not None and not isinstance(step, bool):
        raise BadRequest("'step' must be true or false.")
    request.app[BACKEND].set_time(scale=scale, step=step)
    return await get_time(request)


async def load_scenarios(request: web.Request) -> web.Response:
    """Add scenarios from a YAML body, checked as files are; 400 lists every problem."""
    text = (await request.read()).decode("utf-8", errors="replace")
    try:
        scenarios = request.app[BACKEND].load_scenarios(text, "request")
    except ScenarioError as error:
        raise BadRequest(
            "Invalid scenario: " + "; ".join(map(str, error.problems)),
            problems=[str(problem) for problem in error.problems],
        ) from None
    if not scenarios:
        raise BadRequest("The body holds no scenario; send the YAML of one or more scenarios.")
    return web.json_response({"value": [s.summary() for s in scenarios]}, status=201)


async def openid_configuration(request: web.Request) -> web.Response:
    """What a bot's token validation reads first; point it here instead of
    https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration."""
    backend = request.app[BACKEND]
    origin = f"{request.scheme}://{request.host}"
    return web.json_response(
        {
            "issuer": backend.settings.token_issuer,
            "jwks_uri": f"{origin}/_mock/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }
    )


async def signing_keys(request: web.Request) -> web.Response:
    """The JWKS: the public key that signs notification tokens."""
    issuer = await request.app[BACKEND].issuer()
    return web.json_response(issuer.jwks())


async def list_scenarios(request: web.Request) -> web.Response:
    library = request.app[BACKEND].library
    return web.json_response({"value": [scenario.summary() for scenario in library]})


async def journal(request: web.Request) -> web.Response:
    kept = request.app[BACKEND].journal
    entries = [entry.to_json() for entry in kept.entries(request.query.get("callId"))]
    return web.json_response({"value": entries, "dropped": kept.dropped, "limit": kept.limit})


async def reset(request: web.Request) -> web.Response:
    await request.app[BACKEND].reset()
    return web.json_response({"status": "reset"})


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/_mock/health", health)
    app.router.add_get("/_mock/.well-known/openid-configuration", openid_configuration)
    app.router.add_get("/_mock/v1/.well-known/OpenIdConfiguration", openid_configuration)
    app.router.add_get("/_mock/keys", signing_keys)
    app.router.add_post("/_mock/calls", seed_call)
    app.router.add_post("/_mock/calls/incoming", ring)
    app.router.add_get("/_mock/bots", list_bots)
    app.router.add_put("/_mock/bots/{identity_id}", register_bot)
    app.router.add_get("/_mock/calls", list_calls)
    app.router.add_get("/_mock/calls/{call_id}", get_call)
    app.router.add_put("/_mock/calls/{call_id}/scenario", pin_scenario)
    app.router.add_get("/_mock/calls/{call_id}/wait", wait_for_state)
    app.router.add_get("/_mock/calls/{call_id}/notifications", wait_for_notifications)
    app.router.add_post("/_mock/calls/{call_id}/advance", advance)
    app.router.add_get("/_mock/idle", wait_idle)
    app.router.add_get("/_mock/time", get_time)
    app.router.add_put("/_mock/time", set_time)
    app.router.add_get("/_mock/scenarios", list_scenarios)
    app.router.add_post("/_mock/scenarios", load_scenarios)
    app.router.add_get("/_mock/journal", journal)
    app.router.add_post("/_mock/reset", reset)
