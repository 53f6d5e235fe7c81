"""`mockgraph import`: scenarios from traces of real Graph notifications, played back the same;
and `GET /_mock/calls/{id}/trace`, whose output imports back into the call's scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND
from tests.test_cli import run

CALL = "57dab8b1-894c-409a-b240-bd8beae78896"


def body(state: str, **more: Any) -> dict[str, Any]:
    """A notification as the transfer page documents it (with the Skype-era spellings)."""
    return {
        "@odata.type": "#microsoft.graph.commsNotifications",
        "value": [
            {
                "@odata.type": "#microsoft.graph.commsNotification",
                "changeType": "Updated" if state == "transferring" else "updated",
                "resource": f"/app/calls/{CALL}",
                "resourceUrl": f"/communications/calls/{CALL}",
                "resourceData": {"@odata.type": "#microsoft.graph.call", "state": state, **more},
            }
        ],
    }


DOCUMENTED: list[
    dict[str, Any]
] = [  # transferring, transferAccepted, then the end: 50 ms and 100 ms apart
    {"time": "2026-12-01T10:00:00.000Z", "body": body("transferring")},
    {"time": "2026-12-01T10:00:00.050Z", "body": body("transferAccepted")},
    {
        "time": "2026-12-01T10:00:00.150Z",
        "body": body(
            "terminated",
            resultInfo={"code": 0, "subCode": 7015, "message": "GracefulTransferCompleted"},
        ),
    },
]


async def play(
    graph: MockGraph, bot: BotReceiver, name: str, count: int = 3
) -> list[dict[str, Any]]:
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.pin_scenario(call["id"], name)
    url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
    async with aiohttp.ClientSession() as http, http.post(url, json=BLIND, headers=AUTH):
        pass
    records = await graph.wait_for_notifications(call["id"], count)
    items = [record["body"]["value"][0] for record in records]
    for item in items:  # the call's own chain id, as real Graph sends it: not the trace's
        assert item["resourceData"].pop("callChainId") == call["callChainId"]
    for item in items:
        assert item.pop("resource") == item.pop("resourceUrl").replace("communications/", "app/")
    return items


@pytest.mark.parametrize("form", ["jsonl", "folder", "har"])
async def test_a_documented_flow_imports_and_plays_back_the_same(
    tmp_path: Path, bot: BotReceiver, form: str
) -> None:
    if form == "jsonl":
        trace = tmp_path / "trace.jsonl"
        trace.write_text("".join(json.dumps(line) + "\n" for line in DOCUMENTED))
    elif form == "folder":
        trace = tmp_path / "logged"
        trace.mkdir()
        for index, line in enumerate(DOCUMENTED):  # as bots log them: bodies, no times
            (trace / f"{index:03}.json").write_text(json.dumps(line["body"]))
    else:
        trace = tmp_path / "capture.har"
        entries = [
            {
                "startedDateTime": line["time"],
                "request": {
                    "method": "POST",
                    "url": "https://bot.example/api/calls",
                    "postData": {"mimeType": "application/json", "text": json.dumps(line["body"])},
                },
            }
            for line in DOCUMENTED
        ]
        trace.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    out = tmp_path / "imported.yaml"
    code, _, err = await run(
        "import",
        str(trace),
        "--name",
        "real-transfer",
        "--operation",
        "transfer",
        "--out",
        str(out),
    )
    assert code == 0, err
    text = out.read_text()
    assert CALL not in text  # the call's own id is mockgraph's to fill in
    assert "noResource" not in text  # every POST had it, as real Graph sends it
    assert "  quirks:\n  - capitalChangeType" in text and "  quirks:\n  - subCode" in text
    if form != "folder":
        assert "after: 50ms" in text and "after: 100ms" in text
    code, stdout, _ = await run("validate", str(out))
    assert code == 0, stdout

    async with MockGraph([out], time_scale=0) as graph:
        played = await play(graph, bot, "real-transfer")
    sent = [line["body"]["value"][0] for line in DOCUMENTED]
    for got, documented in zip(played, sent, strict=True):
        expected = {k: v for k, v in documented.items() if k not in ("resource", "resourceUrl")}
        assert got["changeType"] == expected["changeType"]
        # What real Graph adds to the doc examples (sambetts/graph-calling-bots captures):
        # resultInfo typed, and two properties on every notification after the set-up.
        result = got["resourceData"].get("resultInfo")
        if result is not None:
            assert result.pop("@odata.type") == "#microsoft.graph.resultInfo"
        assert got["resourceData"].pop("coOrganizers") == []
        capability = got["resourceData"].pop("meetingCapability")
        assert capability == {"@odata.type": "#microsoft.graph.meetingCapability"}
        assert got["resourceData"] == expected["resourceData"]


async def test_an_exported_trace_imports_into_the_calls_scenario(
    tmp_path: Path, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0) as graph, aiohttp.ClientSession() as http:
        original = await play(graph, bot, "transfer-failure-7000", count=2)
        [call] = await graph.calls()
        async with http.get(f"{graph.url}/_mock/calls/{call['id']}/trace") as response:
            assert response.content_type == "application/x-ndjson"
            trace = await response.text()
    (tmp_path / "run.jsonl").write_text(trace)
    out = tmp_path / "again.yaml"
    code, _, err = await run(
        "import", str(tmp_path / "run.jsonl"), "--name", "again", "--operation", "transfer",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    async with MockGraph([out], time_scale=0) as graph:
        assert await play(graph, bot, "again", count=2) == original


@pytest.mark.parametrize(
    "lines, fragment",
    [
        (["not json"], "not JSON"),
        ([json.dumps({"nothing": 1})], "neither a commsNotifications body"),
        ([], "holds no notification"),
        (
            [json.dumps(body("transferring")), json.dumps(body("x")).replace(CALL, "other")],
            "not call",
        ),
    ],
)
async def test_a_trace_that_cannot_be_a_scenario_says_why(
    tmp_path: Path, lines: list[str], fragment: str
) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(lines) + "\n")
    code, out, err = await run("import", str(trace), "--name", "n", "--operation", "transfer")
    assert (code, out) == (1, "") and fragment in err and "Traceback" not in err
