"""A healthy bot's lateness while 20 calls hang on a bot that never answers (RELIABILITY.md):
``python bench/hung_bot.py``."""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for the tests' hostile bots

from mockgraph.testing import BotReceiver
from tests.test_hostile_bots import hostile, mockgraph, silent, transfer


async def main() -> None:
    async with (
        hostile(silent) as url,
        BotReceiver() as healthy,
        mockgraph(delivery_timeout=30, time_scale=1) as graph,
    ):
        for index in range(20):
            await transfer(graph, url, f"hung{index}")
        for index in range(50):
            await transfer(graph, healthy.callback_url, f"ok{index}")
        late: list[float] = []
        took: list[float] = []
        for index in range(50):
            for record in await graph.wait_for_notifications(f"ok{index}", 3, timeout=30):
                late.append(record["lateMs"])
                took.append(record["attempts"][-1]["durationMs"])
        hung = [
            entry
            for entry in await graph.journal()
            if entry["kind"] == "notification"
            and entry["outcome"] == "pending"
            and str(entry["callId"]).startswith("hung")
        ]
    late.sort()
    took.sort()
    p99 = late[int(len(late) * 0.99) - 1]
    print(
        f"healthy: {len(late)} notifications; lateness p50 {statistics.median(late):.2f} ms, "
        f"p99 {p99:.2f}, max {late[-1]:.2f}; delivery p50 {statistics.median(took):.2f} ms, "
        f"max {took[-1]:.2f}; hung still pending: {len(hung)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
