"""A change signal: long polls wait on it instead of sleeping and re-reading."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Changes:
    """Anything may call ``notify()`` (no await needed); ``wait_until`` re-checks on each."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._waiting = 0

    def notify(self) -> None:
        if not self._waiting:  # the hot path (every notification) pays nothing
            return
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Whether ``condition()`` became true within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._waiting += 1
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return condition()
            finally:
                self._waiting -= 1
        return True
