"""The machine's floor for "on time": a bare asyncio loop whose timers fall due at a steady
rate, with nothing else to do, and how late each one runs.

``baseline_timers.py RATE SECONDS``: RATE timers per second for SECONDS; prints one JSON line,
``{"late_ms": [...]}``. Run on the core mockgraph serves from, between mockgraph's runs, it
shows the lateness that the machine itself (the hypervisor taking the core away, the kernel's
timers) puts on any event loop: mockgraph's own tail is what it adds above this.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time


async def main(rate: float, seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    late: list[float] = []
    done = loop.create_future()
    total = int(rate * seconds)
    began = time.monotonic() + 0.05

    def due(when: float, last: bool) -> None:
        late.append(max(0.0, (time.monotonic() - when) * 1000))
        if last:
            done.set_result(None)

    for index in range(total):
        when = began + index / rate
        loop.call_at(when, due, when, index == total - 1)
    await done
    return late


if __name__ == "__main__":
    gc.disable()  # a loop with nothing to collect: only the machine's share is left
    print(json.dumps({"late_ms": asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))}))
