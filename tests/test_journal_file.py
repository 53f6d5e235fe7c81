"""--journal-file: every final journal entry is appended as a JSON line and flushed at once,
so that the record of a run survives the run being killed."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph, MockGraphClient
from tests.conftest import AUTH, BLIND, launched
from tests.test_cli import run

SLOW = """\
name: slow
operation: transfer
default: true
when: {transferTarget.identity.user.id: later}
steps:
  - after: 60s
    notify: {changeType: updated, resourceData: {state: transferring}}
"""


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_entries_are_appended_once_final(tmp_path: Path, bot: BotReceiver) -> None:
    journal = tmp_path / "journal.jsonl"
    async with MockGraph(journal_file=str(journal), time_scale=0) as graph:
        call = await graph.seed_call(callback_uri=bot.callback_url)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        async with aiohttp.ClientSession() as http, http.post(url, json=BLIND, headers=AUTH):
            pass
        await graph.wait_for_notifications(call["id"], 3)
        written = lines(journal)  # before the server stops: nothing waits for a close
    kinds = [(entry["kind"], entry.get("outcome") or entry.get("status")) for entry in written]
    assert kinds == [("request", 202)] + [("notification", "delivered")] * 3


async def test_a_killed_server_leaves_every_notification_that_went_out(
    tmp_path: Path, bot: BotReceiver
) -> None:
    journal = tmp_path / "journal.jsonl"
    process, ready = await launched(
        "serve",
        "--journal-file",
        str(journal),
        "--callback-url",
        bot.callback_url,
        env={"MOCKGRAPH_TIME_SCALE": "0.1"},
        stderr=asyncio.subprocess.DEVNULL,
    )
    server = MockGraphClient(ready.rsplit(" ", 1)[-1].strip())
    await server.load_scenarios(SLOW)
    later = {"transferTarget": {"identity": {"user": {"id": "later"}}}}
    async with aiohttp.ClientSession() as http:
        for index in range(20):
            call = await server.seed_call(f"c{index}")
            body = BLIND if index % 2 else later  # half finish, half wait a minute
            url = f"{server.graph_url()}/communications/calls/{call['id']}/transfer"
            async with http.post(url, json=body, headers=AUTH) as response:
                assert response.status == 202
    for index in range(1, 20, 2):
        await server.wait_for_notifications(f"c{index}", 3)
    process.send_signal(signal.SIGKILL)  # mid-run: ten calls still wait for their step
    await process.wait()

    written = lines(journal)
    sent = {
        attempt["messageId"]
        for entry in written
        if entry["kind"] == "notification"
        for attempt in entry["attempts"]  # type: ignore[attr-defined]
    }
    received = {r.headers["X-Microsoft-Skype-Message-ID"] for r in bot.received}
    assert len(received) == 30 and received <= sent
    requests = [entry for entry in written if entry["kind"] == "request"]
    assert len(requests) == 20 and all(entry["status"] == 202 for entry in requests)


async def test_a_journal_file_that_cannot_be_written_stops_the_start(tmp_path: Path) -> None:
    code, out, err = await run(
        "serve", "--port", "0", "--journal-file", str(tmp_path / "no-such-dir" / "j.jsonl")
    )
    assert (code, out) == (2, "") and "cannot append to" in err and "Traceback" not in err


@pytest.mark.parametrize("limit", [2])
async def test_the_file_keeps_what_the_memory_bound_drops(
    tmp_path: Path, bot: BotReceiver, limit: int
) -> None:
    journal = tmp_path / "journal.jsonl"
    async with MockGraph(journal_file=str(journal), journal_limit=limit, time_scale=0) as graph:
        call = await graph.seed_call(callback_uri=bot.callback_url)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        async with aiohttp.ClientSession() as http, http.post(url, json=BLIND, headers=AUTH):
            pass
        await bot.wait_for(3)
        await graph.wait_idle()
        assert len(await graph.journal()) == limit
    assert len(lines(journal)) == 4
