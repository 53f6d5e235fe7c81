"""Time, injected: what scenario pauses, jitter, ring time-outs, retry back-off and long-poll
deadlines read. ``Clock`` is real time; ``ManualClock`` stands still until a test advances it.

Also the wall-clock timestamps as Graph writes them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Timer:
    """A callback due later; ``cancel()`` is safe to call twice."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel

    def cancel(self) -> None:
        self._cancel()


class Clock:
    """Real time on the running event loop. ``random`` draws jitter: give ``seed`` to make a
    run repeatable."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)

    def monotonic(self) -> float:
        """Seconds on a clock that only goes forward (the loop's)."""
        return asyncio.get_running_loop().time()

    def wall(self) -> float:
        """Seconds since the epoch, as tokens write their times (``iat``, ``exp``)."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return Timer(asyncio.get_running_loop().call_later(seconds, callback).cancel)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Whether ``event`` was set within ``seconds``."""
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


class ManualClock(Clock):
    """Time that moves only when ``advance`` moves it, for tests about timing: nothing sleeps
    for real, and what is due fires in order, each given its turn to run."""

    def __init__(self, seed: int | None = 0, start: float = 0.0) -> None:
        super().__init__(seed)
        self._now = start
        self._epoch = time.time() - start
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._cancelled: set[int] = set()

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        """The wall clock as it was when this clock was made, moved as ``advance`` moves it."""
        return self._epoch + self._now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        key = next(self._order)
        heapq.heappush(self._due, (self._now + max(0.0, seconds), key, callback))
        return Timer(lambda: self._cancelled.add(key))

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds, lambda: _wake(woken))
        try:
            await woken
        finally:
            timer.cancel()

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        waiter = asyncio.ensure_future(event.wait())
        expired = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds, lambda: _wake(expired))
        try:
            await asyncio.wait({waiter, expired}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            waiter.cancel()
            expired.cancel()
        return event.is_set()

    @property
    def pending(self) -> int:
        """Timers and sleeps not yet due."""
        return sum(1 for _, key, _ in self._due if key not in self._cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``: everything due by then fires in order of its due
        time, and what it starts runs before the next one fires."""
        await _let_others_run()  # tasks already started get to their sleeps first
        target = self._now + seconds
        while self._due and self._due[0][0] <= target:
            due, key, callback = heapq.heappop(self._due)
            if key in self._cancelled:
                self._cancelled.discard(key)
                continue
            self._now = max(self._now, due)
            callback()
            await _let_others_run()
        self._now = target
        await _let_others_run()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _let_others_run() -> None:
    # A few turns of the loop: a woken task runs, and what it schedules at once runs too.
    for _ in range(5):
        await asyncio.sleep(0)


def iso(timestamp: float) -> str:
    """``2026-11-27T16:53:24.123Z`` for a ``time.time()`` value: ISO 8601, UTC, milliseconds.
    Records keep the float and format it only when read: formatting is most of the cost."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_date() -> str:
    """``2026-11-27T16:53:24``: the form of ``innerError.date`` in Graph errors."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
