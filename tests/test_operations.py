"""The operation table: one checking order for every operation, over HTTP and in the domain
without HTTP, the state machine, and the README's tables checked against the declarations."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from mockgraph.calling.calls import CALL_STATES, Call
from mockgraph.calling.operations import (
    KEEP_ALIVE,
    OPERATIONS,
    Form,
    Operation,
    scenario_operations,
)
from mockgraph.calling.service import CallingService
from mockgraph.clock import ManualClock
from mockgraph.config import Settings
from mockgraph.errors import GraphError
from mockgraph.scenarios.loader import load_library, scenario_schema
from mockgraph.testing import MockGraph
from tests.docs import DOCS

README = DOCS  # the README and the docs pages, where the examples live
BY_NAME = {operation.name: operation for operation in OPERATIONS}
LIBRARY = load_library([])
SERVED = [operation for operation in OPERATIONS if operation.route]
MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
APP_HOSTED = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"}
MEETING = {"meetingInfo": {"joinMeetingId": "1"}}
PROMPT = {"@odata.type": "#microsoft.graph.mediaPrompt", "mediaInfo": {"uri": "https://x/a.wav"}}
USER = {"identity": {"user": {"id": "u"}}}
UNKNOWN_CALL = "no-such-call"


@dataclass(frozen=True)
class Case:
    """A request that passes every check of its operation, and how to break each layer."""

    body: dict[str, Any] | None  # None: the operation reads no body
    state: str = "established"  # of the call the request is about
    schema_break: dict[str, Any] = field(default_factory=dict)  # a key of the wrong type
    rule_break: dict[str, Any] | None = None  # a body that breaks one of the operation's rules
    rule_fragment: str = ""
    bad_state: str = "incoming"
    seed: dict[str, Any] = field(default_factory=dict)  # more of the call's spec
    rule_break_seed: dict[str, Any] | None = None  # a call that breaks one of its rules
    rule_break_call: Callable[[Call], None] | None = None  # or a change to the call that does
    rule_status: int = 400  # what breaking the rule answers (400, or 409 for the call's state)


CASES = {
    "transfer": Case(
        {"transferTarget": USER},
        schema_break={"clientContext": 5},
        rule_break={"transferTarget": {"identity": {"phone": {"id": "5550100"}}}},
        rule_fragment="E.164",
    ),
    "answer": Case(
        {"mediaConfig": MEDIA},
        state="incoming",
        schema_break={"acceptedModalities": 5},
        rule_break={"mediaConfig": {"@odata.type": "#microsoft.graph.appHostedMediaConfig"}},
        rule_fragment="'mediaConfig.blob' is required",
        bad_state="established",
    ),
    "reject": Case(
        {"reason": "busy"},
        state="incoming",
        schema_break={"reason": 5},
        rule_break={"reason": "busy", "callbackUri": "bot.example/calls"},
        rule_fragment="must be an http:// or https:// URL",
        bad_state="established",
    ),
    "redirect": Case(
        {"targets": [USER]},
        state="incoming",
        schema_break={"callbackUri": 5},
        rule_break={"targets": [USER], "timeout": 5},
        rule_fragment="15 to 90 seconds",
        bad_state="established",
    ),
    "create": Case(
        {"callbackUri": "http://127.0.0.1:9/cb", "mediaConfig": MEDIA, "targets": [USER]},
        schema_break={"subject": 5},
        rule_break={"callbackUri": "http://127.0.0.1:9/cb", "targets": [USER]},
        rule_fragment="'mediaConfig' is required",
    ),
    "get": Case(None),
    "delete": Case(None),
    "keepAlive": Case(None),
    "playPrompt": Case(
        {"prompts": [PROMPT]},
        schema_break={"clientContext": 5},
        rule_break={"prompts": [PROMPT] * 21},
        rule_fragment="at most 20",
    ),
    "recordResponse": Case(
        {"maxRecordDurationInSeconds": 10},
        schema_break={"playBeep": "yes"},
        rule_break={"maxRecordDurationInSeconds": 500},
        rule_fragment="1 to 120 seconds",
    ),
    "subscribeToTone": Case(
        {"clientContext": "c"},
        schema_break={"clientContext": "x" * 257},
        rule_break_seed={"mediaConfig": APP_HOSTED},
        rule_fragment="serviceHostedMediaConfig",
    ),
    "cancelMediaProcessing": Case({"clientContext": "c"}, schema_break={"clientContext": 5}),
    "sendDtmfTones": Case(
        {"tones": ["tone1", "pound"]},
        schema_break={"delayBetweenTonesMs": "soon"},
        rule_break={"tones": []},
        rule_fragment="at least one tone",
    ),
    "updateRecordingStatus": Case({"status": "recording"}, schema_break={"status": "maybe"}),
    "changeScreenSharingRole": Case(
        {"role": "viewer"},
        seed={"meetingInfo": {"joinMeetingId": "1"}, "mediaConfig": APP_HOSTED},
        schema_break={"role": "boss"},
        rule_break_seed={"mediaConfig": APP_HOSTED},
        rule_fragment="only supported for group calls",
    ),
    "getOperation": Case(None),
    "mute": Case(
        {"clientContext": "c"},
        seed=MEETING,
        schema_break={"clientContext": 5},
        rule_break_seed={},
        rule_fragment="only supported for group calls",
    ),
    "unmute": Case(
        {"clientContext": "c"},
        seed=MEETING,
        schema_break={"clientContext": 5},
        rule_break_seed={},
        rule_fragment="only supported for group calls",
    ),
    "listParticipants": Case(None),
    "getParticipant": Case(None),
    "invite": Case(
        {"participants": [USER]},
        seed=MEETING,
        schema_break={"clientContext": 5},
        rule_break={"participants": [USER] * 6},
        rule_fragment="at most 5",
    ),
    "muteParticipant": Case(
        {},
        seed=MEETING,
        schema_break={"clientContext": 5},
        rule_break_seed={},
        rule_fragment="only supported for group calls",
    ),
    "startHoldMusic": Case(
        {},
        schema_break={"clientContext": 5},
        rule_break_call=lambda call: setattr(
            call.admit({"user": {"id": "held"}}), "on_hold_music", True
        ),
        rule_fragment="already on hold",
        rule_status=409,
    ),
    "stopHoldMusic": Case({}, schema_break={"clientContext": 5}),
    "removeParticipant": Case(None),
    "createAudioRoutingGroup": Case(
        {"id": "g-new", "routingMode": "multicast", "sources": ["p"]},
        schema_break={"routingMode": "broadcast"},
        rule_break={"routingMode": "oneToOne", "sources": ["p"]},
        rule_fragment="exactly one receiver",
    ),
    "listAudioRoutingGroups": Case(None),
    "getAudioRoutingGroup": Case(None),
    "updateAudioRoutingGroup": Case(
        {"receivers": ["q"]},
        schema_break={"sources": "p"},
        rule_break={"sources": ["a", "b"]},
        rule_fragment="exactly one source",
    ),
    "deleteAudioRoutingGroup": Case(None),
    "addLargeGalleryView": Case(
        {"clientContext": "c"},
        seed=MEETING,
        schema_break={"clientContext": 5},
        rule_break_seed={},
        rule_fragment="only supported for group calls",
    ),
    "listContentSharingSessions": Case(None),
    "getContentSharingSession": Case(None),
    "logTeleconferenceDeviceQuality": Case(
        {"quality": {"callChainId": "c", "mediaLegId": "m", "participantId": "p"}},
        schema_break={"quality": 5},
    ),
}


@dataclass
class Attempt:
    """One request, as the layers break it."""

    operation: Operation
    case: Case
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    state: str
    call_id: str = "c-1"
    oversize: bool = False
    seed: dict[str, Any] = field(default_factory=dict)
    after_seed: Callable[[Call], None] | None = None

    def payload(self) -> io.BytesIO | None:
        if self.body is None:
            return None
        raw = json.dumps(self.body).encode()
        return io.BytesIO(raw + b" " * (2 * 1024 * 1024) if self.oversize else raw)


def _auth(a: Attempt) -> None:
    del a.headers["Authorization"]


def _route(a: Attempt) -> None:
    a.method = "PUT"  # no Graph route takes PUT


def _content_type(a: Attempt) -> None:
    a.headers["Content-Type"] = "text/plain"


def _size(a: Attempt) -> None:
    a.oversize = True


def _schema(a: Attempt) -> None:
    a.body = {**(a.body or {}), **a.case.schema_break}


def _call(a: Attempt) -> None:
    a.call_id = UNKNOWN_CALL


def _state(a: Attempt) -> None:
    a.state = a.case.bad_state


def _rules(a: Attempt) -> None:
    if a.case.rule_break_call is not None:
        a.after_seed = a.case.rule_break_call
        return
    if a.case.rule_break_seed is not None:
        a.seed = dict(a.case.rule_break_seed)
        return
    assert a.case.rule_break is not None
    already = {k: v for k, v in (a.body or {}).items() if k not in (a.case.body or {})}
    a.body = {**a.case.rule_break, **already}


@dataclass(frozen=True)
class Layer:
    order: int
    name: str
    status: int
    applies: Callable[[Operation], bool]
    breaks: Callable[[Attempt], None]
    fragment: Callable[[Case], str] = lambda case: ""
    http_only: bool = False

    def expected(self, case: Case) -> int:
        return case.rule_status if self.name == "rules" else self.status


LAYERS = (
    Layer(1, "authentication", 401, lambda op: True, _auth, http_only=True),
    Layer(2, "route and method", 405, lambda op: True, _route, http_only=True),
    Layer(3, "content type", 415, lambda op: op.request is not None, _content_type, http_only=True),
    Layer(4, "size", 413, lambda op: op.request is not None, _size, http_only=True),
    Layer(
        5,
        "JSON and schema",
        400,
        lambda op: op.request is not None,
        _schema,
        lambda case: f"'{next(iter(case.schema_break))}'",
    ),
    Layer(6, "call exists", 404, lambda op: op.on_call, _call, lambda case: "Call not found"),
    Layer(7, "state", 409, lambda op: op.allowed_from is not None and op.on_call, _state),
    Layer(8, "rules", 400, lambda op: bool(op.rules), _rules, lambda case: case.rule_fragment),
)


def attempt(operation: Operation) -> Attempt:
    case = CASES[operation.name]
    assert operation.route is not None
    form = operation.route.forms()[0]
    return Attempt(
        operation,
        case,
        form.method,
        form.path,
        {"Authorization": "Bearer t", "Content-Type": "application/json"},
        None if case.body is None else dict(case.body),
        case.state,
        seed=dict(case.seed),
    )


def route_shape(operation: Operation) -> tuple[str, str, tuple[str, ...]]:
    """What the HTTP layer can tell apart: the method, the path with its ids and action named
    alike, and which layers apply."""
    assert operation.route is not None
    path = re.sub(r"\{[^}]+\}", "{}", operation.route.path)
    if operation.route.action:
        path = path.rsplit("/", 1)[0] + "/{action}"
    layers = tuple(layer.name for layer in LAYERS if layer.applies(operation))
    return operation.route.method, path, layers


# The HTTP layer is one handler for every operation: the pairs run over HTTP on one operation
# of each route shape (21 of the 34), and on every operation in the domain, where the rules are.
SAMPLE = list({route_shape(operation): operation for operation in reversed(SERVED)}.values())


def pairs(*, http: bool) -> list[Any]:
    found = []
    for operation in SAMPLE if http else SERVED:
        layers = [layer for layer in LAYERS if layer.applies(operation)]
        if not http:
            layers = [layer for layer in layers if not layer.http_only]
        for first, second in itertools.combinations(layers, 2):
            found.append(
                pytest.param(
                    operation, first, second, id=f"{operation.name}-{first.name}+{second.name}"
                )
            )
    return found


def test_every_served_operation_has_a_case() -> None:
    assert {op.name for op in SERVED} == set(CASES)


# One server for the module's HTTP tests (reset before each request): over a hundred pairs.
ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[MockGraph]:
    async with MockGraph(time_scale=0, callback_url="http://127.0.0.1:9/cb") as graph:
        yield graph


def prepare(calling: CallingService, a: Attempt) -> tuple[str, str | None]:
    """Seed the attempt's call; the path it requests, with what the route names besides the
    call (one the call has: a tone subscription, a participant, a group, a session), and that
    id."""
    spec = {"source": {"identity": {"user": {"id": "caller"}}}, **a.seed}
    calling.control.seed_call({"id": "c-1", "state": a.state, "mediaConfig": MEDIA, **spec})
    path = a.path.replace("{id}", a.call_id)
    call = calling.control.call("c-1")
    item: str | None = None
    if a.after_seed is not None:
        a.after_seed(call)
    known = a.call_id != UNKNOWN_CALL and not call.ended
    if "{opId}" in path:
        found = "no-such-operation"
        if known and a.state == "established":
            outcome = calling.graph.perform(BY_NAME["subscribeToTone"], "v1.0", "c-1", {})
            assert outcome.body is not None
            found = str(outcome.body["id"])
        path, item = path.replace("{opId}", found), found
    if "{participantId}" in path:
        found = next(iter(call.participants)) if known else "no-such-participant"
        path, item = path.replace("{participantId}", found), found
    if "{groupId}" in path:
        if known:
            call.keep_routing_group({"id": "g-1", "routingMode": "multicast", "sources": ["p"]})
        path, item = path.replace("{groupId}", "g-1"), "g-1"
    if "{sessionId}" in path:
        if known:
            call.share_content("s-1")
        path, item = path.replace("{sessionId}", "s-1"), "s-1"
    return path, item


async def send(graph: MockGraph, a: Attempt) -> tuple[int, str]:
    await graph.reset()
    path, _ = prepare(graph.backend, a)
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            a.method,
            graph.url + path,
            data=a.payload(),
            headers=a.headers,
            skip_auto_headers=["Content-Type"],
        ) as response,
    ):
        body = await response.json() if response.status >= 400 else {}
        return response.status, body.get("error", {}).get("message", "")


@ON_MODULE_LOOP
@pytest.mark.parametrize("operation, first, second", pairs(http=True))
async def test_the_earlier_layer_wins_over_http(
    server: MockGraph, operation: Operation, first: Layer, second: Layer
) -> None:
    broken = attempt(operation)
    second.breaks(broken)
    first.breaks(broken)
    status, message = await send(server, broken)
    assert status == first.expected(broken.case), message
    assert first.fragment(broken.case) in message


@ON_MODULE_LOOP
@pytest.mark.parametrize("operation", SERVED, ids=lambda op: op.name)
async def test_each_layer_alone_is_what_fails(server: MockGraph, operation: Operation) -> None:
    """Each breaker breaks only its own layer: a test of the pairs that can fail."""
    status, message = await send(server, attempt(operation))
    assert status == operation.success.status, message
    for layer in LAYERS:
        if layer.applies(operation):
            broken = attempt(operation)
            layer.breaks(broken)
            status, message = await send(server, broken)
            expected = (layer.expected(broken.case), True)
            assert (status, layer.fragment(broken.case) in message) == expected


FORMS = [
    pytest.param(operation, form, id=f"{form.method} {form.path}")
    for operation in SERVED
    if operation.route is not None
    for form in operation.route.forms()
]


@ON_MODULE_LOOP
@pytest.mark.parametrize("operation, form", FORMS)
async def test_every_served_form_answers_as_the_documented_one(
    server: MockGraph, operation: Operation, form: Form
) -> None:
    """Each form real clients send (the /app trees, the namespace-qualified actions), derived
    from the declarations, is the operation itself: its success, then its own 404."""
    request = replace(attempt(operation), method=form.method, path=form.path)
    status, message = await send(server, request)
    assert status == operation.success.status, message
    if operation.on_call:
        status, message = await send(server, replace(request, call_id=UNKNOWN_CALL))
        assert (status, message.startswith("Call not found")) == (404, True), message


@ON_MODULE_LOOP
async def test_the_namespace_is_read_in_any_case(server: MockGraph) -> None:
    # microsoft-graph-comms-samples issue 81 logs Microsoft.Graph.changeScreenSharingRole.
    for path in (
        "/v1.0/communications/calls/{id}/Microsoft.Graph.keepAlive",
        "/beta/app/calls/{id}/MICROSOFT.GRAPH.keepAlive",
    ):
        status, message = await send(server, replace(attempt(KEEP_ALIVE), path=path))
        assert status == 200, message


def test_the_forms_are_the_documented_ones_and_the_sdks() -> None:
    """The v1.0 /app form only where Graph's v1.0 pages show it, the beta SDK's tree for all."""
    v1_app = sorted(op.name for op in SERVED if op.route and op.route.v1_app)
    assert v1_app == sorted(
        [
            "sendDtmfTones",
            "addLargeGalleryView",
            "getOperation",
            "createAudioRoutingGroup",
            "listAudioRoutingGroups",
            "getAudioRoutingGroup",
            "updateAudioRoutingGroup",
            "deleteAudioRoutingGroup",
        ]
    )
    transfer = {form.path for form in BY_NAME["transfer"].route.forms()}  # type: ignore[union-attr]
    assert transfer == {
        "/v1.0/communications/calls/{id}/transfer",
        "/beta/communications/calls/{id}/transfer",
        "/beta/app/calls/{id}/transfer",
        "/v1.0/communications/calls/{id}/microsoft.graph.transfer",
        "/beta/communications/calls/{id}/microsoft.graph.transfer",
        "/beta/app/calls/{id}/microsoft.graph.transfer",
    }
    invite = {form.path for form in BY_NAME["invite"].route.forms()}  # type: ignore[union-attr]
    assert "/beta/app/calls/{id}/participants/microsoft.graph.invite" in invite


# --- the same order in the domain, without HTTP -------------------------------------------------


@pytest.fixture
async def service() -> AsyncIterator[CallingService]:
    settings = Settings(callback_url="http://127.0.0.1:9/cb", grace_period=0)
    calling = CallingService(load_library([]), settings, clock=ManualClock())
    await calling.start()
    yield calling
    await calling.close()


def perform(calling: CallingService, a: Attempt) -> GraphError | None:
    _, item = prepare(calling, a)
    try:
        calling.graph.perform(a.operation, "v1.0", a.call_id, a.body, item_id=item)
    except GraphError as error:
        return error
    return None


@pytest.mark.parametrize("operation, first, second", pairs(http=False))
async def test_the_earlier_layer_wins_in_the_domain(
    service: CallingService, operation: Operation, first: Layer, second: Layer
) -> None:
    broken = attempt(operation)
    second.breaks(broken)
    first.breaks(broken)
    error = perform(service, broken)
    assert error is not None and error.status == first.expected(broken.case)
    assert first.fragment(broken.case) in error.message


# Which states each operation acts on, from Graph's pages (graph-calling-facts.md 2.3):
# answer, reject and redirect an incoming call "that hasn't been answered or rejected yet";
# transfer "an active call"; delete hangs up a call at any point after it was answered (an
# incoming one is rejected instead); the media and participant operations act on an active
# call. Written here, not read from the declarations it checks.
LIVE = frozenset(CALL_STATES) - {"terminated", "unknownFutureValue"}
ACTIVE = frozenset({"established"})
DOCUMENTED_STATES: dict[str, frozenset[str]] = {
    "answer": frozenset({"incoming"}),
    "reject": frozenset({"incoming"}),
    "redirect": frozenset({"incoming"}),
    "transfer": ACTIVE,
    "delete": LIVE - {"incoming"},
    **dict.fromkeys(
        [
            "playPrompt",
            "recordResponse",
            "subscribeToTone",
            "cancelMediaProcessing",
            "sendDtmfTones",
            "updateRecordingStatus",
            "changeScreenSharingRole",
            "mute",
            "unmute",
            "invite",
            "muteParticipant",
            "startHoldMusic",
            "stopHoldMusic",
            "addLargeGalleryView",
        ],
        ACTIVE,
    ),
    # keepAlive: 200 while the call lives, 404 once it has ended; get reads any live call.
    "keepAlive": LIVE,
    "get": LIVE,
}


@pytest.mark.parametrize(
    "name, state",
    [(name, state) for name in DOCUMENTED_STATES for state in sorted(LIVE | {"terminated"})],
    ids=str,
)
async def test_the_state_machine(service: CallingService, name: str, state: str) -> None:
    error = perform(service, replace(attempt(BY_NAME[name]), state=state))
    if state == "terminated":
        assert error is not None and error.status == 404
    elif state in DOCUMENTED_STATES[name]:
        assert error is None, error
    else:
        assert error is not None and error.status == 409 and f"it is {state}" in error.message


async def test_a_refused_operation_changes_nothing(service: CallingService) -> None:
    a = attempt(BY_NAME["transfer"])
    _rules(a)
    assert perform(service, a) is not None
    call = service.control.call("c-1")
    assert (call.running_operation, call.state, len(call.history)) == (None, "established", 1)
    assert service.control.journal()["value"] == []


async def test_a_pstn_transfer_without_an_instance_plays_its_fallback(
    service: CallingService,
) -> None:
    service.control.seed_call({"id": "c-2", "applicationInstance": False})
    body = {"transferTarget": {"identity": {"phone": {"id": "+12345678901"}}}}
    service.graph.perform(BY_NAME["transfer"], "v1.0", "c-2", body)
    clock = service.clock
    assert isinstance(clock, ManualClock)
    assert service.control.journal("c-2")["value"] == []  # the first step is 50 ms away
    await clock.advance(0.2)
    records = service.control.journal("c-2")["value"]
    assert [r["scenario"] for r in records] == ["transfer-pstn-without-instance"] * 2
    assert service.control.call("c-2").properties["resultInfo"]["subcode"] == 7000


def test_every_scenario_operation_is_in_the_scenario_schema_and_the_library() -> None:
    declared = scenario_schema()["properties"]["operation"]["enum"]
    assert sorted(declared) == sorted(scenario_operations())
    library = load_library([])
    for operation in OPERATIONS:
        if operation.plays:  # a built-in plays for a request that names nothing special
            chosen = library.select(operation.name, {})
            assert chosen is not None and chosen.default, operation.name
