"""Soak: ``make soak``. 10,000 calls over a few minutes against one ``mockgraph serve``, to a
bot that answers about a tenth of the notifications badly (500, 503, 403, too slow, or by
dropping the connection). Every notification must end delivered or journaled as failed or
rejected, every call's deliveries in order, and RSS must stay bounded.

Environment: SOAK_CALLS (10000), SOAK_RATE (calls started per second, 60), SOAK_SEED (1).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
from aiohttp import web

CALLS = int(os.environ.get("SOAK_CALLS", "10000"))
RATE = float(os.environ.get("SOAK_RATE", "60"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
ORDER = ("transferring", "transferAccepted", "terminated")  # transfer-success


class Bot:
    """Answers 202 mostly; about one in ten badly, drawn from a seeded generator."""

    def __init__(self) -> None:
        self.random = random.Random(SEED)
        self.received: dict[str, list[str]] = defaultdict(list)  # call -> states, as answered 2xx
        self.replies: Counter[str] = Counter()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        item = body["value"][0]
        call_id = item["resourceUrl"].rsplit("/", 1)[-1]
        draw = self.random.random()
        if draw < 0.03:
            self.replies["500"] += 1
            return web.Response(status=500)
        if draw < 0.05:
            self.replies["503"] += 1
            return web.Response(status=503)
        if draw < 0.06:
            self.replies["403"] += 1
            return web.Response(status=403)
        if draw < 0.08:
            self.replies["too slow"] += 1
            await asyncio.sleep(2)  # past --delivery-timeout 1
            return web.Response(status=202)
        if draw < 0.10:
            self.replies["dropped connection"] += 1
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=202)
        self.replies["202"] += 1
        self.received[call_id].append(item["resourceData"].get("state", "?"))
        return web.Response(status=202)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def main() -> int:
    bot = Bot()
    app = web.Application()
    app.router.add_post("/api/calls", bot.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    callback = f"http://127.0.0.1:{port}/api/calls"
    journal = Path(tempfile.mkdtemp()) / "soak.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mockgraph", "serve", "--port", "0",
        "--callback-url", callback, "--journal-file", str(journal),
        "--delivery-timeout", "1", "--retry-backoff", "0.05",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    ready = (await process.stdout.readline()).decode()
    url = re.search(r"http://[\d.]+:\d+", ready)
    assert url, ready
    server = url.group(0)
    rss: list[int] = []
    started = time.monotonic()
    transfer = {"transferTarget": {"identity": {"user": {"id": "u"}}}}
    async with aiohttp.ClientSession() as http:

        async def one(index: int) -> None:
            async with http.post(f"{server}/_mock/calls", json={"id": f"s{index}"}) as r:
                assert r.status == 201, await r.text()
            path = f"{server}/v1.0/communications/calls/s{index}/transfer"
            async with http.post(path, json=transfer, headers={"Authorization": "Bearer s"}) as r:
                assert r.status == 202, await r.text()

        tasks = []
        for index in range(CALLS):
            due = started + index / RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(one(index)))
            if index % 500 == 0:
                rss.append(rss_kb(process.pid))
        await asyncio.gather(*tasks)
        async with http.get(f"{server}/_mock/idle", params={"timeout": "300"}) as r:
            assert r.status == 200, await r.text()
        rss.append(rss_kb(process.pid))
    elapsed = time.monotonic() - started
    process.terminate()
    await process.wait()
    await runner.cleanup()

    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    notifications = [e for e in entries if e["kind"] == "notification"]
    outcomes = Counter(e["outcome"] for e in notifications)
    expected = 3 * CALLS
    out_of_order = [
        call for call, states in bot.received.items()
        if [s for s in ORDER if s in states] != states
    ]  # fmt: skip
    delivered = sum(len(states) for states in bot.received.values())
    ok = (
        len(notifications) == expected
        and outcomes["pending"] == 0
        and outcomes["delivered"] == delivered
        and not out_of_order
    )
    print(
        f"soak: {CALLS} calls in {elapsed:.0f} s; {len(notifications)} of {expected} "
        f"notifications journaled: {dict(outcomes)}; the bot answered {dict(bot.replies)}; "
        f"delivered and received agree: {outcomes['delivered'] == delivered}; calls out of "
        f"order: {len(out_of_order)}; RSS {rss[0] // 1024} -> peak {max(rss) // 1024} -> end "
        f"{rss[-1] // 1024} MiB; {'ok' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
