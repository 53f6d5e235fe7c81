"""``mockgraph record`` with no tenant: a second mockgraph plays real Graph upstream, a real
bot receiver sits behind the proxy, and what was recorded is replayed in a fresh mockgraph.
The bot must get the same notifications, in the same order, with pauses within the
recorded ones ± 100 ms."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.http.recorder import Recorder, RecordSettings
from mockgraph.scenarios.loader import load_paths
from mockgraph.testing import BotReceiver, MockGraph
from mockgraph.testing.receiver import Received
from tests.conftest import launched, marked_settings

TOKEN = "Bearer secret-graph-token-0123456789"
PSTN_FAILS = """\
name: upstream-pstn-fails
operation: transfer
when:
  transferTarget.identity.phone.id: "+15550100"
steps:
  - after: 80ms
    notify: {changeType: updated, resourceData: {state: transferring}}
  - after: 120ms
    notify:
      changeType: updated
      resourceData:
        state: established
        resultInfo: {code: 500, subcode: 7000, message: "the PSTN leg failed"}
"""
ALICE = {"identity": {"user": {"id": "8c1a-alice", "tenantId": "tenant-real-0001"}}}
PSTN = {"identity": {"phone": {"id": "+15550100"}}}
SERVICE_MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
# Seconds. Both runs time what the bot received, delivery included, on a machine the suite
# shares: a POST held up 70 ms in the recording run (seen once under load) moved a recorded
# pause by that much, so the bound is that of a scheduler's hiccup, not of mockgraph's pauses.
TOLERANCE = 0.1


@pytest.fixture(autouse=True)
def quiet_collector() -> Iterator[None]:
    """Bot, proxy and both mockgraphs share this process: a collector pass over the whole
    test session's heap (70 ms and more) would shift one run's timings and not the other's."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture
async def upstream(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[MockGraph]:
    """The "real Graph" of these tests."""
    (tmp_path / "upstream").mkdir()
    (tmp_path / "upstream" / "pstn.yaml").write_text(PSTN_FAILS)
    settings = {**marked_settings(request), "delivery_attempts": 3}
    async with MockGraph(scenarios=[tmp_path / "upstream"], **settings) as graph:
        yield graph


@pytest.fixture
async def bot() -> AsyncIterator[BotReceiver]:
    async with BotReceiver() as receiver:
        yield receiver


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "recorded"


@pytest.fixture
async def recorder(upstream: MockGraph, bot: BotReceiver, out: Path) -> AsyncIterator[Recorder]:
    settings = RecordSettings(upstream=upstream.url, bot=bot.callback_url, out=out)
    async with Recorder(settings) as proxy:
        yield proxy


class Bot:
    """The bot's requests to its Graph base URL, and what it was told, timed from each answer."""

    def __init__(self, graph: str, receiver: BotReceiver, http: aiohttp.ClientSession) -> None:
        self.graph = graph.rstrip("/")
        self.receiver = receiver
        self.http = http

    async def post(self, call_id: str, action: str, body: dict[str, Any]) -> tuple[int, Any, float]:
        async with self.http.post(
            f"{self.graph}/v1.0/communications/calls/{call_id}/{action}",
            json=body,
            headers={"Authorization": TOKEN},
        ) as response:
            text = await response.text()
            answered = asyncio.get_running_loop().time()
            return response.status, json.loads(text) if text else None, answered

    async def step(
        self, call_id: str, action: str, body: dict[str, Any], notifications: int
    ) -> list[tuple[str, float]]:
        """Make the request; wait for ``notifications`` more POSTs about the call; return
        each as (what it says, seconds after the answer)."""
        before = len(self.receiver.for_call(call_id))
        status, answer, answered = await self.post(call_id, action, body)
        assert 200 <= status < 300, answer
        await self.receiver.wait_for(before + notifications, call_id=call_id, timeout=10)
        return [
            (said(post), post.at - answered)
            for post in self.receiver.for_call(call_id)[before : before + notifications]
        ]


def files_in(folder: Path) -> dict[str, str]:
    """Each file the recording wrote, by name, with its text."""
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


def journal_of(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]


def said(post: Received) -> str:
    """What one POST says, as the bot would branch on it."""
    parts = []
    for item in post.notifications:
        data = item["resourceData"]
        if isinstance(data, list):
            parts.append(f"roster of {len(data)}")
        elif "toneInfo" in data:
            parts.append(f"tone {data['toneInfo']['tone']}")
        elif "status" in data:
            parts.append(f"operation {data['status']}")
        else:
            result = data.get("resultInfo") or {}
            parts.append(
                f"{item['changeType']} {data.get('state')} {result.get('code', '')}"
                f"/{result.get('subcode', '')}"
            )
    return "; ".join(parts)


async def ivr_and_transfers(
    ring: Callable[..., Any], bot: Bot, tones: Callable[[str, str], Any]
) -> list[list[tuple[str, float]]]:
    """The flows recorded and replayed: an answered call that plays a prompt, hears a key
    and is transferred to Alice; a second call whose transfer to the PSTN fails."""
    runs = []
    first = await ring(callback_uri=bot.receiver.callback_url)
    await bot.receiver.wait_for(1, call_id=first["id"])
    answer = {
        "callbackUri": bot.receiver.callback_url,
        "acceptedModalities": ["audio"],
        "mediaConfig": SERVICE_MEDIA,
    }
    runs.append(await bot.step(first["id"], "answer", answer, 3))
    status, _, _ = await bot.post(first["id"], "subscribeToTone", {})
    assert status == 200
    prompt = {
        "prompts": [
            {
                "@odata.type": "#microsoft.graph.mediaPrompt",
                "mediaInfo": {"uri": "https://bot.example/menu.wav"},
            }
        ]
    }
    runs.append(await bot.step(first["id"], "playPrompt", prompt, 1))
    before = len(bot.receiver.for_call(first["id"]))
    await tones(first["id"], "1")
    await bot.receiver.wait_for(before + 1, call_id=first["id"])
    runs.append(await bot.step(first["id"], "transfer", {"transferTarget": ALICE}, 3))
    second = await ring(callback_uri=bot.receiver.callback_url)
    await bot.receiver.wait_for(1, call_id=second["id"])
    runs.append(await bot.step(second["id"], "answer", answer, 3))
    runs.append(await bot.step(second["id"], "transfer", {"transferTarget": PSTN}, 2))
    return runs


@pytest.mark.settings(time_scale=1)  # the pauses between notifications are what is recorded
async def test_what_was_recorded_replays_the_same(
    upstream: MockGraph, recorder: Recorder, bot: BotReceiver, out: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        recorded = await ivr_and_transfers(
            lambda **spec: upstream.ring(**{**spec, "callback_uri": recorder.callback_url}),
            Bot(recorder.url, bot, http),
            upstream.press_tones,
        )
        async with http.post(recorder.url + "/_mock/record/flush") as response:
            flushed = await response.json()
    assert flushed["problems"] == []
    files = sorted(name for name in files_in(out) if name.endswith(".yaml"))
    assert files == sorted(flushed["files"])
    assert sorted(name.split("-", 2)[2] for name in files) == sorted(
        ["answer.yaml", "playPrompt.yaml", "transfer.yaml", "answer.yaml", "transfer.yaml"]
    )
    scenarios, problems = load_paths([out])
    assert problems == []
    # The prompt's key press came while it was the call's latest operation.
    prompt = next(s for s in scenarios if s.operation == "playPrompt")
    assert [step.tones for step in prompt.steps] == [(), ("tone1",)]
    assert dict(prompt.when) == {"prompts.0.mediaInfo.uri": "https://bot.example/menu.wav"}

    replay_bot = BotReceiver()
    async with (
        MockGraph(scenarios=[out]) as fresh,
        replay_bot,
        aiohttp.ClientSession() as http,
    ):

        async def press_when_due(call_id: str, keys: str) -> None:
            await fresh.wait_idle(timeout=10)  # the tone is in the scenario: nothing to press

        replayed = await ivr_and_transfers(
            fresh.ring, Bot(fresh.url, replay_bot, http), press_when_due
        )
        # Which recorded scenario each run played, as the journal says: the two answers ask
        # the same, so either answer file may play for either call (a tie the later file wins).
        names = [
            entry["scenario"]
            for entry in await fresh.journal()
            if entry["kind"] == "notification" and entry["scenario"]
        ]
    by_name = {s.name: s for s in scenarios}
    played = [by_name[name] for name, _ in itertools.groupby(names)]
    assert {s.name for s in played} <= {Path(name).stem for name in files}
    assert [s.operation for s in played] == [
        "answer",
        "playPrompt",
        "transfer",
        "answer",
        "transfer",
    ]
    assert len(played) == len(replayed)
    for then, now, scenario in zip(recorded, replayed, played, strict=True):
        assert [what for what, _ in now] == [what for what, _ in then]
        # The pauses the recorder measured (on its own clock, before passing each POST on and
        # writing its files) are what the replay plays: each notification comes their sum
        # after the answer. The bot's own timings of the recording run are not the oracle:
        # they include the proxy's hop and its writes, which a loaded machine stretched by
        # 100 to 200 ms in some runs.
        due = list(itertools.accumulate(step.after for step in scenario.steps))
        for (what, is_), planned in zip(now, due, strict=False):
            assert abs(is_ - planned) <= TOLERANCE, (what, planned, is_)
    assert recorded[-1][-1][0] == "updated established 500/7000"


async def test_no_secret_reaches_a_file(
    upstream: MockGraph, recorder: Recorder, bot: BotReceiver, out: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        proxy = Bot(recorder.url, bot, http)
        call = await upstream.ring(callback_uri=recorder.callback_url)
        await bot.wait_for(1, call_id=call["id"])
        answer = {
            "callbackUri": bot.callback_url,
            "mediaConfig": SERVICE_MEDIA,
            "acceptedModalities": ["audio"],
        }
        await proxy.step(call["id"], "answer", answer, 3)
        await proxy.step(call["id"], "recordResponse", {"maxRecordDurationInSeconds": 5}, 1)
    await recorder.close()
    written = files_in(out)
    notifications = [post.body for post in bot.received]
    graph_token = json.dumps(notifications)  # the recording's access token is in there
    token = next(
        item["resourceData"]["recordingAccessToken"]
        for body in notifications
        for item in body["value"]
        if "recordingAccessToken" in item["resourceData"]
    )
    assert token in graph_token
    for name, text in written.items():
        assert "secret-graph-token" not in text, name
        assert token not in text, name
        assert "Bearer ey" not in text, name  # the notifications' own tokens
    journal = journal_of(out)
    assert {entry["headers"].get("Authorization") for entry in journal} == {"[redacted]"}
    record = next(name for name in written if name.endswith("recordResponse.yaml"))
    assert "{{ recording.token }}" in written[record]
    assert "{{ recording.location }}" in written[record]


async def test_pseudonymised_ids(upstream: MockGraph, bot: BotReceiver, out: Path) -> None:
    settings = RecordSettings(
        upstream=upstream.url, bot=bot.callback_url, out=out, pseudonymise=True
    )
    async with Recorder(settings) as recorder, aiohttp.ClientSession() as http:
        proxy = Bot(recorder.url, bot, http)
        call = await upstream.seed_call(
            callback_uri=recorder.callback_url, tenant_id="tenant-real-0001"
        )
        await proxy.step(call["id"], "transfer", {"transferTarget": ALICE}, 3)
    text = "".join(files_in(out).values())
    assert "tenant-real-0001" not in text
    assert "8c1a-alice" not in text
    scenarios, problems = load_paths([out])
    assert problems == [] and len(scenarios) == 1
    (alias,) = scenarios[0].when.values()
    assert isinstance(alias, str) and len(alias) == 36  # a GUID, the same wherever it appears


async def test_callbacks_point_at_the_public_url_and_reach_the_bots_own(
    upstream: MockGraph, bot: BotReceiver, out: Path
) -> None:
    public = "https://127.0.0.1:9"  # as an ngrok URL would be: not where the proxy listens
    settings = RecordSettings(
        upstream=upstream.url, bot=bot.callback_url, out=out, public_url=public
    )
    own = f"{bot.url}/answered"  # the callbackUri the bot gives when it answers
    async with Recorder(settings) as recorder, aiohttp.ClientSession() as http:
        # Graph reaches the proxy at its public URL; here, at its local one.
        call = await upstream.ring(callback_uri=f"{recorder.url}/_record/callback")
        await bot.wait_for(1, call_id=call["id"])
        answer = {"callbackUri": own, "acceptedModalities": ["audio"], "mediaConfig": SERVICE_MEDIA}
        status, _, _ = await Bot(recorder.url, bot, http).post(call["id"], "answer", answer)
        assert status == 202
        told = [e for e in await upstream.journal(call["id"]) if e["kind"] == "request"]
        assert told[-1]["body"]["callbackUri"] == f"{public}/_record/callback/0"
        async with http.post(f"{recorder.url}/_record/callback/0", json={"value": []}) as response:
            assert response.status == 202
    assert [post.path for post in bot.received] == ["/api/calls", "/answered"]


async def test_an_unreachable_upstream_answers_502_and_is_journaled(
    bot: BotReceiver, out: Path, unused_tcp_port: int
) -> None:
    settings = RecordSettings(
        upstream=f"http://127.0.0.1:{unused_tcp_port}", bot=bot.callback_url, out=out
    )
    async with (
        Recorder(settings) as recorder,
        aiohttp.ClientSession() as http,
        http.post(
            f"{recorder.url}/v1.0/communications/calls/c1/transfer",
            json={"transferTarget": ALICE},
            headers={"Authorization": TOKEN, "client-request-id": "abc"},
        ) as response,
    ):
        assert response.status == 502
        error = (await response.json())["error"]
    assert error["code"] == "BadGateway"
    assert f"127.0.0.1:{unused_tcp_port}" in error["message"]
    assert error["innerError"]["client-request-id"] == "abc"
    (entry,) = journal_of(out)
    assert (entry["direction"], entry["status"]) == ("bot to Graph", 502)
    assert entry["error"]
    assert list(files_in(out)) == ["journal.jsonl"]


async def test_a_bot_that_is_down_gets_graphs_retries(
    upstream: MockGraph, out: Path, unused_tcp_port: int
) -> None:
    down = f"http://127.0.0.1:{unused_tcp_port}/api/calls"
    async with Recorder(RecordSettings(upstream=upstream.url, bot=down, out=out)) as recorder:
        call = await upstream.ring(callback_uri=recorder.callback_url)
        await upstream.wait_idle(timeout=10)
    (sent,) = [e for e in await upstream.journal(call["id"]) if e["kind"] == "notification"]
    assert sent["outcome"] == "failed"
    assert [attempt["status"] for attempt in sent["attempts"]] == [502, 502, 502]
    forwarded = journal_of(out)
    assert [(e["direction"], e["status"]) for e in forwarded] == [("Graph to bot", 502)] * 3
    assert all(down in e["url"] and e["error"] for e in forwarded)


async def start_record(*argv: str) -> tuple[asyncio.subprocess.Process, str]:
    """``mockgraph record`` in its own process; its URL, read from the ready line."""
    process, line = await launched("record", *argv)
    assert line.startswith("mockgraph record listening on http://127.0.0.1:"), line
    return process, line.split()[-1]


async def test_a_killed_proxy_leaves_each_complete_operation_on_disk(
    upstream: MockGraph, bot: BotReceiver, out: Path
) -> None:
    process, url = await start_record(
        "--upstream", upstream.url, "--bot", bot.callback_url, "--out", str(out)
    )
    try:
        async with aiohttp.ClientSession() as http:
            proxy = Bot(url, bot, http)
            call = await upstream.seed_call(callback_uri=f"{url}/_record/callback")
            await proxy.step(call["id"], "transfer", {"transferTarget": ALICE}, 3)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    scenarios, problems = load_paths([out])
    assert problems == []
    (transfer,) = scenarios
    assert transfer.operation == "transfer" and len(transfer.steps) == 3
    assert [n["resourceData"]["state"] for step in transfer.steps for n in step.notify] == [
        "transferring",
        "transferAccepted",
        "terminated",
    ]


async def test_sigterm_stops_the_proxy_cleanly_with_everything_written(
    upstream: MockGraph, bot: BotReceiver, out: Path
) -> None:
    process, url = await start_record(
        "--upstream", upstream.url, "--bot", bot.callback_url, "--out", str(out)
    )
    async with aiohttp.ClientSession() as http:
        call = await upstream.seed_call(callback_uri=f"{url}/_record/callback")
        await Bot(url, bot, http).step(call["id"], "transfer", {"transferTarget": ALICE}, 3)
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert "recorded 1 scenario file(s)" in err.decode()
    scenarios, problems = load_paths([out])
    assert problems == [] and [s.name for s in scenarios] == ["recorded-001-transfer"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--upstream", "graph.microsoft.com"], "--upstream: must be an http:// or https:// URL"),
        (["--bot", "ftp://bot"], "--bot: must be an http:// or https:// URL"),
        (["--out", "/proc/version/x"], "--out: cannot write to '/proc/version/x'"),
        (["--port", "70000"], "--port: must be a port number"),
    ],
)
def test_bad_flags_are_refused_at_start(argv: list[str], message: str, tmp_path: Path) -> None:
    flags = {
        "--upstream": "https://graph.microsoft.com",
        "--bot": "http://127.0.0.1:1/api/calls",
        "--out": str(tmp_path / "out"),
    }
    flags.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    result = subprocess.run(
        [sys.executable, "-m", "mockgraph", "record", *[x for kv in flags.items() for x in kv]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr
