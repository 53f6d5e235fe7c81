"""The call state machine, driven by Hypothesis in the domain on the manual clock, against a
model written here from Graph's docs (not from mockgraph's declarations): which state each
operation acts on, what it answers, and where the call ends up once its notifications played.

Sources: v1.0 call-answer, call-reject, call-redirect (incoming calls only: "an incoming call
that hasn't been answered or rejected yet"); call-transfer (an established call); call-delete
(hang up an established call; an incoming one is rejected instead); call-keepalive (200 while
the call lives, 404 once it has ended; a call with no keepAlive for 45 minutes since the last
one or its start ends: here 30 s, as --keepalive-timeout sets it); call-playprompt and
call-subscribetotone (an established call, 200 with the operation); Graph forgets a call once
it has ended (404); a call nobody answers ends after the ring time-out.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from mockgraph.calling.operations import OPERATIONS
from mockgraph.calling.service import CallingService
from mockgraph.clock import ManualClock
from mockgraph.config import Settings
from mockgraph.errors import GraphError
from mockgraph.scenarios.loader import load_library

MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
PROMPT = {"@odata.type": "#microsoft.graph.mediaPrompt", "mediaInfo": {"uri": "https://x/a.wav"}}
RING_TIMEOUT = 15.0
KEEP_ALIVE = 30.0  # Graph's 45 minutes, shortened so that a run of steps reaches it
# Long enough for every default scenario to play out (the longest, a prompt, takes 1 s).
SETTLED = 2.0

# What Graph's docs say each operation acts on, answers, and leaves the call in. None: the
# state it was in.
MODEL: dict[str, tuple[frozenset[str], int, str | None]] = {
    "answer": (frozenset({"incoming"}), 202, "established"),
    "reject": (frozenset({"incoming"}), 202, "terminated"),
    "redirect": (frozenset({"incoming"}), 202, "terminated"),
    "transfer": (frozenset({"established"}), 202, "terminated"),
    "delete": (frozenset({"established"}), 204, "terminated"),
    "keepAlive": (frozenset({"incoming", "established"}), 200, None),
    "playPrompt": (frozenset({"established"}), 200, None),
    "subscribeToTone": (frozenset({"established"}), 200, None),
}
BODIES: dict[str, dict[str, Any] | None] = {
    "answer": {"mediaConfig": MEDIA},
    "reject": {"reason": "busy"},
    "redirect": {"targets": [{"identity": {"user": {"id": "elsewhere"}}}]},
    "transfer": {"transferTarget": {"identity": {"user": {"id": "alice"}}}},
    "delete": None,
    "keepAlive": None,
    "playPrompt": {"prompts": [PROMPT]},
    "subscribeToTone": {},
}
BY_NAME = {operation.name: operation for operation in OPERATIONS}


class CallStateMachine(RuleBasedStateMachine):
    calls = Bundle("calls")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        configured = Settings(
            callback_url="http://127.0.0.1:9/cb",
            delivery_attempts=1,
            ring_timeout=RING_TIMEOUT,
            keepalive_timeout=KEEP_ALIVE,
            grace_period=0,
        )
        self.service = CallingService(load_library([]), configured, clock=self.clock)
        self.run(self.service.start())
        self.model: dict[str, str] = {}  # call id -> the state Graph's docs lead to
        self.deadlines: dict[str, float] = {}  # call id -> when its ringing times out
        self.kept: dict[str, float] = {}  # call id -> its start, or its last keepAlive
        self.now = 0.0
        self.ids = (f"c-{n}" for n in itertools.count())

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def within(self, act: Any, *args: Any) -> Any:
        """``act(*args)`` on the service's loop, as a request handler calls it."""

        async def acting() -> Any:
            return act(*args)

        return self.run(acting())

    def teardown(self) -> None:
        self.run(self.service.close())
        self.loop.close()

    def settle(self, seconds: float = SETTLED) -> None:
        """Let ``seconds`` pass: what was due plays, and a call rung RING_TIMEOUT ago that is
        still incoming has ended, as has one not kept alive for KEEP_ALIVE."""
        self.run(self.clock.advance(seconds))
        self.now += seconds
        for call_id, deadline in list(self.deadlines.items()):
            if self.now >= deadline:
                del self.deadlines[call_id]
                if self.model[call_id] == "incoming":
                    self.model[call_id] = "terminated"
        for call_id, kept in list(self.kept.items()):
            if self.model[call_id] == "terminated":
                del self.kept[call_id]
            elif self.now >= kept + KEEP_ALIVE:
                del self.kept[call_id]
                self.model[call_id] = "terminated"

    @initialize()
    def quiet(self) -> None:
        self.service.signing.prepare()

    @rule(target=calls, kind=st.sampled_from(["rung", "seeded", "created"]))
    def new_call(self, kind: str) -> str:
        call_id = next(self.ids)
        started = self.now
        if kind == "rung":
            self.within(self.service.control.ring, {"id": call_id})
            self.model[call_id] = "incoming"
            self.deadlines[call_id] = self.now + RING_TIMEOUT
        elif kind == "seeded":
            self.within(self.service.control.seed_call, {"id": call_id})
            self.model[call_id] = "established"
        else:
            body = {
                "callbackUri": "http://127.0.0.1:9/cb",
                "mediaConfig": MEDIA,
                "targets": [{"identity": {"user": {"id": "callee"}}}],
            }
            created = self.within(self.service.graph.perform, BY_NAME["create"], "v1.0", None, body)
            assert created.body is not None and created.body["state"] == "establishing"
            call_id = str(created.body["id"])
            self.model[call_id] = "established"
            self.kept[call_id] = started
            self.settle()
            return call_id
        self.kept[call_id] = started
        return call_id

    @rule(call_id=calls, name=st.sampled_from(sorted(MODEL)))
    def operate(self, call_id: str, name: str) -> None:
        allowed, success, leads_to = MODEL[name]
        state = self.model[call_id]
        if state == "terminated":
            expected = 404
        elif state not in allowed:
            expected = 409
        else:
            expected = success
        try:
            self.within(self.service.graph.perform, BY_NAME[name], "v1.0", call_id, BODIES[name])
            status = success
        except GraphError as error:
            status = error.status
        assert status == expected, f"{name} of a call that is {state}: {status}"
        if status == success and leads_to is not None:
            self.model[call_id] = leads_to
        if status == success and name == "keepAlive":
            self.kept[call_id] = self.now
        self.settle()

    @rule(seconds=st.sampled_from([1.0, 5.0, RING_TIMEOUT]))
    def time_passes(self, seconds: float) -> None:
        self.settle(seconds)

    @invariant()
    def each_call_is_where_the_docs_lead(self) -> None:
        for call_id, expected in self.model.items():
            state = self.service.control.call(call_id).state
            assert state == expected, f"call {call_id} is {state}; Graph's docs lead to {expected}"


CallStateMachine.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_call_state_machine_follows_graphs_docs = CallStateMachine.TestCase
