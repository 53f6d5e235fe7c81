"""Playing a scenario: wait for each step's time, fill in the notification, send it.

Steps are scheduled against the moment the operation was accepted (``after`` adds up), so a
slow step does not push every later one back. A step changes the call's state when it goes out,
before delivery, as Graph's own state changes whether or not the bot is listening; a fault
(``drop``, ``outOfOrder``, ``duplicate``) changes only what the bot receives, never that truth.

Time can be controlled: ``time_scale`` multiplies every pause (0 collapses them), and in step
mode each step, once due, also waits until the test releases it with ``advance(call_id)``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgraph.calling.calls import Call, CallRegistry
from mockgraph.clock import Clock, Timer
from mockgraph.delivery.notifier import Notifier
from mockgraph.ids import new_id
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.scenarios.model import Scenario, Step
from mockgraph.scenarios.quirks import apply_quirks
from mockgraph.scenarios.templating import render
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.playback")


@dataclass
class Playback:
    """One scenario playing for one call."""

    scenario: Scenario
    call: Call
    request: Mapping[str, Any]
    started: float
    id: str = field(default_factory=new_id)  # the Scenario-Id header
    next_step: int = 0
    cancel_reason: str = "cancelled"
    held: list[NotificationRecord] = field(default_factory=list)  # outOfOrder, sent later


def notification_item(target: Call, notify: Mapping[str, Any], cause: str) -> dict[str, Any]:
    """One commsNotification about ``target`` from a step's ``notify`` (changeType,
    resourceData, overrides), applied to the call as it goes out."""
    rest = dict(notify)
    change_type = rest.pop("changeType")
    resource_data = {"@odata.type": "#microsoft.graph.call", **rest.pop("resourceData")}
    target.apply(resource_data, cause, change_type)
    return {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change_type,
        "resourceUrl": target.resource_url,
        "resourceData": resource_data,
        **rest,  # anything else the step sets overrides the envelope
    }


def envelope(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.commsNotifications", "value": items}


class Player:
    def __init__(
        self,
        calls: CallRegistry,
        journal: Journal,
        notifier: Notifier,
        changes: Changes,
        clock: Clock,
        *,
        time_scale: float = 1.0,
        step_mode: bool = False,
        quirks: tuple[str, ...] = (),
    ) -> None:
        self._calls = calls
        self._journal = journal
        self._notifier = notifier
        self._changes = changes
        self._clock = clock
        self._playing: dict[asyncio.Task[None], Playback] = {}
        self._releases: dict[str, asyncio.Semaphore] = {}
        self._timers: set[Timer] = set()
        self.time_scale = time_scale
        self.step_mode = step_mode
        self.quirks = quirks

    @property
    def busy(self) -> bool:
        return bool(self._playing)

    def play(self, scenario: Scenario, call: Call, request: Mapping[str, Any]) -> None:
        """Play ``scenario`` for ``call``: the steps due now at once, the rest in a task; the
        call is released when the last step has gone out."""
        if not scenario.steps:  # nothing to play: no bookkeeping either
            call.finish()
            return
        playback = Playback(scenario, call, request, self._clock.monotonic())
        steps = self._steps(playback)
        try:
            first_wait = next(steps)  # runs every step that is due now
        except StopIteration:
            self._end(playback)
            return
        task = asyncio.create_task(self._run(playback, steps, first_wait))
        self._playing[task] = playback
        task.add_done_callback(self._finished)

    def send_now(self, call: Call, notify: Mapping[str, Any], cause: str) -> NotificationRecord:
        """Send one notification about ``call`` outside any scenario (an incoming call's
        ``created``); server-wide quirks apply."""
        body = self._body([notification_item(call, notify, cause)], ())
        [record] = self._records(call, body, None, None, new_id(), copies=1)
        self._changes.notify()
        self._notifier.send(record)
        return record

    def after_deadline(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after a deadline Graph gives the bot (a ring time-out), unless a
        reset or stop comes first. A deadline is not a pause: the time scale shortens or
        stretches it, but scale 0 leaves it as it is, or an unanswered call would end before
        any bot could answer it."""
        scale = self.time_scale or 1.0

        def fire() -> None:
            self._timers.discard(timer)
            callback()

        timer = self._clock.call_later(seconds * scale, fire)
        self._timers.add(timer)

    def advance(self, call_id: str, steps: int = 1) -> None:
        """Release the call's next ``steps`` steps (step mode); early releases are kept."""
        release = self._releases.setdefault(call_id, asyncio.Semaphore(0))
        for _ in range(steps):
            release.release()

    def stop(self, call_id: str, reason: str) -> None:
        """Stop what plays for ``call_id``; its remaining steps are journaled as cancelled."""
        for task, playback in self._playing.items():
            if playback.call.id == call_id:
                playback.cancel_reason = reason
                task.cancel()

    async def cancel_all(self, reason: str) -> None:
        tasks = list(self._playing)
        for task in tasks:
            self._playing[task].cancel_reason = reason
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._releases.clear()
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._playing.pop(task, None)
        self._changes.notify()

    def _steps(self, playback: Playback) -> Iterator[float | asyncio.Semaphore]:
        """Play the steps; yield whenever it must wait: seconds to sleep, or (step mode) the
        semaphore that ``advance`` releases."""
        clock = self._clock
        scenario, call = playback.scenario, playback.call
        due = playback.started
        for index, step in enumerate(scenario.steps):
            playback.next_step = index
            jitter = step.jitter or scenario.jitter
            pause = max(0.0, step.after + clock.random.uniform(-jitter, jitter))
            due += pause * self.time_scale
            delay = due - clock.monotonic()
            if delay > 0:
                yield delay
            if self.step_mode:
                call.waiting_step = index + 1
                self._changes.notify()
                yield self._releases.setdefault(call.id, asyncio.Semaphore(0))
                call.waiting_step = None
                due = max(due, clock.monotonic())  # the next pause counts from the release
            late_ms = (clock.monotonic() - due) * 1000
            records = self._emit(playback, index, step)
            for record in records:
                record.late_ms = late_ms
            playback.next_step = index + 1
            if step.fault == "outOfOrder":
                playback.held = [*records, *playback.held]
                continue
            for record in [*records, *playback.held]:
                self._notifier.send(record)
            playback.held = []

    async def _run(
        self,
        playback: Playback,
        steps: Iterator[float | asyncio.Semaphore],
        wait: float | asyncio.Semaphore,
    ) -> None:
        try:
            while True:
                if isinstance(wait, asyncio.Semaphore):
                    await wait.acquire()
                else:
                    await self._clock.sleep(wait)
                try:
                    wait = next(steps)
                except StopIteration:
                    return
        except asyncio.CancelledError:
            for record in playback.held:
                record.outcome, record.note = "cancelled", playback.cancel_reason
            self._journal_unplayed(playback)
            raise
        finally:
            self._end(playback)

    def _end(self, playback: Playback) -> None:
        playback.call.finish()
        playback.call.waiting_step = None
        self._changes.notify()

    def _journal_unplayed(self, playback: Playback) -> None:
        """Steps that will never go out are journaled as cancelled: nothing vanishes."""
        for index in range(playback.next_step, len(playback.scenario.steps)):
            step = playback.scenario.steps[index]
            record = self._journal.record_notification(
                call_id=playback.call.id,
                url=playback.call.callback_uri,
                body={"notify": [dict(n) for n in step.notify]},
                scenario=playback.scenario.name,
                step=index + 1,
                scenario_id=playback.id,
            )
            record.outcome, record.note = "cancelled", playback.cancel_reason

    def _emit(self, playback: Playback, index: int, step: Step) -> list[NotificationRecord]:
        """Apply the step to its call and journal what the bot is to receive (not sent yet)."""
        scenario, call = playback.scenario, playback.call
        target: Call | None = call
        target_id: Any = None
        if step.templated:
            context = {"call": call.to_graph(), "request": playback.request}
            if step.call is not None:
                target_id = render(step.call, context)
                target = self._calls.find(str(target_id)) if target_id else None
            notifications: list[dict[str, Any]] = [render(dict(n), context) for n in step.notify]
        else:
            # Shared with the scenario: notification_item builds new outer dicts, and quirks,
            # the only thing that changes nested ones, work on a copy (below).
            notifications = [dict(n) for n in step.notify]
        if target is None:
            record = self._journal.record_notification(
                call_id=str(target_id),
                url="",
                body={"value": notifications},
                scenario=scenario.name,
                step=index + 1,
                scenario_id=playback.id,
            )
            record.outcome = "skipped"
            record.note = f"step names call {step.call!r}, which mockgraph does not know"
            log.warning("scenario %s step %d skipped: %s", scenario.name, index + 1, record.note)
            self._changes.notify()
            return []
        cause = f"scenario {scenario.name} step {index + 1}"
        items = [notification_item(target, notify, cause) for notify in notifications]
        self._changes.notify()
        body = self._body(items, (*scenario.quirks, *step.quirks))
        copies = 2 if step.fault == "duplicate" else 1
        records = self._records(target, body, scenario.name, index + 1, playback.id, copies)
        if copies == 2:
            records[1].note = "duplicate, as the scenario asks"
        if step.fault == "drop":
            records[0].outcome, records[0].note = "dropped", "dropped, as the scenario asks"
            return []
        return records

    def _body(self, items: list[dict[str, Any]], quirks: tuple[str, ...]) -> dict[str, Any]:
        """The commsNotifications envelope, respelled with the server's and these ``quirks``
        on a copy: the items share nested values with calls and scenarios."""
        quirks = (*self.quirks, *quirks)
        return apply_quirks(copy.deepcopy(envelope(items)), quirks) if quirks else envelope(items)

    def _records(
        self,
        target: Call,
        body: dict[str, Any],
        scenario: str | None,
        step: int | None,
        scenario_id: str,
        copies: int,
    ) -> list[NotificationRecord]:
        return [
            self._journal.record_notification(
                call_id=target.id,
                url=target.callback_uri,
                body=copy.deepcopy(body) if n else body,
                scenario=scenario,
                step=step,
                tenant_id=str(target.properties.get("tenantId", "")),
                chain_id=str(target.properties.get("callChainId", "")),
                scenario_id=scenario_id,
            )
            for n in range(copies)
        ]
