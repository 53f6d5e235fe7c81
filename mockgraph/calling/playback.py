"""Playing a scenario: wait for each step's time, fill in its notifications (``items.py``),
send them.

Steps are scheduled against the moment the operation was accepted (``after`` adds up), so a
slow step does not push every later one back. A step changes the call's state when it goes out,
before delivery, as Graph's own state changes whether or not the bot is listening; a fault
(``drop``, ``outOfOrder``, ``duplicate``) changes only what the bot receives, never that truth.

Time can be controlled (``TimeSettings``): ``scale`` multiplies every pause (0 collapses
them), and in step mode each step, once due, also waits until the test releases it with
``advance(call_id)``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgraph.calling.calls import Call, CallRegistry, CommsOperation
from mockgraph.calling.items import (
    envelope,
    invitees_join,
    notification_item,
    operation_item,
    roster_item,
    tone_item,
)
from mockgraph.clock import Clock, Timer
from mockgraph.delivery.notifier import Notifier
from mockgraph.errors import GraphError
from mockgraph.ids import new_id
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.scenarios.model import Scenario, Step
from mockgraph.scenarios.quirks import apply_quirks
from mockgraph.scenarios.templating import render
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.playback")


@dataclass(frozen=True)
class TimeSettings:
    """How scenarios play: ``scale`` multiplies every pause (0 collapses them); with ``step``,
    each step waits to be released. One value, replaced whole: a reset puts the start-up one
    back."""

    scale: float = 1.0
    step: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"scale": self.scale, "step": self.step}


@dataclass(frozen=True)
class After:
    """What happens when a scenario has played its last step, or was stopped: the call its
    operation claimed is let go (``releases_call``), and ``then`` runs (the media queue's next
    prompt)."""

    releases_call: bool
    then: Callable[[], None] | None = None


# The operation that claimed the call is done: its next operation may start.
RELEASE_CALL = After(releases_call=True)
# It played beside whatever claims the call (a roster change, a prompt, a failure): nothing.
NOTHING_MORE = After(releases_call=False)


def then(next_thing: Callable[[], None]) -> After:
    """The call stays as it is, and ``next_thing`` runs (the next prompt in the queue)."""
    return After(releases_call=False, then=next_thing)


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
    held_back: list[NotificationRecord] = field(default_factory=list)  # outOfOrder: sent later
    operation: CommsOperation | None = None  # the operation it plays for, if not the call's
    values: Mapping[str, Any] = field(default_factory=dict)  # more template roots
    after: After = RELEASE_CALL
    settled: bool = False  # it ended, or was stopped, and said so
    cancel_journaled: bool = False

    def context(self) -> dict[str, Any]:
        """What its placeholders may name."""
        context = {"call": self.call.to_graph(), "request": self.request, **self.values}
        if self.operation is not None:
            context["operation"] = self.operation.to_graph()
        return context


def _follow(after: After, call: Call, operation: CommsOperation | None) -> None:
    if after.releases_call and operation is None:  # an operation's own scenario claims nothing
        call.finish()
    if after.then is not None:
        after.then()


class Player:
    """Plays scenarios: their timing, step mode and stopping. What a step sends is made by
    ``items.py``; what plays, and what follows it, its callers decide."""

    def __init__(
        self,
        calls: CallRegistry,
        journal: Journal,
        notifier: Notifier,
        changes: Changes,
        clock: Clock,
        *,
        time: TimeSettings = TimeSettings(),
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
        self.time = time
        self.quirks = quirks
        self._key_listeners: list[Callable[[Call, str], None]] = []
        self._far_side: Callable[[Call, str], str | None] = _nobody_acts

    def listen_to_keys(self, listener: Callable[[Call, str], None]) -> None:
        """Tell ``listener`` of each key press, once its notification has gone out."""
        self._key_listeners.append(listener)

    def let_far_side_act(self, act: Callable[[Call, str], str | None]) -> None:
        """``act(call, event)`` makes a step's ``farSide`` event happen; it returns why it
        could not, if it could not."""
        self._far_side = act

    def _heard(self, call: Call, tone: str) -> None:
        for listener in self._key_listeners:
            listener(call, tone)

    @property
    def busy(self) -> bool:
        return bool(self._playing)

    def play(
        self,
        scenario: Scenario,
        call: Call,
        request: Mapping[str, Any],
        *,
        operation: CommsOperation | None = None,
        values: Mapping[str, Any] | None = None,
        after: After = RELEASE_CALL,
    ) -> None:
        """Play ``scenario`` for ``call`` (and ``operation``, if it is for one): the steps due
        now at once, the rest in a task; ``after`` says what happens once the last step has
        gone out."""
        call.plays(scenario.name)
        if not scenario.steps:  # nothing to play: no bookkeeping either
            _follow(after, call, operation)
            return
        playback = Playback(
            scenario,
            call,
            request,
            self._clock.monotonic(),
            operation=operation,
            values=values or {},
            after=after,
        )
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
        return self._send_item(call, notification_item(call, notify, cause))

    def press(self, call: Call, tones: list[str]) -> list[dict[str, Any]]:
        """The caller presses ``tones`` (Graph tone names): one notification each, in order,
        if the bot subscribed to tones; returns their ``toneInfo``. Each press is heard
        either way (a recording's stopTones)."""
        infos = []
        for tone in tones:
            if call.subscribed_to_tones:
                infos.append(info := call.press(tone))
                self._send_item(call, tone_item(call, info))
            self._heard(call, tone)
        return infos

    def send_roster(self, call: Call) -> NotificationRecord:
        """The roster as it is now, to the call's bot (someone joined or left)."""
        return self._send_item(call, roster_item(call))

    def _send_item(self, call: Call, item: dict[str, Any]) -> NotificationRecord:
        body = self._body([item], ())
        [record] = self._records(call, body, None, None, new_id(), copies=1)
        self._changes.notify()
        self._notifier.send(record)
        return record

    def pause(self, seconds: float) -> float:
        """A wait of Graph's that is a pause (a call record's filing), in seconds on the
        clock: the time scale multiplies it, and 0 collapses it."""
        return seconds * self.time.scale

    def deadline(self, seconds: float) -> float:
        """A deadline Graph gives the bot (a ring time-out, keepAlive's 45 minutes), in
        seconds on the clock. A deadline is not a pause: the time scale shortens or stretches
        it, but scale 0 leaves it as it is, or an unanswered call would end before any bot
        could answer it."""
        return seconds * (self.time.scale or 1.0)

    def after_deadline(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after a ``deadline``, unless a reset or stop comes first."""

        def fire() -> None:
            self._timers.discard(timer)
            callback()

        timer = self._clock.call_later(self.deadline(seconds), fire)
        self._timers.add(timer)

    def advance(self, call_id: str, steps: int = 1) -> None:
        """Release the call's next ``steps`` steps (step mode); early releases are kept."""
        release = self._releases.setdefault(call_id, asyncio.Semaphore(0))
        for _ in range(steps):
            release.release()

    def stop(self, call_id: str, reason: str) -> None:
        """Stop what plays for ``call_id``; its remaining steps are journaled as cancelled."""
        self._stop(lambda playback: playback.call.id == call_id, reason)

    def stop_operation(self, operation_id: str, reason: str) -> None:
        """Stop what plays for one operation (a cancelled prompt); the same journaling."""
        self._stop(
            lambda playback: (
                playback.operation is not None and playback.operation.id == operation_id
            ),
            reason,
        )

    def _stop(self, which: Callable[[Playback], bool], reason: str) -> None:
        for task, playback in self._playing.items():
            if which(playback):
                playback.cancel_reason = reason
                # Stopped, not ended: what it was to start next does not (whoever stops it says
                # what comes instead), and the call it claimed is let go.
                playback.after = RELEASE_CALL
                task.cancel()
                self._cancelled(playback)

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
        playback = self._playing.pop(task, None)
        if playback is not None and not playback.settled:  # cancelled before it ever ran
            self._cancelled(playback)
            self._end(playback)
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
            due += pause * self.time.scale
            delay = due - clock.monotonic()
            if delay > 0:
                yield delay
            if self.time.step:
                call.wait_at_step(index + 1)
                self._changes.notify()
                yield self._releases.setdefault(call.id, asyncio.Semaphore(0))
                call.wait_at_step(None)
                due = max(due, clock.monotonic())  # the next pause counts from the release
            records, pressed = self._emit(playback, index, step)
            for record in records:
                record.due = due
            playback.next_step = index + 1
            if step.fault == "outOfOrder":
                playback.held_back = [*records, *playback.held_back]
            else:
                for record in [*records, *playback.held_back]:
                    self._notifier.send(record)
                playback.held_back = []
            for call_pressed, tone in pressed:
                self._heard(call_pressed, tone)
            if step.far_side is not None:
                self._far_side_acts(playback, index, step.far_side)
                return

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
            self._cancelled(playback)
            raise
        finally:
            self._end(playback)

    def _cancelled(self, playback: Playback) -> None:
        """Journal what will never go out, once: at the stop, so it comes before whatever the
        stop sends instead (a cancelled prompt's failure)."""
        if playback.cancel_journaled:
            return
        playback.cancel_journaled = True
        for record in playback.held_back:
            record.settle("cancelled", playback.cancel_reason)
        self._journal_unplayed(playback)

    def _end(self, playback: Playback) -> None:
        playback.settled = True
        playback.call.wait_at_step(None)
        _follow(playback.after, playback.call, playback.operation)
        self._changes.notify()

    def _far_side_acts(self, playback: Playback, index: int, event: str) -> None:
        """The step's far-side event: what it plays takes over the call, so this scenario ends
        here, stopped rather than ended (what it was to start next does not), and its later
        steps are journaled as cancelled before the event's own notifications."""
        playback.cancel_reason = f"the far side acted ({event}) at step {index + 1}"
        playback.after = RELEASE_CALL
        self._cancelled(playback)
        call = playback.call
        refused = self._far_side(call, event)
        if refused is not None:
            body = {"farSide": event}
            self._skip(playback, index, call.id, call.callback_uri, body, refused)

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
            record.settle("cancelled", playback.cancel_reason)

    def _emit(
        self, playback: Playback, index: int, step: Step
    ) -> tuple[list[NotificationRecord], list[tuple[Call, str]]]:
        """Apply the step to its call and journal what the bot is to receive (not sent yet);
        the keys it pressed."""
        scenario, call = playback.scenario, playback.call
        target: Call | None = call
        target_id: Any = None
        if step.templated:
            context = playback.context()
            if step.call is not None:
                target_id = render(step.call, context)
                target = self._calls.find(str(target_id)) if target_id else None
            notifications: list[dict[str, Any]] = [render(dict(n), context) for n in step.notify]
        else:
            # Shared with the scenario: notification_item builds new outer dicts, and quirks,
            # the only thing that changes nested ones, work on a copy (below).
            notifications = [dict(n) for n in step.notify]
        if target is None:
            note = f"step names call {step.call!r}, which mockgraph does not know"
            self._skip(playback, index, str(target_id), "", {"value": notifications}, note)
            return [], []
        skipped = self._unplayable(playback, step, target)
        if skipped:
            body = {"value": notifications, "tones": list(step.tones), "roster": step.roster}
            self._skip(playback, index, target.id, target.callback_uri, body, skipped)
            return [], []
        cause = f"scenario {scenario.name} step {index + 1}"
        if step.about == "operation" and playback.operation is not None:
            items = [operation_item(playback.operation, n) for n in notifications]
        else:
            items = [notification_item(target, notify, cause) for notify in notifications]
        # Graph POSTs each key press on its own, after what the step notifies.
        posts = [items] if items else []
        posts += [[tone_item(target, target.press(tone))] for tone in step.tones]
        if step.roster == "invitees":
            invitees_join(target, playback.request)
        for identity in step.join:
            target.admit(identity)
        for identity_id in step.leave:
            target.leave(target.participant_as(identity_id).id)
        if step.roster is not None or step.join or step.leave:
            posts.append([roster_item(target)])
        self._changes.notify()
        quirks = (*scenario.quirks, *step.quirks)
        copies = 2 if step.fault == "duplicate" else 1
        records: list[NotificationRecord] = []
        for post in posts:
            body = self._body(post, quirks)
            sent = self._records(target, body, scenario.name, index + 1, playback.id, copies)
            if copies == 2:
                sent[1].note = "duplicate, as the scenario asks"
            if step.fault == "drop":
                sent[0].settle("dropped", "dropped, as the scenario asks")
                continue
            records += sent
        return records, [(target, tone) for tone in step.tones]

    def _skip(
        self,
        playback: Playback,
        index: int,
        call_id: str,
        url: str,
        body: dict[str, Any],
        note: str,
    ) -> None:
        """Journal a step that cannot go out as skipped, and say why."""
        record = self._journal.record_notification(
            call_id=call_id,
            url=url,
            body=body,
            scenario=playback.scenario.name,
            step=index + 1,
            scenario_id=playback.id,
        )
        record.settle("skipped", note)
        log.warning("scenario %s step %d skipped: %s", playback.scenario.name, index + 1, note)
        self._changes.notify()

    @staticmethod
    def _unplayable(playback: Playback, step: Step, target: Call) -> str | None:
        """Why the step cannot go out as written, if it cannot."""
        if step.about == "operation" and playback.operation is None:
            return f"step is about an operation, and {playback.scenario.operation} returns none"
        if step.tones and not target.subscribed_to_tones:
            return f"call {target.id!r} has not subscribed to tones (subscribeToTone)"
        for identity_id in step.leave:
            try:
                target.participant_as(identity_id)
            except GraphError:
                return (
                    f"nobody in call {target.id!r} has identity {identity_id!r}, so nobody leaves"
                )
        return None

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


def _nobody_acts(call: Call, event: str) -> str:
    return f"nothing makes the far side's {event} happen"
