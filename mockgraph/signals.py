"""A change signal: long polls wait on it instead of sleeping and re-reading."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mockgraph.clock import Clock


class Changes:
    """Anything may call ``notify()`` (no await needed); ``wait_until`` re-checks on each."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._event = asyncio.Event()
        self._waiting = 0

    def notify(self) -> None:
        if not self._waiting:  # the hot path (every notification) pays nothing
            return
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float, clock: Clock | None = None
    ) -> bool:
        """Whether ``condition()`` became true within ``timeout`` seconds (of ``clock``, if
        given: a shutdown's grace period is real time even when a test drives the clock)."""
        clock = clock or self._clock
        deadline = clock.monotonic() + timeout
        while not condition():
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                return False
            self._waiting += 1
            try:
                if not await clock.wait(self._event, remaining):
                    return condition()
            finally:
                self._waiting -= 1
        return True
