"""The bots' side in benchmarks: a process that receives notifications, counts them, checks
each call's order, and records when each arrived (CLOCK_MONOTONIC, shared by processes on
Linux). GET /stats reports; POST /reset forgets."""

from __future__ import annotations

import gc
import json
import sys
import time
from collections import defaultdict

from aiohttp import web

# The orders a call's notifications may follow; a call repeats one of them (a call may be
# transferred again once it is back to established). The IVR flow: rung, answered (with the
# media update that follows), a prompt played (its operation ends), a key pressed, transferred.
CYCLES = (
    ("transferring", "transferAccepted", "established"),
    ("transferring", "transferAccepted", "terminated"),
    (
        "incoming",
        "establishing",
        "established",
        "established",
        "operation:completed",
        "tone",
        "transferring",
        "transferAccepted",
        "terminated",
    ),
)


def label(item: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    """(call id, what the notification says): its state, an operation's end, or a tone."""
    parts = item["resourceUrl"].strip("/").split("/")
    call_id = parts[parts.index("calls") + 1] if "calls" in parts[:-1] else parts[-1]
    data = item["resourceData"]
    if "operations" in parts:
        return call_id, f"operation:{data.get('status', '?')}"
    if isinstance(data, dict) and "toneInfo" in data:
        return call_id, "tone"
    return call_id, data.get("state", "?") if isinstance(data, dict) else "roster"


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
            call_id, said = label(item)
            self.states[call_id].append(said)
            self.arrivals[call_id].append(now)
            self.count += 1
        self.first = self.first or now
        self.last = now
        return web.Response(status=202)

    def in_order(self) -> tuple[bool, str]:
        for call_id, states in self.states.items():
            if not any(_repeats(states, cycle) for cycle in CYCLES):
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


def _repeats(states: list[str], cycle: tuple[str, ...]) -> bool:
    if not states or len(states) % len(cycle):
        return False
    return all(
        tuple(states[start : start + len(cycle)]) == cycle
        for start in range(0, len(states), len(cycle))
    )


def listening(_banner: str) -> None:
    """Ready once the port is open (run_app calls this after its sites start; on_startup
    would be before, and a client could find the port still closed)."""
    print("ready", flush=True)


def main() -> None:
    sink = Sink()
    app = web.Application()
    app.router.add_post("/api/calls", sink.receive)
    app.router.add_get("/stats", sink.stats)
    app.router.add_post("/reset", sink.clear)

    # The sink is the bench's instrument: a collector pass here would show as mockgraph's
    # lateness in the "arrived" figures. A bench run is short, so nothing needs collecting.
    gc.disable()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=listening, access_log=None)


if __name__ == "__main__":
    main()
