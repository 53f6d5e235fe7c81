"""The control plane for tests, under /_mock (Graph paths never start with it).

Each handler parses the request, calls one ``ControlService`` method and renders what it
returns; the service checks the bodies.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from aiohttp import web

from mockgraph.calling.shapes import (
    ADVANCE,
    BOT,
    HANG_UP,
    JOIN,
    PIN,
    PRESS,
    RING,
    SEED,
    SHARE,
    TIME,
)
from mockgraph.errors import BadRequest, ResourceNotFound
from mockgraph.faults import FAULT
from mockgraph.http.endpoints import control_endpoint
from mockgraph.http.events import events
from mockgraph.http.keys import (
    CALL_RECORDS,
    CONTROL,
    PRESENCES,
    SERVICE,
    SIGNING,
    SUBSCRIPTIONS,
    TRUST,
)
from mockgraph.http.requests import origin, read_json_object
from mockgraph.identity.apps import APP
from mockgraph.schema.validation import Shape
from mockgraph.subscriptions.subscriptions import LIFECYCLE

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


async def _body(request: web.Request, *, allow_empty: bool = False) -> dict[str, object]:
    return await read_json_object(request, require_content_type=False, allow_empty=allow_empty)


def _call_id(request: web.Request) -> str:
    return request.match_info["call_id"]


async def health(request: web.Request) -> web.Response:
    """`200 {"status": "ok"}`."""
    return web.json_response({"status": "ok"})


async def seed_call(request: web.Request) -> web.Response:
    """Seed a call the bot already has; body `{"id"?, "callbackUri"?, "state"? (default
    "established"), "tenantId"?, "source"?, "targets"?, "direction"?, "requestedModalities"?,
    "meetingInfo"?, "chatInfo"?, "incomingContext"?, "subject"?, "mediaConfig"?,
    "applicationInstance"? (default true)}`; `201` with the Graph call. `callbackUri` falls back
    to `--callback-url`, `tenantId` to `--tenant-id`; an existing `id` is `409`."""
    call = request.app[CONTROL].seed_call(await _body(request))
    return web.json_response(call.to_graph(), status=201)


async def ring(request: web.Request) -> web.Response:
    """Ring the bot: a new call in `incoming`, announced by a `created` notification with the whole
    call (`state`, `direction`, `source`, `targets`, `requestedModalities`, `tenantId`,
    `myParticipantId`, `callbackUri`, `@odata.id`, `@odata.etag`); body as for seeding (no
    `state`/`direction`) plus `timeout` (seconds it rings; default `--ring-timeout`); `201` with
    the call."""
    call = request.app[CONTROL].ring(await _body(request, allow_empty=True))
    return web.json_response(call.to_graph(), status=201)


async def list_bots(request: web.Request) -> web.Response:
    """`{"value": [{"id", "callbackUri"}, …]}`: the bots transfers can ring."""
    return web.json_response({"value": request.app[CONTROL].bots()})


async def register_bot(request: web.Request) -> web.Response:
    """Body `{"callbackUri": URL, "id"?}` (an http(s) URL): a transfer to that identity id rings
    that bot; the body may be what `GET /_mock/bots` lists, `id` and all (an `id` other than the
    path's is `400`)."""
    identity_id = request.match_info["identity_id"]
    bot = request.app[CONTROL].register_bot(identity_id, await _body(request))
    return web.json_response(bot)


async def list_users(request: web.Request) -> web.Response:
    """`{"value": [user id, …]}`: the users Graph's presence knows (added here, or in a call's
    roster); presence for any other is Graph's `404`."""
    return web.json_response({"value": request.app[PRESENCES].known()})


async def list_presences(request: web.Request) -> web.Response:
    """`{"value": [presence, …]}`: each known user's presence as Graph shows it (`id`,
    `availability`, `activity`, `statusMessage`), by user id: what the inspector lists."""
    return web.json_response({"value": request.app[PRESENCES].everyone()})


async def add_user(request: web.Request) -> web.Response:
    """No body: the user exists in the tenant from now on (until a reset), `Offline` until
    something gives them presence. Answers `{"id"}`."""
    user_id = request.match_info["user_id"]
    request.app[PRESENCES].add_user(user_id)
    return web.json_response({"id": user_id})


async def list_call_records(request: web.Request) -> web.Response:
    """`{"value": [{"id", "callIds", "readable", "readableInSeconds", "record"}, …]}`: every
    call record, oldest first, whether Graph serves it yet or not (`readableInSeconds`: how
    long until it does, on the clock), each `record` with its sessions, segments and
    participants expanded."""
    metadata = f"{origin(request)}/v1.0/$metadata#"
    return web.json_response({"value": request.app[CALL_RECORDS].known(metadata)})


async def list_calls(request: web.Request) -> web.Response:
    """`{"value": [call, …], "forgotten": N, "limit": L}` (`forgotten`: ended calls let go past
    `--calls-limit`)."""
    return web.json_response(request.app[CONTROL].calls())


async def get_call(request: web.Request) -> web.Response:
    """`{"id", "state", "call": <Graph call>, "history": [{"state", "time", "cause"}], "scenario":
    <pinned name or null>, "lastScenario": <the one it played last, or null>,
    "runningOperation", "waitingStep", "operations", "subscribedToTones", "participants"}`
    (`participants`: the roster, as Graph shows it; `waitingStep`: in step mode, the step held
    for `advance`; `operations`: as `GET /_mock/calls/{id}/operations` lists them)."""
    return web.json_response(request.app[CONTROL].call(_call_id(request)).to_json())


async def pin_scenario(request: web.Request) -> web.Response:
    """Body `{"name": "transfer-failure-7000"}`: the scenario the call's next operation plays
    (once); `{"name": null}` unpins; an unknown name is `400`."""
    call = request.app[CONTROL].pin_scenario(_call_id(request), await _body(request))
    return web.json_response(call.to_json())


async def wait_for_call(request: web.Request) -> web.Response:
    """`?state=S`: long poll: `200` with the call as soon as it is, or has been, in state `S`;
    `408` after `timeout` seconds (at most 300) with the call's current state in the message and
    under `call`; a state that does not exist is `400` at once, naming the states.
    `?waitingStep=N`: step mode: long poll until the call holds step `N` (or `any` step) for
    `advance`; `200` with the call, else `408`."""
    control = request.app[CONTROL]
    state = request.query.get("state")
    waiting = request.query.get("waitingStep")
    if bool(state) == (waiting is not None):
        raise BadRequest(
            "Query parameter 'state' is required, e.g. ?state=terminated "
            "(or 'waitingStep', e.g. ?waitingStep=any, but not both)."
        )
    timeout = query_timeout(request)
    if state:
        call = await control.wait_for_state(_call_id(request), state, timeout)
    else:
        step = None
        if waiting != "any":
            step = int(query_number(request, "waitingStep", 0, integer=True))
        call = await control.wait_for_step(_call_id(request), step, timeout)
    return web.json_response(call.to_json())


async def hang_up(request: web.Request) -> web.Response:
    """The far side (the caller, or whoever the bot called) hangs up: what plays for the call stops
    (a running prompt or recording ends with no notification of its own), and the bot gets
    `deleted`, `terminated`, with `resultInfo 200/5002` "The conversation has ended. DiagCode:
    0#5002.@" (a captured P2P hang-up), or the one an optional body `{"code", "subcode"?,
    "message"?}` gives (`410/301005` media connectivity failure, `200/5010` everyone else left a
    group call, `200/560000` a PSTN user hung up, … from call-delete's end-reason table); it
    plays the `hangUp` scenario, so a file of yours can say otherwise. `200` with the call; an
    ended call is Graph's `404 8522`; works while the bot is still being rung, and in the middle
    of a transfer."""
    body = await _body(request, allow_empty=True)
    return web.json_response(request.app[CONTROL].hang_up(_call_id(request), body).to_json())


async def _no_body(request: web.Request, instead: str) -> None:
    """An event that takes nothing: none, or ``{}``; a body with keys says where they go."""
    if await _body(request, allow_empty=True):
        raise BadRequest(f"This event takes no body (send none, or {{}}); {instead}.")


async def fail_media(request: web.Request) -> web.Response:
    """The call's media path fails: what plays for the call stops, as on a hang-up, and the bot
    gets `deleted`, `terminated`, `resultInfo 410/301005` (call-delete's "media connectivity
    failure"); it plays the `mediaFailure` scenario. No body (for another code, such as the
    bot's own media error `500/1005`, use `hangup` with it). `200` with the call; an ended call
    is `404 8522`."""
    await _no_body(request, "to end the call with another resultInfo, POST .../hangup with it")
    return web.json_response(request.app[CONTROL].fail_media(_call_id(request)).to_json())


async def end_meeting(request: web.Request) -> web.Response:
    """The organiser ends the meeting: everyone but the bot leaves, and the bot gets that roster
    (only itself), and no `deleted` for its call: the one capture of it shows only the roster
    update (microsoft-graph-comms-samples#77), so the call stays up until the bot deletes it or
    stops keeping it alive. It plays the `meetingEnded` scenario, so a file of yours can add a
    `deleted`. No body; `200` with the call; `400` for a call that is not a meeting (seeded or
    created with `meetingInfo` or `chatInfo`)."""
    await _no_body(request, "to take one person off the roster, DELETE .../participants/{id}")
    return web.json_response(request.app[CONTROL].end_meeting(_call_id(request)).to_json())


async def trusted_certificate(request: web.Request) -> web.Response:
    """The certificate a client trusts mockgraph's https by (`application/x-pem-file`): the local
    authority's with `--tls auto`, or `--tls-cert`'s; `404` over http. Open, like the keys."""
    trust = request.app[TRUST]
    if not trust:
        raise ResourceNotFound(
            "mockgraph serves http: there is no certificate to trust (--tls auto serves https)."
        )
    return web.Response(body=trust, content_type="application/x-pem-file")


async def list_apps(request: web.Request) -> web.Response:
    """`{"value": [app, …]}`: the apps the identity platform knows, each as registered, less its
    secret (`hasSecret` says whether it has one)."""
    return web.json_response({"value": [app.to_json() for app in request.app[CONTROL].apps()]})


async def register_app(request: web.Request) -> web.Response:
    """Register (or replace) an app: body `{"secret"?, "certificate"?, "roles"?, "displayName"?}`
    ([Your bot's real credentials](../how-to/real-credentials.md)); `200` with it; until the
    next reset; a bad one is `400` naming the field."""
    client_id = request.match_info["client_id"]
    app = request.app[CONTROL].register_app(client_id, await _body(request, allow_empty=True))
    return web.json_response(app.to_json())


async def remove_app(request: web.Request) -> web.Response:
    """Forget one; `204`, or `404` if none has that id."""
    request.app[CONTROL].remove_app(request.match_info["client_id"])
    return web.Response(status=204)


async def press_tones(request: web.Request) -> web.Response:
    """The caller presses keys: body `{"tones": "12#"}` (`0-9`, `*`, `#`, `A-D`) or `{"tones":
    ["tone1", "pound"]}`; one `updated` notification with `toneInfo` each, in order; `200
    {"value": [toneInfo, …]}`; a key among a running recording's `stopTones` ends it; `409`
    unless the bot subscribed to tones or the first key ends a recording (then nothing is
    notified, `{"value": []}`)."""
    tones = request.app[CONTROL].press_tones(_call_id(request), await _body(request))
    return web.json_response({"value": tones})


async def add_participant(request: web.Request) -> web.Response:
    """Someone joins: body `{"identity": {"user": {"id": "u1", "displayName": "Ann"}}, "isMuted"?:
    false}`; `201` with the participant (its `id`); the bot gets the roster."""
    joined = request.app[CONTROL].add_participant(_call_id(request), await _body(request))
    return web.json_response(joined.to_graph(), status=201)


async def remove_participant(request: web.Request) -> web.Response:
    """Someone leaves; `204`; the bot gets the roster."""
    request.app[CONTROL].remove_participant(_call_id(request), request.match_info["participant_id"])
    return web.Response(status=204)


async def list_subscriptions(request: web.Request) -> web.Response:
    """`{"value": [subscription, …]}`: every change-notification subscription as Graph shows
    it, with `needsReauthorization` (told `reauthorizationRequired` and not yet reauthorized
    or renewed) and `notifications` (how many change notifications it was sent)."""
    return web.json_response({"value": request.app[SUBSCRIPTIONS].known()})


async def send_lifecycle(request: web.Request) -> web.Response:
    """Send the subscription's `lifecycleNotificationUrl` a lifecycle notification now: body
    `{"lifecycleEvent": "reauthorizationRequired"}` (or `subscriptionRemoved`, which also
    removes the subscription, or `missed`); `204`. A subscription with no lifecycle URL is a
    `400`."""
    subscription_id = request.match_info["subscription_id"]
    request.app[SUBSCRIPTIONS].tell(subscription_id, await _body(request))
    return web.Response(status=204)


async def list_meetings(request: web.Request) -> web.Response:
    """`{"value": [{"id", "organizerId", "subject", "joinWebUrl", "threadId", "people",
    "liveCalls", "endedCalls"}, …]}`: every online meeting, who is in it, and the calls into
    it (a call is the meeting's when its `chatInfo.threadId` is the meeting's)."""
    return web.json_response({"value": request.app[CONTROL].meetings()})


async def join_meeting(request: web.Request) -> web.Response:
    """Someone joins the meeting: body `{"identity": {"user": {"id": "u1", "displayName":
    "Ann"}}}`; `201` with `{"id", "identity", "calls"}`. They join every call into the meeting
    (its bot gets the roster), and a call that joins later finds them in it."""
    meeting_id = request.match_info["meeting_id"]
    joined = request.app[CONTROL].join_meeting(meeting_id, await _body(request))
    return web.json_response(joined, status=201)


async def leave_meeting(request: web.Request) -> web.Response:
    """Someone leaves the meeting (by the id their identity names), and every call into it;
    `204`; each call's bot gets the roster."""
    match = request.match_info
    request.app[CONTROL].leave_meeting(match["meeting_id"], match["person_id"])
    return web.Response(status=204)


async def share_content(request: web.Request) -> web.Response:
    """Someone starts sharing content: body `{"id"?}`; `201` with the contentSharingSession the bot
    can list and get."""
    body = await _body(request, allow_empty=True)
    return web.json_response(
        request.app[CONTROL].share_content(_call_id(request), body), status=201
    )


TRACE_TYPE = "application/x-ndjson"


async def trace(request: web.Request) -> web.Response:
    """The call's notifications that went out, as JSON Lines (`application/x-ndjson`) of `{"time",
    "body"}`: what `mockgraph import` reads back into the call's scenario."""
    lines = [json.dumps(line) + "\n" for line in request.app[CONTROL].trace(_call_id(request))]
    return web.Response(text="".join(lines), content_type=TRACE_TYPE)


async def list_operations(request: web.Request) -> web.Response:
    """`{"value": [{"operation": <Graph operation>, "action", "ended"}, …]}`: every operation the
    call's actions returned, ended ones included."""
    return web.json_response({"value": request.app[CONTROL].operations(_call_id(request))})


async def get_operation(request: web.Request) -> web.Response:
    """One of them, `{"operation", "action", "ended"}`; `404` if the call has no such operation."""
    operation = request.app[CONTROL].operation(_call_id(request), request.match_info["op_id"])
    return web.json_response(operation.to_json())


async def wait_for_operation(request: web.Request) -> web.Response:
    """Long poll: `200` with the operation once its status is `completed` or `failed`; else `408`
    with it under `operation`."""
    operation = await request.app[CONTROL].wait_for_operation(
        _call_id(request), request.match_info["op_id"], query_timeout(request)
    )
    return web.json_response(operation.to_json())


async def wait_for_notifications(request: web.Request) -> web.Response:
    """Long poll: `200 {"value": [...]}`, the call's journaled notifications, once `N` of them are
    delivered or failed; else `408` with those there are under `value`."""
    count = int(query_number(request, "count", 0, integer=True))
    records = await request.app[CONTROL].wait_for_notifications(
        _call_id(request), count, query_timeout(request)
    )
    return web.json_response({"value": [record.to_json() for record in records]})


async def wait_idle(request: web.Request) -> web.Response:
    """Long poll: `200 {"idle": true}` once nothing is scheduled, queued or in flight; else
    `408`."""
    await request.app[CONTROL].wait_idle(query_timeout(request))
    return web.json_response({"idle": True})


async def advance(request: web.Request) -> web.Response:
    """Step mode: body `{"steps": N}` (default 1) releases the call's next N notifications; a
    release before a step is due is kept for it."""
    call = request.app[CONTROL].advance(_call_id(request), await _body(request, allow_empty=True))
    return web.json_response(call.to_json())


async def get_time(request: web.Request) -> web.Response:
    """`{"scale": 1.0, "step": false}`; `PUT {"scale": 0}` collapses every pause, `{"step": true}`
    holds each notification until released, `{"step": false}` lets every held one go; until the
    next reset."""
    return web.json_response(request.app[CONTROL].time().to_json())


async def set_time(request: web.Request) -> web.Response:
    """`{"scale": 1.0, "step": false}`; `PUT {"scale": 0}` collapses every pause, `{"step": true}`
    holds each notification until released, `{"step": false}` lets every held one go; until the
    next reset."""
    return web.json_response(request.app[CONTROL].set_time(await _body(request)).to_json())


async def load_scenarios(request: web.Request) -> web.Response:
    """Body: scenario YAML (one or more documents, [faults](../how-to/make-graph-fail.md) among
    them); `201 {"value": [summary, …], "faults": [fault, …]}` (a fault is set until the next
    reset), or `400` with every problem as `request:line:col: message` in the message and under
    `problems`; nothing is added if any is invalid."""
    text = (await request.read()).decode("utf-8", errors="replace")
    scenarios, faults = request.app[CONTROL].load_scenarios(text)
    body = {"value": [s.summary() for s in scenarios], "faults": [f.to_json() for f in faults]}
    return web.json_response(body, status=201)


async def get_scenario(request: web.Request) -> web.Response:
    """One loaded scenario, as listed, with `steps` as they play in place of their count:
    `[{"after": 0.05, "notify": [{"changeType", "resourceData"}], "tones"?, "roster"?, "join"?,
    "leave"?, "farSide"?, "fault"?, …}]` (`after` in seconds); `404` with a did-you-mean if none
    has that name."""
    return web.json_response(request.app[CONTROL].scenario(request.match_info["name"]).to_json())


async def list_scenarios(request: web.Request) -> web.Response:
    """`{"value": [{"name", "description", "operation", "default", "when", "steps", "source"},
    …]}`."""
    scenarios = request.app[CONTROL].scenarios()
    return web.json_response({"value": [scenario.summary() for scenario in scenarios]})


async def journal(request: web.Request) -> web.Response:
    """`{"value": [entry, …], "dropped": N, "limit": L}` in order: requests (`kind: request`,
    `callId` (the call it named, or the one it created), `method`, `path`, `headers`, `body`,
    `status`, `requestId`, `fault` (the id of the fault that answered it or made it late, else
    `null`), `earlyRetry` (`true` if it came before the `Retry-After` a fault had given the same
    method and path)) and notifications (`kind: notification`, `callId`, `url`, `body`,
    `scenario`, `step`, `scenarioId`, `lateMs` (how long after the time its scenario planned for
    it the POST really went out: a step waits behind the call's earlier notifications, so a bot
    slow to answer makes the later ones late), `attempts: [{time, url, messageId, status or
    error, redirectedTo?, durationMs}]`, `outcome`, `note`) and change notifications to
    subscriptions (`kind: changeNotification`, `subscriptionId`, `lifecycleEvent` (the lifecycle
    event it tells, else `null`), `url`, `body`, `attempts`, `outcome`, `note`); `dropped` counts
    the oldest entries let go past `--journal-limit`. `?callId=` keeps a call's entries,
    `?subscriptionId=` a subscription's notifications."""
    query = request.query
    chosen = request.app[CONTROL].journal(query.get("callId"), query.get("subscriptionId"))
    return web.json_response(chosen)


async def add_fault(request: web.Request) -> web.Response:
    """Set a fault on Graph requests (see [Making Graph fail](../how-to/make-graph-fail.md)); `201`
    with it, its `id` (given or made) and `hits: 0`; a bad one is `400` naming the field."""
    fault = request.app[CONTROL].add_fault(await _body(request))
    return web.json_response(fault.to_json(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    """`{"value": [fault, …]}` in the order they are offered requests, each with `hits` (the
    requests it answered or delayed)."""
    return web.json_response(
        {"value": [fault.to_json() for fault in request.app[CONTROL].faults()]}
    )


async def remove_fault(request: web.Request) -> web.Response:
    """Remove one; `204`, or `404` if none has that id."""
    request.app[CONTROL].remove_fault(request.match_info["fault_id"])
    return web.Response(status=204)


async def clear_faults(request: web.Request) -> web.Response:
    """Remove them all; `204`."""
    request.app[CONTROL].clear_faults()
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    """Forget calls, journal and faults (setting those of `--fault` again), stop what is playing,
    restore the start-up time settings; scenarios stay (run-time ones too). An optional body
    `{"scale"?, "step"?}` sets the time as `PUT /_mock/time` does, in the same step (what the
    plugin does before each test); a bad one is `400` and resets nothing."""
    await request.app[SERVICE].reset(await _body(request, allow_empty=True))
    return web.json_response({"status": "reset"})


async def openid_configuration(request: web.Request) -> web.Response:
    """The OpenID configuration a bot's notification-token validation reads first, in both
    spellings Microsoft's libraries ask for (point it here instead of
    `https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration`; see
    [Notifications](notifications.md)); open."""
    return web.json_response(request.app[SIGNING].openid_configuration(origin(request)))


async def openapi_description(request: web.Request) -> web.Response:
    """An OpenAPI 3.1 description of everything mockgraph serves (both Graph versions, `/_mock` but
    the event stream, which does not end, and the identity platform's endpoints with Entra's
    errors), generated from the operation declarations and the control routes, with the Graph
    JSON Schemas as request bodies; feed it to HTTP tools and client generators. Open even with
    `--control-token`."""
    from mockgraph.http.openapi import description

    return web.json_response(description(origin(request)))


async def signing_keys(request: web.Request) -> web.Response:
    """The JWKS: the public keys that verify the tokens notifications carry; open."""
    return web.json_response(request.app[SIGNING].jwks())


# The inspector's files, served as they are: no build step, nothing from the internet.
UI_FILES = {
    "index.html": "text/html",
    "inspector.js": "text/javascript",
    "inspector.css": "text/css",
}
DOOR = "door.html"  # what a browser asking for / gets: links to the inspector and the rest
# The page may load only its own files and speak only to this server, so nothing a bot or a
# scenario wrote (which the page shows) can run or fetch anything.
UI_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@functools.cache
def _ui_text(name: str) -> str:
    return (resources.files("mockgraph.http") / "ui" / name).read_text(encoding="utf-8")


def _ui_response(name: str) -> web.Response:
    return web.Response(
        text=_ui_text(name),
        content_type=UI_FILES.get(name, "text/html"),
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": UI_POLICY},
    )


def _serving(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.Response:
        """The inspector (below): its page, script and styles; open even with `--control-token`, as
        they hold no secret."""
        return _ui_response(name)

    return serve


@dataclass(frozen=True)
class ControlRoute:
    """One control-plane endpoint: the router and the OpenAPI description both read these."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    summary: str
    status: int = 200
    body: Shape | Literal["yaml", "json"] | None = None  # its request body, if it takes one
    query: tuple[str, ...] = ()  # query parameters
    streams: bool = False  # it answers a stream that does not end (not in the description)
    content_type: str = "application/json"  # of what it answers
    open: bool = False  # answered without the --control-token (bots and browsers read it)
    conflicts: bool = False  # it may answer 409: what it asks clashes with a call's state

    @property
    def doc(self) -> str:
        """What it answers, in the docs' words: its handler's docstring, one home for the
        reference table (tools/docs_tables.py) and the OpenAPI description."""
        return " ".join((inspect.getdoc(self.handler) or "").split())


CONTROL_ROUTES = (
    ControlRoute("GET", "/_mock/health", health, "Is mockgraph up?", open=True),
    ControlRoute(
        "GET",
        "/_mock/.well-known/openid-configuration",
        openid_configuration,
        "OpenID config",
        open=True,
    ),
    ControlRoute(
        "GET",
        "/_mock/v1/.well-known/OpenIdConfiguration",
        openid_configuration,
        "The same",
        open=True,
    ),
    ControlRoute("GET", "/_mock/keys", signing_keys, "The JWKS that verifies tokens", open=True),
    ControlRoute(
        "GET",
        "/_mock/ca.pem",
        trusted_certificate,
        "The certificate https is trusted by",
        open=True,
        content_type="application/x-pem-file",
    ),
    ControlRoute("POST", "/_mock/calls", seed_call, "Seed a call", 201, SEED.shape, conflicts=True),
    ControlRoute(
        "POST", "/_mock/calls/incoming", ring, "Ring the bot", 201, RING.shape, conflicts=True
    ),
    ControlRoute("GET", "/_mock/bots", list_bots, "Bots that transfers ring"),
    ControlRoute("PUT", "/_mock/bots/{identity_id}", register_bot, "Add a bot", body=BOT),
    ControlRoute("GET", "/_mock/users", list_users, "Users presence knows"),
    ControlRoute("PUT", "/_mock/users/{user_id}", add_user, "Add a user"),
    ControlRoute("GET", "/_mock/presences", list_presences, "Every known user's presence"),
    ControlRoute("GET", "/_mock/callRecords", list_call_records, "Every call record"),
    ControlRoute("GET", "/_mock/subscriptions", list_subscriptions, "Every subscription"),
    ControlRoute(
        "POST",
        "/_mock/subscriptions/{subscription_id}/lifecycle",
        send_lifecycle,
        "Send a lifecycle notification",
        204,
        LIFECYCLE,
    ),
    ControlRoute("GET", "/_mock/meetings", list_meetings, "Every online meeting"),
    ControlRoute(
        "POST", "/_mock/meetings/{meeting_id}/people", join_meeting, "Join a meeting", 201, JOIN
    ),
    ControlRoute(
        "DELETE",
        "/_mock/meetings/{meeting_id}/people/{person_id}",
        leave_meeting,
        "Leave a meeting",
        204,
    ),
    ControlRoute("GET", "/_mock/calls", list_calls, "Every call"),
    ControlRoute("GET", "/_mock/calls/{call_id}", get_call, "One call"),
    ControlRoute(
        "PUT", "/_mock/calls/{call_id}/scenario", pin_scenario, "Pin a scenario", body=PIN
    ),
    ControlRoute(
        "GET",
        "/_mock/calls/{call_id}/wait",
        wait_for_call,
        "Wait for a state, or a held step",
        query=("state", "waitingStep", "timeout"),
    ),
    ControlRoute(
        "GET",
        "/_mock/calls/{call_id}/notifications",
        wait_for_notifications,
        "Wait for notifications",
        query=("count", "timeout"),
    ),
    ControlRoute("POST", "/_mock/calls/{call_id}/advance", advance, "Release steps", body=ADVANCE),
    ControlRoute(
        "POST",
        "/_mock/calls/{call_id}/tones",
        press_tones,
        "Press keys",
        body=PRESS,
        conflicts=True,
    ),
    ControlRoute(
        "POST", "/_mock/calls/{call_id}/hangup", hang_up, "The far side hangs up", body=HANG_UP
    ),
    ControlRoute(
        "POST", "/_mock/calls/{call_id}/mediaFailure", fail_media, "The call's media fails"
    ),
    ControlRoute(
        "POST", "/_mock/calls/{call_id}/meetingEnded", end_meeting, "The organiser ends it"
    ),
    ControlRoute("POST", "/_mock/calls/{call_id}/participants", add_participant, "Join", 201, JOIN),
    ControlRoute(
        "DELETE",
        "/_mock/calls/{call_id}/participants/{participant_id}",
        remove_participant,
        "Leave",
        204,
    ),
    ControlRoute(
        "POST",
        "/_mock/calls/{call_id}/contentSharingSessions",
        share_content,
        "Share content",
        201,
        SHARE,
    ),
    ControlRoute(
        "GET",
        "/_mock/calls/{call_id}/trace",
        trace,
        "The call's notifications",
        content_type=TRACE_TYPE,
    ),
    ControlRoute("GET", "/_mock/calls/{call_id}/operations", list_operations, "Operations"),
    ControlRoute("GET", "/_mock/calls/{call_id}/operations/{op_id}", get_operation, "One"),
    ControlRoute(
        "GET",
        "/_mock/calls/{call_id}/operations/{op_id}/wait",
        wait_for_operation,
        "Wait for an operation's outcome",
        query=("timeout",),
    ),
    ControlRoute("GET", "/_mock/idle", wait_idle, "Wait until idle", query=("timeout",)),
    ControlRoute("GET", "/_mock/time", get_time, "Time settings"),
    ControlRoute("PUT", "/_mock/time", set_time, "Set time", body=TIME),
    ControlRoute("GET", "/_mock/scenarios", list_scenarios, "Loaded scenarios"),
    ControlRoute("POST", "/_mock/scenarios", load_scenarios, "Add scenarios", 201, "yaml"),
    ControlRoute("GET", "/_mock/scenarios/{name}", get_scenario, "One scenario, with its steps"),
    ControlRoute(
        "GET", "/_mock/journal", journal, "The journal", query=("callId", "subscriptionId")
    ),
    ControlRoute("GET", "/_mock/apps", list_apps, "Apps the identity platform knows"),
    ControlRoute("PUT", "/_mock/apps/{client_id}", register_app, "Register an app", body=APP),
    ControlRoute("DELETE", "/_mock/apps/{client_id}", remove_app, "Forget an app", 204),
    ControlRoute("POST", "/_mock/faults", add_fault, "Set a fault on Graph requests", 201, FAULT),
    ControlRoute("GET", "/_mock/faults", list_faults, "The faults set"),
    ControlRoute("DELETE", "/_mock/faults", clear_faults, "Clear every fault", 204),
    ControlRoute("DELETE", "/_mock/faults/{fault_id}", remove_fault, "Clear one fault", 204),
    ControlRoute("POST", "/_mock/reset", reset, "Reset", body=TIME),
    ControlRoute("GET", "/_mock/openapi.json", openapi_description, "This description", open=True),
    ControlRoute(
        "GET", "/_mock/events", events, "Calls and the journal as they happen", streams=True
    ),
    # The page holds no secret: it asks for the token and sends it with each request.
    *(
        ControlRoute(
            "GET",
            "/_mock/ui" if name == "index.html" else f"/_mock/ui/{name}",
            _serving(name),
            "The inspector" if name == "index.html" else f"The inspector's {name}",
            content_type=content_type,
            open=True,
        )
        for name, content_type in UI_FILES.items()
    ),
    ControlRoute(
        "GET",
        "/_mock/ui/",
        _serving("index.html"),
        "The inspector (with a slash)",
        content_type="text/html",
        open=True,
    ),
)


def door(request: web.Request) -> web.Response | None:
    """The page a browser gets for / (or /_mock): links to the inspector, the OpenAPI
    description and the health; None for any other client, which gets Graph's answer."""
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return _ui_response(DOOR)
    return None


def add_control_routes(app: web.Application) -> None:
    for route in CONTROL_ROUTES:
        app.router.add_route(
            route.method, route.path, control_endpoint(route.handler, open_=route.open)
        )
