"""The machine's floor for "on time": a bare asyncio loop whose timers fall due at a steady
rate, each doing a fixed amount of CPU work and nothing else, and how late each one runs.

``baseline_timers.py RATE SECONDS [WORK_US]``: RATE timers per second for SECONDS, each
running a pure-Python loop that took WORK_US µs when calibrated at start (0: none); prints one
JSON line, ``{"late_ms": [...]}``. Run on the core mockgraph serves from, between mockgraph's
runs, with WORK_US the CPU that mockgraph spent per step in the run before, it is the lateness
of an event loop with the same load and no collector, no journal and no HTTP: what the machine
(the hypervisor taking the core away, its speed moving) and queueing alone put on the steps.
The work is a count of iterations, not a time: when the machine runs slower, so does it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time


def spin(iterations: int) -> int:
    total = 0
    for index in range(iterations):
        total += index & 7
    return total


def calibrated(work_us: float) -> int:
    """The iterations of ``spin`` that take ``work_us`` µs here, now."""
    if work_us <= 0:
        return 0
    trial = 100_000
    started = time.perf_counter()
    spin(trial)
    took_us = (time.perf_counter() - started) * 1e6
    return max(1, round(trial * work_us / took_us))


async def main(rate: float, seconds: float, iterations: int) -> list[float]:
    loop = asyncio.get_running_loop()
    late: list[float] = []
    done = loop.create_future()
    total = int(rate * seconds)
    began = time.monotonic() + 0.05

    def due(when: float, last: bool) -> None:
        late.append(max(0.0, (time.monotonic() - when) * 1000))
        spin(iterations)
        if last:
            done.set_result(None)

    for index in range(total):
        when = began + index / rate
        loop.call_at(when, due, when, index == total - 1)
    await done
    return late


if __name__ == "__main__":
    gc.disable()  # a loop with nothing to collect: only the machine's share is left
    work = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    late_ms = asyncio.run(main(float(sys.argv[1]), float(sys.argv[2]), calibrated(work)))
    print(json.dumps({"late_ms": late_ms}))
