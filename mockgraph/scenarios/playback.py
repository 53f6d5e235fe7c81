"""Playing a scenario: wait for each step's time, fill in the notification, send it.

Steps are scheduled against the moment the operation was accepted (``after`` adds up), so a
slow step does not push every later one back. A step changes the call's state when it goes out,
before delivery, as Graph's own state changes whether or not the bot is listening.

Time can be controlled: ``time_scale`` multiplies every pause (0 collapses them), and in step
mode each step, once due, also waits until the test releases it with ``advance(call_id)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from mockgraph.calls import Call, CallRegistry
from mockgraph.delivery import Notifier
from mockgraph.journal import Journal
from mockgraph.scenarios.model import Scenario, Step
from mockgraph.scenarios.templating import render
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.playback")


class Player:
    def __init__(
        self,
        calls: CallRegistry,
        journal: Journal,
        notifier: Notifier,
        changes: Changes,
        *,
        time_scale: float = 1.0,
        step_mode: bool = False,
    ) -> None:
        self._calls = calls
        self._journal = journal
        self._notifier = notifier
        self._changes = changes
        self._tasks: set[asyncio.Task[None]] = set()
        self._releases: dict[str, asyncio.Semaphore] = {}
        self.time_scale = time_scale
        self.step_mode = step_mode

    def advance(self, call_id: str, steps: int = 1) -> None:
        """Release the call's next ``steps`` steps (step mode); early releases are kept."""
        release = self._releases.setdefault(call_id, asyncio.Semaphore(0))
        for _ in range(steps):
            release.release()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def play(self, scenario: Scenario, call: Call, request: Mapping[str, Any]) -> None:
        """Start playing ``scenario`` for ``call``; the call is released when it ends."""
        started = asyncio.get_running_loop().time()
        task = asyncio.create_task(self._run(scenario, call, request, started))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._changes.notify()

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._releases.clear()

    async def _run(
        self, scenario: Scenario, call: Call, request: Mapping[str, Any], started: float
    ) -> None:
        loop = asyncio.get_running_loop()
        due = started
        try:
            for index, step in enumerate(scenario.steps):
                due += step.after * self.time_scale
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.step_mode:
                    release = self._releases.setdefault(call.id, asyncio.Semaphore(0))
                    call.waiting_step = index + 1
                    self._changes.notify()
                    await release.acquire()
                    call.waiting_step = None
                    due = max(due, loop.time())  # the pause counts from the release
                self._emit(scenario, index, step, call, request)
        finally:
            call.finish()
            call.waiting_step = None

    def _emit(
        self, scenario: Scenario, index: int, step: Step, call: Call, request: Mapping[str, Any]
    ) -> None:
        context = {"call": call.to_graph(), "request": request}
        notify: dict[str, Any] = render(dict(step.notify), context)
        target: Call | None = call
        if step.call is not None:
            target_id = render(step.call, context)
            target = self._calls.find(str(target_id)) if target_id else None
        resource_data = {"@odata.type": "#microsoft.graph.call", **notify.pop("resourceData")}
        if target is None:
            record = self._journal.record_notification(
                call_id=str(render(step.call, context)),
                url="",
                body={"resourceData": resource_data, **notify},
                scenario=scenario.name,
                step=index + 1,
            )
            record.outcome = "skipped"
            record.note = f"step names call {step.call!r}, which mockgraph does not know"
            self._changes.notify()
            log.warning("scenario %s step %d skipped: %s", scenario.name, index + 1, record.note)
            return
        item = {
            "@odata.type": "#microsoft.graph.commsNotification",
            "changeType": notify.pop("changeType"),
            "resourceUrl": target.resource_url,
            "resourceData": resource_data,
            **notify,  # anything else the step sets overrides the envelope
        }
        body = {"@odata.type": "#microsoft.graph.commsNotifications", "value": [item]}
        target.apply(resource_data, cause=f"scenario {scenario.name} step {index + 1}")
        self._changes.notify()
        record = self._journal.record_notification(
            call_id=target.id,
            url=target.callback_uri,
            body=body,
            scenario=scenario.name,
            step=index + 1,
        )
        self._notifier.send(record)
