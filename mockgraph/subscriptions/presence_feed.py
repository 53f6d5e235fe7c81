"""When a watched user's presence changes, for the presence subscriptions.

Presence is worked out when it is read (``Presences``), so a change has no event of its own.
The feed keeps what it last told of each watched user and looks again when something may
have changed it: a presence operation on them, a change of a call they are (or were) in, and
the end of one of their sessions or of their preferred presence. It looks only while a
subscription watches someone: with none, it does not watch the calls at all, so the calls'
path pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

from mockgraph.calling.calls import Call, CallRegistry
from mockgraph.clock import Clock, Timer
from mockgraph.presence.presences import Presences, user_ids

IN_A_CALL = frozenset({"InACall", "InAConferenceCall"})
Shown = tuple[str, str]  # availability, activity


class PresenceFeed:
    """Calls ``tell(user_id, availability, activity)`` when a watched user's presence shows
    something other than what was last told."""

    def __init__(
        self,
        clock: Clock,
        presences: Presences,
        calls: CallRegistry,
        tell: Callable[[str, str, str], None],
    ) -> None:
        self._clock = clock
        self._presences = presences
        self._calls = calls
        self._tell = tell
        self._told: dict[str, Shown] = {}
        self._timers: dict[str, Timer] = {}
        self._unwatch_calls: Callable[[], None] | None = None
        presences.watch(self)

    def watch(self, users: AbstractSet[str]) -> None:
        """From now on, ``users`` are the watched ones; a newly watched user's presence now
        is what they are not told of."""
        for gone in set(self._told) - users:
            del self._told[gone]
            timer = self._timers.pop(gone, None)
            if timer is not None:
                timer.cancel()
        for user_id in users - set(self._told):
            self._told[user_id] = self._presences.shown(user_id)
            self._plan(user_id)
        if users and self._unwatch_calls is None:
            self._unwatch_calls = self._calls.watch(self)
        elif not users and self._unwatch_calls is not None:
            self._unwatch_calls()
            self._unwatch_calls = None

    @property
    def watching_calls(self) -> bool:
        return self._unwatch_calls is not None

    # --- what may have changed presence ---------------------------------------------------

    def presence_touched(self, user_id: str) -> None:
        if user_id in self._told:
            self._look(user_id)

    def call_changed(self, call: Call) -> None:
        in_it = set(user_ids(call))
        for user_id, (_, activity) in list(self._told.items()):
            if user_id in in_it or activity in IN_A_CALL:
                self._look(user_id)

    def calls_cleared(self) -> None:
        for user_id in list(self._told):
            self._look(user_id)

    # --- looking --------------------------------------------------------------------------

    def _look(self, user_id: str) -> None:
        shown = self._presences.shown(user_id)
        if shown != self._told.get(user_id, shown):
            self._told[user_id] = shown
            self._tell(user_id, *shown)
        self._plan(user_id)

    def _plan(self, user_id: str) -> None:
        """Look again when the user's next session or preferred presence ends."""
        timer = self._timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()
        ends = self._presences.next_change(user_id)
        if ends is not None:
            wait = max(0.0, ends - self._clock.monotonic())
            self._timers[user_id] = self._clock.call_later(wait, lambda: self._expired(user_id))

    def _expired(self, user_id: str) -> None:
        self._timers.pop(user_id, None)
        if user_id in self._told:
            self._look(user_id)
