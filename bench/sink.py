"""The bots' side in benchmarks: a process that receives notifications, counts them, checks
each call's order, and records when each arrived (CLOCK_MONOTONIC, shared by processes on
Linux). GET /stats reports; POST /reset forgets."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict

from aiohttp import web

# The order each call's notifications must follow; cycles repeat (a call may be transferred
# again once it is back to established).
CYCLES = {
    "established": ("transferring", "transferAccepted", "established"),
    "terminated": ("transferring", "transferAccepted", "terminated"),
}


class Sink:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.states: dict[str, list[str]] = defaultdict(list)
        self.arrivals: dict[str, list[float]] = defaultdict(list)

    async def receive(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        body = json.loads(await request.read())
        for item in body["value"]:
            call_id = item["resourceUrl"].rsplit("/", 1)[-1]
            self.states[call_id].append(item["resourceData"].get("state", "?"))
            self.arrivals[call_id].append(now)
            self.count += 1
        self.first = self.first or now
        self.last = now
        return web.Response(status=202)

    def in_order(self) -> tuple[bool, str]:
        for call_id, states in self.states.items():
            cycle = CYCLES.get(states[-1]) if states else None
            if cycle is None or len(states) % len(cycle):
                return False, f"call {call_id}: {states}"
            for start in range(0, len(states), len(cycle)):
                if tuple(states[start : start + len(cycle)]) != cycle:
                    return False, f"call {call_id}: {states}"
        return True, ""

    async def stats(self, request: web.Request) -> web.Response:
        ordered, problem = self.in_order()
        detail = request.query.get("arrivals") == "1"
        return web.json_response(
            {
                "count": self.count,
                "calls": len(self.states),
                "first": self.first,
                "last": self.last,
                "inOrder": ordered,
                "problem": problem,
                "arrivals": self.arrivals if detail else None,
            }
        )

    async def clear(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"status": "reset"})


def main() -> None:
    sink = Sink()
    app = web.Application()
    app.router.add_post("/api/calls", sink.receive)
    app.router.add_get("/stats", sink.stats)
    app.router.add_post("/reset", sink.clear)

    async def ready(app: web.Application) -> None:
        print("ready", flush=True)

    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
