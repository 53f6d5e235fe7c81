"""Subscriptions' lives, driven by Hypothesis in the domain on the manual clock, against a
model written here from Graph's pages: a subscription exists from its create until it is
deleted or its expirationDateTime passes (Graph then deletes it); a renewal (PATCH) moves
that end, within the resource's longest life (4230 minutes for call records, 60 for
presence) from now, else 400; one with a lifecycle URL is asked to reauthorize before its
end, and a reauthorize or a renewal answers that. Sources: subscription-post-subscriptions,
subscription-update, subscription-delete, change-notifications-lifecycle-events,
changenotifications-for-callrecords, changenotifications-for-presence.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from mockgraph.clock import ManualClock
from mockgraph.errors import GraphError
from mockgraph.subscriptions.subscriptions import Asked, Subscriptions

MINUTE = 60.0
# Lives and waits mostly of minutes, sometimes of days: a run must land between a reminder
# and an end as often as past both.
SPANS = st.one_of(st.integers(min_value=1, max_value=70), st.integers(min_value=1, max_value=5000))
WAITS = st.one_of(st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=3000))
LONGEST = {"/communications/callRecords": 4230, "/communications/presences/ann": 60}
CHANGE = {"/communications/callRecords": "created", "/communications/presences/ann": "updated"}
# How long before its end mockgraph asks a subscription to reauthorize (Graph gives no figure:
# docs/explanation/where-graph-is-silent.md, "Subscriptions").
REMINDED_BEFORE = 10 * MINUTE


class Lifetimes(RuleBasedStateMachine):
    subscriptions = Bundle("subscriptions")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock(start=0.0)
        self.asked_to_reauthorize: list[str] = []

        async def shake_hands(url: str) -> str | None:
            return None

        def post(subscription_id: str, url: str, body: Any, event: str | None) -> None:
            if event == "reauthorizationRequired":
                self.asked_to_reauthorize.append(subscription_id)

        self.domain = Subscriptions(
            self.clock, validate=shake_hands, post=post, tenant_id="t", app_id="a"
        )
        self.ends: dict[str, float] = {}  # id -> when it ends, on the wall clock
        self.resources: dict[str, str] = {}  # id -> its resource
        self.remind_at: dict[str, float] = {}  # id -> when it is to be told to reauthorize
        self.reminded: set[str] = set()  # told to reauthorize, not answered since

    def teardown(self) -> None:
        self.loop.close()

    def at(self, minutes: float) -> str:
        moment = datetime.fromtimestamp(self.clock.wall() + minutes * MINUTE, UTC)
        return moment.isoformat()

    def plan(self, subscription_id: str, minutes: int, lifecycle: bool) -> None:
        self.ends[subscription_id] = self.clock.wall() + minutes * MINUTE
        self.reminded.discard(subscription_id)
        if lifecycle:
            self.remind_at[subscription_id] = self.ends[subscription_id] - REMINDED_BEFORE

    def forget(self, subscription_id: str) -> None:
        del self.ends[subscription_id]
        self.remind_at.pop(subscription_id, None)
        self.reminded.discard(subscription_id)

    @rule(
        target=subscriptions,
        resource=st.sampled_from(sorted(LONGEST)),
        minutes=SPANS,
        lifecycle=st.booleans(),
    )
    def create(self, resource: str, minutes: int, lifecycle: bool) -> str:
        body = {
            "changeType": CHANGE[resource],
            "resource": resource,
            "notificationUrl": "https://bot.example/n",
            "expirationDateTime": self.at(minutes),
        }
        if lifecycle:
            body["lifecycleNotificationUrl"] = "https://bot.example/l"
        try:
            made = self.loop.run_until_complete(self.domain.create(Asked(body=body)))
        except GraphError as error:
            assert minutes > LONGEST[resource], f"refused within the longest life: {error}"
            assert error.status == 400
            return "refused"
        assert minutes <= LONGEST[resource], "made past the resource's longest life"
        self.resources[made["id"]] = resource
        self.plan(made["id"], minutes, lifecycle)
        return str(made["id"])

    @rule(subscription=subscriptions, minutes=SPANS)
    def renew(self, subscription: str, minutes: int) -> None:
        asked = Asked(subscription, body={"expirationDateTime": self.at(minutes)})
        try:
            self.loop.run_until_complete(self.domain.update(asked))
        except GraphError as error:
            if subscription not in self.ends:
                assert error.status == 404
                return
            assert minutes > LONGEST[self.resources[subscription]] and error.status == 400
            return
        assert subscription in self.ends, "a gone subscription was renewed"
        assert minutes <= LONGEST[self.resources[subscription]], "renewed past the longest life"
        self.plan(subscription, minutes, subscription in self.remind_at)

    @rule(subscription=subscriptions)
    def reauthorize(self, subscription: str) -> None:
        try:
            self.domain.reauthorize(Asked(subscription))
        except GraphError as error:
            assert subscription not in self.ends and error.status == 404
            return
        self.reminded.discard(subscription)

    @rule(subscription=subscriptions)
    def delete(self, subscription: str) -> None:
        try:
            self.domain.delete(Asked(subscription))
        except GraphError as error:
            assert subscription not in self.ends and error.status == 404
            return
        assert subscription in self.ends, "a gone subscription was deleted"
        self.forget(subscription)

    @precondition(lambda self: bool(self.ends))
    @rule(minutes=WAITS)
    def wait(self, minutes: int) -> None:
        # 7 s past the minute: no wait of a run ends just as a subscription's end or its
        # reminder falls due (those are whole minutes after a step), so the model need not
        # decide which comes first at the same instant.
        self.loop.run_until_complete(self.clock.advance(minutes * MINUTE + 7))
        now = self.clock.wall()
        for subscription, remind_at in list(self.remind_at.items()):
            if remind_at <= now:  # told once, when it falls due
                del self.remind_at[subscription]
                self.reminded.add(subscription)
        for subscription, end in list(self.ends.items()):
            if end <= now:
                self.forget(subscription)

    @invariant()
    def the_subscriptions_are_the_models(self) -> None:
        listed = {s["id"] for s in self.domain.find(Asked())}
        assert listed == set(self.ends)

    @invariant()
    def those_asked_to_reauthorize_are_the_models(self) -> None:
        flagged = {s["id"] for s in self.domain.known() if s["needsReauthorization"]}
        assert flagged == self.reminded


Lifetimes.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_subscriptions_live_as_graphs_pages_say = Lifetimes.TestCase
