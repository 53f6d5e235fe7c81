"""A probe of the event loop's stalls, for ``BENCH_PRE`` (it runs inside ``mockgraph serve``):

    BENCH_PRE="exec(open('bench/stall_probe.py').read())" BENCH_ONLY=ontime make bench

Every loop callback that ran over 5 ms and every collector pass over 3 ms are counted, and at
exit (the bench stops the server with SIGTERM) written to ``STALLS_FILE`` (/tmp/stalls.txt): the
callbacks by kind, the worst 15, and the worst collector passes with their generation."""

import asyncio.events
import atexit
import collections
import gc
import os
import time

_run = asyncio.events.Handle._run
_slow: collections.Counter[str] = collections.Counter()
_worst: list[tuple[float, str]] = []
_passes: list[tuple[float, int, int]] = []
_began = [0.0]


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
        return
    took = time.perf_counter() - _began[0]
    if took > 0.003:
        _passes.append((round(took * 1000, 1), info["generation"], info["collected"]))


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
        out.write(f"{worst}\n")


asyncio.events.Handle._run = _timed  # type: ignore[method-assign]
gc.callbacks.append(_pass)
atexit.register(_report)
