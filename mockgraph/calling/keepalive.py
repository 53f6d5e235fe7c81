"""Graph ends a call its bot does not keep alive: ``POST .../keepAlive`` must succeed at least
once within 45 minutes of the previous one, or of the call's start (call-keepalive.md).

``KeepAliveWatch`` keeps one timer per call that is not over. A keepAlive only records when it
came, so a bot that keeps its calls alive costs no timer churn: a timer that fires early for a
call kept alive meanwhile is set again for the time left. A call that ends gives its timer back
at once, so that a long run holds timers (and the calls they name) only for calls not over.
"""

from __future__ import annotations

from collections.abc import Callable

from mockgraph.calling.calls import Call
from mockgraph.clock import Clock, Timer

KEEP_ALIVE_TIMEOUT = 45 * 60.0  # seconds, as Graph documents it


class KeepAliveWatch:
    """Calls the bot must keep alive; ``expire`` ends one it did not. ``deadline(seconds)``
    turns the timeout into seconds on the clock (the time scale's say)."""

    def __init__(
        self,
        clock: Clock,
        timeout: float,
        deadline: Callable[[float], float],
        expire: Callable[[Call], bool],
    ) -> None:
        self._clock = clock
        self.timeout = timeout  # 0: calls never expire
        self._deadline = deadline
        self._expire = expire
        self._kept: dict[str, float] = {}  # call id -> when its last keepAlive (or start) came
        self._timers: dict[str, Timer] = {}

    # --- what the call registry tells it (a CallWatcher) -------------------------------------

    def call_changed(self, call: Call) -> None:
        if call.ended:
            self._forget(call.id)
        elif call.id not in self._kept and self.timeout > 0:
            self._kept[call.id] = self._clock.monotonic()
            self._arm(call, self._deadline(self.timeout))

    def calls_cleared(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._kept.clear()

    # --- what the bot does ---------------------------------------------------------------------

    def kept(self, call: Call) -> None:
        """The bot's keepAlive succeeded: the call's 45 minutes start again."""
        if call.id in self._kept:
            self._kept[call.id] = self._clock.monotonic()

    # --- the timers ----------------------------------------------------------------------------

    def _arm(self, call: Call, seconds: float) -> None:
        self._timers[call.id] = self._clock.call_later(seconds, lambda: self._due(call))

    def _due(self, call: Call) -> None:
        self._timers.pop(call.id, None)
        kept = self._kept.get(call.id)
        if kept is None:  # ended, or the calls were cleared
            return
        left = kept + self._deadline(self.timeout) - self._clock.monotonic()
        if left > 0:  # kept alive since the timer was set
            self._arm(call, left)
        elif not self._expire(call):  # not now (a bot's delete is under way): look again later
            self._arm(call, self._deadline(self.timeout))

    def _forget(self, call_id: str) -> None:
        self._kept.pop(call_id, None)
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()
