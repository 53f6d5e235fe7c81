"""The README is the contract: its shell walkthrough runs, its YAML loads, its sample
problems are what mockgraph prints."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from mockgraph.scenarios.loader import load_text
from mockgraph.testing import BotReceiver, MockGraph
from tests.docs import DOCS, page
from tests.docs import README as README_ONLY

README = DOCS  # the README and the docs pages
WALKTHROUGH = README_ONLY  # the README's own: the five-minute walkthrough
DOCUMENTED_SERVER = "http://127.0.0.1:8080"
DOCUMENTED_BOT = "http://127.0.0.1:3978/api/calls"


def blocks(language: str, text: str = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def runnable_snippets() -> list[str]:
    """The python blocks marked to run as test files (tests/test_plugin.py runs them)."""
    return re.findall(r"<!-- runs as a test file -->\n```python\n(.*?)```", README, re.S)


async def test_walkthrough_runs_against_a_real_server_and_bot(graph: MockGraph, bot: BotReceiver):
    script = "\n".join(blocks("sh", WALKTHROUGH))
    assert script.count("curl") >= 5
    script = script.replace(DOCUMENTED_SERVER, graph.url).replace(DOCUMENTED_BOT, bot.callback_url)
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "HTTP/1.1 202 Accepted" in out.decode()

    await bot.wait_for(3, call_id="call-1")
    await bot.wait_for(2, call_id="call-2")
    [*_, last] = bot.for_call("call-1")
    assert last.notifications[0]["resourceData"]["resultInfo"]["subcode"] == 7015
    [*_, failed] = bot.for_call("call-2")
    assert failed.notifications[0]["resourceData"]["resultInfo"]["subcode"] == 7000
    assert '"outcome": "delivered"' in out.decode()


def test_yaml_examples_load() -> None:
    [example] = [block for block in blocks("yaml") if "vip-transfer-fails" in block]
    scenarios, problems = load_text(example, "README.md")
    assert problems == [] and scenarios[0].name == "vip-transfer-fails"


def test_the_undeclared_example_loads_and_needs_its_list() -> None:
    [example] = [block for block in blocks("yaml") if "recorded-002-answer" in block]
    scenarios, problems = load_text(example, "README.md")
    assert problems == [] and scenarios[0].steps[0].notify[0]["resourceData"]["mediaState"] == {
        "audio": "active",
        "videoFrozen": False,
    }
    _, problems = load_text(example.split("    undeclared:")[0], "README.md")
    assert [p.message for p in problems] == [
        "'steps[0].notify.resourceData.mediaState': microsoft.graph.callMediaState has no "
        "property 'videoFrozen' (it declares: audio)"
    ]


def test_sample_problems_are_what_mockgraph_prints() -> None:
    [example] = [block for block in blocks("yaml") if "vip-transfer-fails" in block]
    typos = example.replace("state: established", "state: establised").replace(
        "subcode: 7000", "subCode: 7000"
    )
    _, problems = load_text(typos, "vip.yaml")
    [sample] = [block for block in blocks("text") if block.startswith("vip.yaml:")]
    documented = [line.removesuffix("…").rstrip() for line in sample.strip().splitlines()]
    assert [str(p)[: len(d)] for p, d in zip(problems, documented, strict=True)] == documented


def test_every_record_flag_and_route_is_documented(tmp_path: Path) -> None:
    import argparse

    from mockgraph.cli import build_parser
    from mockgraph.http.recorder import Recorder, RecordSettings

    section = page("how-to/record-real-graph.md")
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    flags = [
        flag
        for action in commands.choices["record"]._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    ]
    assert len(flags) == 7
    for flag in flags:
        assert f"| `{flag}" in section, flag
    recorder = Recorder(RecordSettings("http://graph", "http://bot", tmp_path))
    for route in recorder.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method == "POST":
            assert f"POST {path.replace('{index}', 'N')}" in section, path


async def test_token_validation_snippet_accepts_mockgraphs_tokens(
    graph: MockGraph, bot: BotReceiver
) -> None:
    [snippet] = [block for block in blocks("python") if "PyJWKClient" in block]
    snippet = snippet.replace(DOCUMENTED_SERVER, graph.url)
    call = await graph.seed_call(callback_uri=bot.callback_url, tenant_id="t-1")
    async with aiohttp.ClientSession() as http:
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        body = {"transferTarget": {"identity": {"user": {"id": "u"}}}}
        await http.post(url, json=body, headers={"Authorization": "Bearer x"})
    await bot.wait_for(1)
    token = bot.received[0].headers["Authorization"].removeprefix("Bearer ")
    scope: dict[str, Any] = {"token": token, "APP_ID": graph.backend.settings.app_id}
    # PyJWKClient fetches with blocking urllib: run it off this loop, which serves mockgraph.
    await asyncio.to_thread(exec, snippet, scope)
    assert scope["claims"]["tid"] == "t-1"


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def test_the_inspector_screenshot_is_a_real_run() -> None:
    """tests/test_inspector.py takes it (MOCKGRAPH_UPDATE_SCREENSHOT=1 writes it here)."""
    screenshot = Path(__file__).parents[1] / "docs" / "inspector.png"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](../inspector.png)" in page("reference/control-plane.md")


async def test_the_join_and_leave_example_plays(bot: BotReceiver) -> None:
    [example] = [block for block in blocks("yaml") if "ann-drops-in" in block]
    async with MockGraph(time_scale=0) as graph, aiohttp.ClientSession() as http:
        await graph.load_scenarios(example)
        call = await graph.seed_call(callback_uri=bot.callback_url, meeting_info={"x": "1"})
        await graph.pin_scenario(call["id"], "ann-drops-in")
        body = {"prompts": [{"mediaInfo": {"uri": "https://bot.example/a.wav"}}]}
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/playPrompt"
        async with http.post(url, json=body, headers={"Authorization": "Bearer t"}) as response:
            assert response.status == 200
        await bot.wait_for(3, call_id=call["id"])
    joined, left, done = (r.notifications[0]["resourceData"] for r in bot.for_call(call["id"]))
    assert any("user" in p["info"]["identity"] for p in joined)
    assert not any("user" in p["info"]["identity"] for p in left)
    assert done["status"] == "completed" and done["prompts"] == body["prompts"]
