"""Graph ends a call its bot does not keep alive: ``POST .../keepAlive`` must succeed at least
once within 45 minutes of the previous one, or of the call's start (call-keepalive.md).

``KeepAliveWatch`` keeps one timer per call, set when the call begins. It costs nothing on the
request path: a keepAlive only records when it came (a timer that fires early for a call kept
alive meanwhile is set again for the time left), and a call's other changes do not reach it.
A call's end cancels its timer, so a long run holds timers only for calls not over.
"""

from __future__ import annotations

from collections.abc import Callable

from mockgraph.calling.calls import Call, CallRegistry
from mockgraph.clock import Clock, Timer


class KeepAliveWatch:
    """Calls the bot must keep alive (a ``CallFollower`` of ``calls``); ``expire`` ends one
    it did not, or says it cannot now. ``deadline(seconds)`` turns the timeout into seconds on
    the clock (the time scale's say)."""

    def __init__(
        self,
        calls: CallRegistry,
        clock: Clock,
        timeout: float,
        deadline: Callable[[float], float],
        expire: Callable[[Call], bool],
    ) -> None:
        self._calls = calls
        self._clock = clock
        self.timeout = timeout  # 0: calls never expire
        self._deadline = deadline
        self._expire = expire
        self._kept: dict[str, float] = {}  # call id -> when its last keepAlive (or start) came
        self._timers: dict[str, Timer] = {}
        calls.follow(self)

    # --- what the call registry tells it (a CallFollower) ------------------------------------

    def call_seeded(self, call: Call) -> None:
        if self.timeout > 0 and not call.ended:
            self._kept[call.id] = self._clock.monotonic()
            self._arm(call.id, self._deadline(self.timeout))

    def call_ended(self, call: Call) -> None:
        self._forget(call.id)  # its timer would find it ended and do nothing

    def calls_forgotten(self, call_ids: list[str]) -> None:
        for call_id in call_ids:
            self._forget(call_id)

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

    def _arm(self, call_id: str, seconds: float) -> None:
        # The timer names the call by id, not the call itself: an ended call is not held.
        self._timers[call_id] = self._clock.call_later(seconds, lambda: self._due(call_id))

    def _due(self, call_id: str) -> None:
        self._timers.pop(call_id, None)
        kept = self._kept.get(call_id)
        call = self._calls.find(call_id)
        if kept is None or call is None or call.ended:
            self._kept.pop(call_id, None)
            return
        left = kept + self._deadline(self.timeout) - self._clock.monotonic()
        if left > 0:  # kept alive since the timer was set
            self._arm(call_id, left)
        elif self._expire(call):
            self._kept.pop(call_id, None)
        else:  # not now (a bot's delete is under way): look again later
            self._arm(call_id, self._deadline(self.timeout))

    def _forget(self, call_id: str) -> None:
        self._kept.pop(call_id, None)
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()
