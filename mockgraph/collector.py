"""How ``mockgraph serve`` runs CPython's cyclic garbage collector in its own process (never
in a test process that embeds ``MockGraph``).

Reference counting frees almost everything mockgraph drops: a call, a journal entry, a
notification hold no cycles. What the cyclic collector finds is mostly closed connections.
CPython's passes, though, walk every live object of their generations, and a busy server's
live objects are its calls and its journal: passes of 40-70 ms over the young generation
and 100-180 ms over the whole heap, each a pause in which no step of any call goes out on
time (BENCHMARKS.md, "on time"). So:

- a young pass comes every ``young`` allocations, short because ``young`` is small;
- what survives a young pass is frozen (``gc.freeze``): it is long-lived by nature, and no
  later pass walks it again;
- the frozen heap is given back (unfrozen and collected in full) when the server is quiet
  and the heap has grown by a quarter since the last time (CPython's own rule for full
  passes). Quiet is idle (nothing playing, queued or in flight) at two checks in a row, with
  under a tenth of a core used between them: "idle" alone is true between any two requests
  whose scenarios notify nothing, and while a test seeds thousands of calls, so a give-back
  landed just as a load began and its first notifications went out 100s of ms late
  (BENCHMARKS.md, issue 24);
- a server that is never quiet gives it back once the heap has grown fivefold and
  ``busy_every`` seconds (10 minutes) have passed since the last time, so cyclic garbage is
  never held for ever. Each such pass walks the whole heap for 0.1 to 0.5 s and finds almost
  nothing (a few thousand objects): given back at every fivefold growth, a busy server paused
  every few seconds under load, and its notifications' lateness grew (same section).

The thresholds ``serve`` set before, ``(100_000, 50, 100)``, reached a full pass only after
500 million allocations.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from mockgraph.clock import Clock, Timer


class Collector:
    """``start()`` takes the process's collector over; ``close()`` (safe twice) restores it."""

    def __init__(
        self,
        idle: Callable[[], bool],
        clock: Clock,
        *,
        young: int = 10_000,
        check_every: float = 1.0,
        busy_every: float = 600.0,
        cpu: Callable[[], float] = time.process_time,
        quiet_share: float = 0.1,
    ) -> None:
        self._idle = idle
        self._clock = clock
        self._young = young
        self._check_every = check_every
        self._busy_every = busy_every
        self._cpu = cpu  # the process's CPU seconds, to tell a quiet server from one at work
        self._quiet_share = quiet_share
        self._last_check = (clock.monotonic(), cpu())
        self._was_idle = False
        self._last_given = clock.monotonic()
        self._saved: tuple[int, int, int] | None = None
        self._timer: Timer | None = None
        self.frozen = 0  # objects frozen at the last give-back
        self.since = 0  # objects frozen since then
        self.given_back = 0  # how many times

    def start(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.callbacks.append(self._after_pass)
        # No collection now: it would delay the ready line, and what start-up left is small.
        gc.freeze()
        self.frozen = gc.get_freeze_count()
        gc.set_threshold(self._young)
        gc.enable()  # the start-up ran without it (cli.main)
        self._schedule()

    def close(self) -> None:
        if self._saved is None:
            return
        gc.callbacks.remove(self._after_pass)
        gc.set_threshold(*self._saved)
        self._saved = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        gc.unfreeze()

    def give_back(self) -> None:
        """Collect the whole heap, frozen or not, then freeze what is left."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.frozen, self.since = gc.get_freeze_count(), 0
        self.given_back += 1
        self._last_given = self._clock.monotonic()

    def due(self, quiet: bool) -> bool:
        """Whether the frozen heap should be given back now; ``quiet``: whether the server
        has been quiet since the last check."""
        heap = max(self.frozen, self._young)
        if self.since >= heap / 4 and quiet:
            return True
        waited = self._clock.monotonic() - self._last_given
        return self.since >= 4 * heap and waited >= self._busy_every

    def _after_pass(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or self._saved is None:
            return
        # The survivors sit in the older generations (nothing else does: all is frozen).
        self.since += len(gc.get_objects(1)) + len(gc.get_objects(2))
        gc.freeze()

    def _schedule(self) -> None:
        self._timer = self._clock.call_later(self._check_every, self._check)

    def _check(self) -> None:
        if self._saved is None:
            return
        if self.due(self._quiet()):
            self.give_back()
        self._schedule()

    def _quiet(self) -> bool:
        """Idle now and at the last check, and hardly any CPU used in between."""
        now, used = self._clock.monotonic(), self._cpu()
        then, used_then = self._last_check
        idle, was_idle = self._idle(), self._was_idle
        self._last_check, self._was_idle = (now, used), idle
        return idle and was_idle and used - used_then <= self._quiet_share * (now - then)
