"""What a bot developer waits for: a bot's pytest suite, run three ways (``make bench``
figures "bot suite"), and the in-process server's start and stop.

The suite is generated: SUITE_TESTS tests, each of which seeds a call, lets a small bot
under test (an aiohttp app in the test process) transfer it, and waits until the bot has
seen the final notification. It runs
- (a) against mockgraph's pytest plugin (its in-process server) at time scale 0;
- (b) against an external ``mockgraph serve --time-scale 0`` (``MOCKGRAPH_URL``);
- (c) against what a developer would write by hand instead: an aiohttp fixture that
  answers 202 and POSTs the three notifications of a transfer.
Each is a fresh ``pytest`` process, timed from start to exit; the three take turns.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

SUITE_TESTS = int(os.environ.get("BENCH_SUITE_TESTS", "200"))

BOT = '''
import asyncio

import aiohttp
import pytest
from aiohttp import web


class Bot:
    """The bot under test: it transfers a call when told to, and answers notifications."""

    def __init__(self) -> None:
        self.finished: dict[str, asyncio.Event] = {}
        self.http = aiohttp.ClientSession()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/calls", self.notified)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.callback_url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/api/calls"

    async def close(self) -> None:
        await self.http.close()
        await self.runner.cleanup()

    def done(self, call_id: str) -> asyncio.Event:
        return self.finished.setdefault(call_id, asyncio.Event())

    async def notified(self, request: web.Request) -> web.Response:
        for notification in (await request.json())["value"]:
            call_id = notification["resourceUrl"].rstrip("/").split("/")[-1]
            if notification["resourceData"].get("state") == "terminated":
                self.done(call_id).set()
        return web.Response(status=202)

    async def transfer(self, graph_url: str, call_id: str) -> None:
        body = {"transferTarget": {"identity": {"user": {"id": "sales"}}}}
        async with self.http.post(
            f"{graph_url}/communications/calls/{call_id}/transfer",
            json=body,
            headers={"Authorization": "Bearer bot"},
        ) as response:
            assert response.status == 202, await response.text()

    async def wait_until_done(self, call_id: str) -> None:
        await asyncio.wait_for(self.done(call_id).wait(), 10)


@pytest.fixture
async def bot():
    bot = Bot()
    await bot.start()
    yield bot
    await bot.close()
'''

MOCKGRAPH_SUITE = """
import pytest


@pytest.mark.mockgraph(time_scale=0)
@pytest.mark.parametrize("n", range(TESTS))
async def test_transfer(n, mockgraph, bot):
    call = await mockgraph.seed_call(callback_uri=bot.callback_url)
    await bot.transfer(mockgraph.graph_url(), call["id"])
    await bot.wait_until_done(call["id"])
"""

STUB_SUITE = '''
import asyncio

import aiohttp
import pytest
from aiohttp import web

STATES = [("updated", "transferring"), ("updated", "transferAccepted"), ("deleted", "terminated")]


class Stub:
    """A hand-made Graph: 202 to a transfer, then its three notifications, in order."""

    def __init__(self) -> None:
        self.calls: dict[str, str] = {}
        self.http = aiohttp.ClientSession()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1.0/communications/calls/{id}/transfer", self.transfer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.graph_url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/v1.0"

    async def close(self) -> None:
        await asyncio.gather(*self.tasks)
        await self.http.close()
        await self.runner.cleanup()

    async def transfer(self, request: web.Request) -> web.Response:
        call_id = request.match_info["id"]
        task = asyncio.create_task(self.notify(call_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.Response(status=202)

    async def notify(self, call_id: str) -> None:
        for change, state in STATES:
            body = {"value": [{
                "changeType": change,
                "resourceUrl": f"/communications/calls/{call_id}",
                "resourceData": {"@odata.type": "#microsoft.graph.call", "state": state},
            }]}
            async with self.http.post(self.calls[call_id], json=body) as response:
                await response.read()


@pytest.fixture
async def stub():
    stub = Stub()
    await stub.start()
    yield stub
    await stub.close()


@pytest.mark.parametrize("n", range(TESTS))
async def test_transfer(n, stub, bot):
    stub.calls[f"call-{n}"] = bot.callback_url
    await bot.transfer(stub.graph_url, f"call-{n}")
    await bot.wait_until_done(f"call-{n}")
'''

INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


def write_suite(folder: Path, kind: str) -> Path:
    suite = folder / kind
    suite.mkdir()
    (suite / "pytest.ini").write_text(INI)
    (suite / "conftest.py").write_text(BOT)
    text = MOCKGRAPH_SUITE if kind == "mockgraph" else STUB_SUITE
    (suite / "test_bot.py").write_text(text.replace("TESTS", str(SUITE_TESTS)))
    return suite


async def run_suite(suite: Path, env: dict[str, str], plugin: bool) -> float:
    """Seconds from starting ``pytest`` to its exit; it must pass. Only the plugins a bot's
    project would have load (pytest-asyncio, and mockgraph's but for the stub), not every
    one this venv holds for mockgraph's own tests."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "pytest_asyncio.plugin"]
    if plugin:
        argv += ["-p", "mockgraph.testing.plugin"]
    env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=suite,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    took = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"the {suite.name} suite failed:\n{out.decode()[-3000:]}")
    return took


async def suite_times(rounds: int, serve_url: str) -> dict[str, list[float]]:
    """Wall time of each way, ``rounds`` times, taking turns."""
    env = {k: v for k, v in os.environ.items() if k not in ("MOCKGRAPH_URL",)}
    times: dict[str, list[float]] = {"plugin": [], "serve": [], "stub": []}
    with tempfile.TemporaryDirectory() as folder:
        mockgraph_suite = write_suite(Path(folder), "mockgraph")
        stub_suite = write_suite(Path(folder), "stub")
        # Warm the OS's file cache, and each suite's .pytest_cache (where the plugin keeps
        # its signing key), as a developer's second run finds them.
        await run_suite(stub_suite, env, plugin=False)
        await run_suite(mockgraph_suite, env, plugin=True)
        for _ in range(rounds):
            times["stub"].append(await run_suite(stub_suite, env, plugin=False))
            times["plugin"].append(await run_suite(mockgraph_suite, env, plugin=True))
            served = {**env, "MOCKGRAPH_URL": serve_url}
            times["serve"].append(await run_suite(mockgraph_suite, served, plugin=True))
    return times


async def start_stop_times(rounds: int) -> dict[str, float]:
    """Median seconds to start and stop the in-process ``MockGraph()``, a bare aiohttp
    ``AppRunner`` on port 0, and one whose app has as many routes as mockgraph's, taking
    turns."""
    from mockgraph.testing import MockGraph

    async with MockGraph() as graph:
        paths = [
            (route.method, route.resource.canonical)
            for route in graph.server.app.router.routes()
            if route.resource is not None and route.method != "HEAD"
        ]

    async def nothing(request: web.Request) -> web.Response:
        return web.Response()

    async def bare(routes: list[tuple[str, str]]) -> None:
        app = web.Application()
        for method, path in routes:
            app.router.add_route(method, path, nothing)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        await runner.cleanup()

    times: dict[str, list[float]] = {"mockgraph": [], "aiohttp": [], "routes": []}
    for _ in range(rounds):
        for who, start_and_stop in (
            ("aiohttp", lambda: bare([])),
            ("routes", lambda: bare(paths)),
        ):
            started = time.perf_counter()
            await start_and_stop()
            times[who].append(time.perf_counter() - started)
        started = time.perf_counter()
        async with MockGraph():
            pass
        times["mockgraph"].append(time.perf_counter() - started)
    return {who: statistics.median(values) for who, values in times.items()} | {
        "route_count": float(len(paths))
    }
