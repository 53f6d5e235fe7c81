"""A probe of the event loop's stalls, for ``BENCH_PRE`` (it runs inside ``mockgraph serve``):

    BENCH_PRE="exec(open('bench/stall_probe.py').read())" BENCH_ONLY=ontime make bench

Every loop callback that ran over 5 ms and every collector pass over ``STALL_PASS_MS`` (3) are
counted, and at exit (the bench stops the server with SIGTERM) written to ``STALLS_FILE``
(/tmp/stalls.txt): the callbacks by kind, the worst 15, the worst collector passes with their
generation, then every pass with its wall-clock time and how many young objects it began with
(to place it inside or between the bench's runs)."""

import asyncio.events
import atexit
import collections
import gc
import os
import time

_run = asyncio.events.Handle._run
_slow: collections.Counter[str] = collections.Counter()
_worst: list[tuple[float, str]] = []
_passes: list[tuple[float, int, int, float, int]] = []
_began = [0.0, 0.0]  # when the pass began, and the young count then
_PASS_OVER = float(os.environ.get("STALL_PASS_MS", "3")) / 1000  # read once, not per pass


def _timed(self: asyncio.events.Handle) -> None:
    started = time.perf_counter()
    _run(self)
    took = time.perf_counter() - started
    if took > 0.005:
        shown = repr(self)[:160]
        _slow[shown.split(" at ")[0][:120]] += 1
        _worst.append((round(took * 1000, 1), shown))


def _pass(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _began[0] = time.perf_counter()
        _began[1] = gc.get_count()[0]
        return
    took = time.perf_counter() - _began[0]
    if took > _PASS_OVER:
        shown = round(took * 1000, 1)
        _passes.append((shown, info["generation"], info["collected"], time.time(), int(_began[1])))


def _report() -> None:
    with open(os.environ.get("STALLS_FILE", "/tmp/stalls.txt"), "w") as out:
        out.write(f"callbacks over 5 ms: {sum(_slow.values())}\n")
        for shown, count in _slow.most_common(15):
            out.write(f"{count:6d}  {shown}\n")
        out.write("worst:\n")
        for took, shown in sorted(_worst, reverse=True)[:15]:
            out.write(f"{took:8.1f} ms  {shown}\n")
        worst = sorted(_passes, reverse=True)[:15]
        out.write(f"collector passes over 3 ms: {len(_passes)} (ms, generation, collected): ")
        out.write(f"{[entry[:3] for entry in worst]}\n")
        out.write("every pass (ms, generation, collected, time, young count):\n")
        for entry in _passes:
            out.write(f"{entry}\n")


asyncio.events.Handle._run = _timed  # type: ignore[method-assign]
gc.callbacks.append(_pass)
atexit.register(_report)
