"""Prompts, recordings and tones: the operations they return, the media queue, cancellation,
key presses and recordings, over HTTP to a real bot receiver and in the domain with the clock
in the test's hands."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.calling.operations import OPERATIONS
from mockgraph.calling.service import CallingService
from mockgraph.clock import ManualClock
from mockgraph.config import Settings
from mockgraph.errors import GraphError
from mockgraph.scenarios.loader import load_library, load_text
from mockgraph.schema.validation import graph_schema
from mockgraph.testing import BotReceiver, MockGraph, MockGraphError
from mockgraph.tones import TONES
from tests.conftest import AUTH

BY_NAME = {operation.name: operation for operation in OPERATIONS}
PROMPT = {"@odata.type": "#microsoft.graph.mediaPrompt", "mediaInfo": {"uri": "https://b/m.wav"}}
APP_HOSTED = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"}


async def post(
    http: aiohttp.ClientSession, graph: MockGraph, path: str, body: Any
) -> tuple[int, dict[str, str], Any]:
    url = f"{graph.graph_url()}/communications/calls/{path}"
    async with http.post(url, json=body, headers=AUTH) as response:
        text = await response.text()
        return response.status, dict(response.headers), json.loads(text) if text else None


@pytest.fixture
async def fast(bot: BotReceiver) -> AsyncIterator[MockGraph]:
    async with MockGraph(time_scale=0, callback_url=bot.callback_url) as graph:
        yield graph


# --- over HTTP --------------------------------------------------------------------------------


async def test_play_prompt_answers_the_running_operation_then_notifies_its_end(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    body = {"clientContext": "ctx-1", "prompts": [PROMPT]}
    status, headers, operation = await post(http, fast, "c/playPrompt", body)
    assert status == 200
    assert operation == {
        "@odata.type": "#microsoft.graph.playPromptOperation",
        "id": operation["id"],
        "status": "running",
        "clientContext": "ctx-1",
        "resultInfo": None,
    }
    resource = f"/communications/calls/c/operations/{operation['id']}"
    assert headers["Location"] == f"{fast.graph_url()}{resource}"
    done = await fast.wait_for_operation("c", operation["id"])
    assert done["ended"] and done["operation"]["status"] == "completed"
    await bot.wait_for(1, call_id="c")
    [item] = bot.for_call("c")[0].notifications
    assert (item["changeType"], item["resourceUrl"]) == ("deleted", resource)
    # As the captured completion (sambetts/graph-calling-bots P2PTest1Event5PlayPromptFinish):
    # the request's prompts echoed, resultInfo typed, no @odata.id.
    assert item["resourceData"] == {
        "@odata.type": "#microsoft.graph.playPromptOperation",
        "prompts": [PROMPT],
        "completionReason": "completedSuccessfully",
        "status": "completed",
        "clientContext": "ctx-1",
        "resultInfo": {
            "@odata.type": "#microsoft.graph.resultInfo",
            "code": 200,
            "subcode": 0,
            "message": "Action completed successfully.",
        },
        "id": operation["id"],
    }
    assert item["resource"] == f"/app/calls/c/operations/{operation['id']}"


async def test_an_operation_is_served_until_its_deleted_notification(
    bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    async with MockGraph(clock=clock, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        _, _, operation = await post(http, graph, "c/playPrompt", {"prompts": [PROMPT]})
        url = f"{graph.graph_url()}/communications/calls/c/operations/{operation['id']}"
        async with http.get(url, headers=AUTH) as response:
            assert response.status == 200
            assert (await response.json())["status"] == "running"
        await clock.advance(1.0)  # play-prompt-completed: after 1 s
        await graph.wait_for_operation("c", operation["id"])
        async with http.get(url, headers=AUTH) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "itemNotFound"


async def test_tones_need_a_subscription_then_arrive_one_post_each_in_order(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    with pytest.raises(MockGraphError) as refused:
        await fast.press_tones("c", "1")
    assert refused.value.status == 409 and "subscribeToTone" in str(refused.value)
    status, _, subscription = await post(http, fast, "c/subscribeToTone", {"clientContext": "x"})
    assert status == 200 and subscription["status"] == "completed"
    assert [t["tone"] for t in await fast.press_tones("c", "12#")] == ["tone1", "tone2", "pound"]
    pressed = await fast.press_tones("c", ["star", "a"])
    assert [t["sequenceId"] for t in pressed] == [4, 5]
    await bot.wait_for(5, call_id="c")
    posts = bot.for_call("c")
    assert [len(p.notifications) for p in posts] == [1] * 5
    infos = [p.notifications[0]["resourceData"]["toneInfo"] for p in posts]
    assert [(i["sequenceId"], i["tone"]) for i in infos] == [
        (1, "tone1"),
        (2, "tone2"),
        (3, "pound"),
        (4, "star"),
        (5, "a"),
    ]
    item = posts[0].notifications[0]
    assert (item["changeType"], item["resourceUrl"]) == ("updated", "/communications/calls/c")
    assert item["resourceData"]["state"] == "established"


@pytest.mark.parametrize("tones", ["1x", ["tone1", "beep"], "", []])
async def test_a_key_that_is_no_tone_is_400(fast: MockGraph, tones: Any) -> None:
    await fast.seed_call("c")
    with pytest.raises(MockGraphError) as refused:
        await fast.press_tones("c", tones)
    assert refused.value.status == 400 and "'tones'" in str(refused.value)


async def test_a_recording_downloads_with_its_token_only(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    _, _, operation = await post(http, fast, "c/recordResponse", {"maxRecordDurationInSeconds": 5})
    assert operation["@odata.type"] == "#microsoft.graph.recordOperation"
    await fast.wait_for_operation("c", operation["id"])
    await bot.wait_for(1, call_id="c")
    data = bot.for_call("c")[0].notifications[0]["resourceData"]
    assert (data["resultInfo"]["subcode"], data["completionReason"]) == (
        8515,
        "maxRecordDurationReached",
    )
    location, token = data["recordingLocation"], data["recordingAccessToken"]
    assert location == f"{fast.url}/recordings/{operation['id']}"
    async with http.get(location, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        assert response.content_type == "application/octet-stream"
        audio = await response.read()
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.getnframes() == 16000
    for headers in ({"Authorization": "Bearer someone-else"}, {}):
        async with http.get(location, headers=headers) as response:
            assert response.status == 401


async def test_the_recording_is_the_file_given(
    tmp_path: Path, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    audio = tmp_path / "hello.wav"
    audio.write_bytes(b"RIFF-not-really")
    async with MockGraph(
        time_scale=0, callback_url=bot.callback_url, recording=str(audio)
    ) as graph:
        await graph.seed_call("c")
        await post(http, graph, "c/recordResponse", {})
        await bot.wait_for(1, call_id="c")
        data = bot.for_call("c")[0].notifications[0]["resourceData"]
        bearer = {"Authorization": f"Bearer {data['recordingAccessToken']}"}
        async with http.get(data["recordingLocation"], headers=bearer) as response:
            assert await response.read() == b"RIFF-not-really"


async def test_a_recording_with_stop_tones_nobody_presses_ends_at_its_max_duration(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    # The v1.0 call-record example names stopTones and completes with 200/8515.
    await fast.seed_call("c")
    await post(http, fast, "c/recordResponse", {"stopTones": ["#", "1", "*"]})
    await bot.wait_for(1, call_id="c")
    data = bot.for_call("c")[0].notifications[0]["resourceData"]
    assert (data["status"], data["completionReason"]) == ("completed", "maxRecordDurationReached")
    assert (data["resultInfo"]["code"], data["resultInfo"]["subcode"]) == (200, 8515)


@pytest.mark.parametrize("subscribed", [True, False])
async def test_a_stop_tone_pressed_while_it_records_ends_the_recording(
    bot: BotReceiver, http: aiohttp.ClientSession, subscribed: bool
) -> None:
    async with MockGraph(callback_url=bot.callback_url) as graph:  # real time: 5 s to record
        await graph.seed_call("c")
        if subscribed:
            await post(http, graph, "c/subscribeToTone", {})
        _, _, recording = await post(http, graph, "c/recordResponse", {"stopTones": ["#"]})
        await graph.press_tones("c", "2" if subscribed else "#")  # not a stop tone, or unheard
        if subscribed:
            assert (await graph.operation("c", recording["id"]))["operation"]["status"] == "running"
            await graph.press_tones("c", "#")
        done = await graph.wait_for_operation("c", recording["id"], timeout=2)
        await bot.wait_for(3 if subscribed else 1, call_id="c")
    assert done["operation"]["completionReason"] == "stopToneDetected"
    items = [r.notifications[0]["resourceData"] for r in bot.for_call("c")]
    if subscribed:  # each key press as the bot hears it, then the recording's end
        assert [i["toneInfo"]["tone"] for i in items[:2]] == ["tone2", "pound"]
    assert items[-1]["status"] == "completed" and items[-1]["resultInfo"]["code"] == 200
    assert items[-1]["recordingLocation"]


async def test_stop_tones_must_be_keys(fast: MockGraph, http: aiohttp.ClientSession) -> None:
    await fast.seed_call("c")
    status, _, error = await post(http, fast, "c/recordResponse", {"stopTones": ["11"]})
    assert status == 400 and "'stopTones'" in error["error"]["message"]


async def test_send_dtmf_tones_is_journaled_and_completes(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    body = {"tones": ["tone1", "pound"], "delayBetweenTonesMs": 100}
    status, _, operation = await post(http, fast, "c/microsoft.graph.sendDtmfTones", body)
    assert status == 200 and operation["status"] == "running"
    await bot.wait_for(1, call_id="c")
    [request] = [e for e in await fast.journal("c") if e["kind"] == "request"]
    assert request["body"] == body
    data = bot.for_call("c")[0].notifications[0]["resourceData"]
    assert (data["status"], data["completionReason"]) == ("completed", "completedSuccessfully")
    assert "resultInfo" not in data or data["resultInfo"] is None


async def test_an_app_hosted_call_cannot_play_prompts(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c", media_config=APP_HOSTED)
    for action, body in [("playPrompt", {"prompts": [PROMPT]}), ("subscribeToTone", {})]:
        status, _, error = await post(http, fast, f"c/{action}", body)
        assert status == 400 and "serviceHostedMediaConfig" in error["error"]["message"]


async def test_answering_with_app_hosted_media_is_remembered(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    call = await fast.ring()
    status, _, _ = await post(http, fast, f"{call['id']}/answer", {"mediaConfig": APP_HOSTED})
    assert status == 202
    await fast.wait_for_state(call["id"], "established")
    status, _, error = await post(http, fast, f"{call['id']}/playPrompt", {"prompts": [PROMPT]})
    assert status == 400, error


async def test_when_matches_a_prompt_uri(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(
        "name: menu-fails\noperation: playPrompt\n"
        "when: {prompts.0.mediaInfo.uri: 'https://b/menu.wav'}\n"
        "steps:\n  - about: operation\n"
        "    notify: {changeType: deleted, resourceData: {status: failed}}\n"
    )
    await fast.seed_call("c")
    menu = {"mediaInfo": {"uri": "https://b/menu.wav"}}
    _, _, failing = await post(http, fast, "c/playPrompt", {"prompts": [menu]})
    _, _, playing = await post(http, fast, "c/playPrompt", {"prompts": [PROMPT]})
    first = await fast.wait_for_operation("c", failing["id"])
    second = await fast.wait_for_operation("c", playing["id"])
    assert (first["operation"]["status"], second["operation"]["status"]) == ("failed", "completed")


async def test_a_scenario_presses_keys_after_the_prompt(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(
        "name: caller-presses-2\noperation: playPrompt\ndefault: true\n"
        "steps:\n"
        "  - about: operation\n"
        "    notify: {changeType: deleted, resourceData: {status: completed}}\n"
        "  - after: 1s\n    tones: '2'\n"
    )
    await fast.seed_call("c")
    await post(http, fast, "c/subscribeToTone", {})
    await post(http, fast, "c/playPrompt", {"prompts": [PROMPT]})
    await bot.wait_for(2, call_id="c")
    first, second = (p.notifications[0] for p in bot.for_call("c"))
    assert first["resourceUrl"].startswith("/communications/calls/c/operations/")
    assert second["resourceData"]["toneInfo"]["tone"] == "tone2"


async def test_a_scenario_tone_before_a_subscription_is_journaled_as_skipped(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(
        "name: eager\noperation: playPrompt\ndefault: true\nsteps:\n  - tones: '9'\n"
    )
    await fast.seed_call("c")
    await post(http, fast, "c/playPrompt", {"prompts": [PROMPT]})
    await fast.wait_idle()
    [record] = [e for e in await fast.journal("c") if e["kind"] == "notification"]
    assert record["outcome"] == "skipped" and "subscribeToTone" in record["note"]


# --- in the domain, the clock in the test's hands ---------------------------------------------


@pytest.fixture
async def service() -> AsyncIterator[CallingService]:
    settings = Settings(callback_url="http://127.0.0.1:9/cb", grace_period=0, delivery_attempts=1)
    calling = CallingService(load_library([]), settings, clock=ManualClock())
    await calling.start()
    calling.control.seed_call({"id": "c"})
    yield calling
    await calling.close()


def act(service: CallingService, action: str, body: dict[str, Any]) -> str:
    outcome = service.graph.perform(BY_NAME[action], "v1.0", "c", body)
    assert outcome.body is not None
    return str(outcome.body["id"])


def status(service: CallingService, operation_id: str) -> str:
    return service.control.operation("c", operation_id).status


def notified(service: CallingService) -> list[tuple[str, str]]:
    """(scenario, outcome) of each notification journaled for the call."""
    return [
        (entry["scenario"], entry["outcome"])
        for entry in service.control.journal("c")["value"]
        if entry["kind"] == "notification"
    ]


async def test_prompts_queue_one_after_another(service: CallingService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    first = act(service, "playPrompt", {"prompts": [PROMPT]})
    second = act(service, "playPrompt", {"prompts": [PROMPT]})
    await clock.advance(0.99)
    assert (status(service, first), status(service, second)) == ("running", "running")
    await clock.advance(0.02)
    assert (status(service, first), status(service, second)) == ("completed", "running")
    await clock.advance(0.98)  # the second's 1 s counts from the first's end
    assert status(service, second) == "running"
    await clock.advance(0.02)
    assert status(service, second) == "completed"


async def test_cancel_ends_the_running_and_the_queued_in_order(service: CallingService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    prompt = act(service, "playPrompt", {"prompts": [PROMPT]})
    recording = act(service, "recordResponse", {})
    cancel = act(service, "cancelMediaProcessing", {"clientContext": "stop"})
    assert status(service, cancel) == "completed"
    await clock.advance(0)
    assert (status(service, prompt), status(service, recording)) == ("failed", "failed")
    assert service.control.operation("c", recording).to_graph()["resultInfo"]["subcode"] == 8508
    assert notified(service) == [
        ("play-prompt-completed", "cancelled"),  # the step that will never go out
        ("play-prompt-cancelled", "failed"),  # nobody listens at 127.0.0.1:9
        ("record-cancelled", "failed"),
    ]
    await clock.advance(10)
    assert len(notified(service)) == 3  # nothing plays after the cancel


async def test_a_recording_that_barges_in_cancels_the_prompt(service: CallingService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    prompt = act(service, "playPrompt", {"prompts": [PROMPT]})
    recording = act(service, "recordResponse", {"bargeInAllowed": True})
    await clock.advance(0)
    assert (status(service, prompt), status(service, recording)) == ("failed", "running")
    await clock.advance(5)
    assert status(service, recording) == "completed"


async def test_a_call_that_ended_stops_its_prompt(service: CallingService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    prompt = act(service, "playPrompt", {"prompts": [PROMPT]})
    service.graph.perform(BY_NAME["delete"], "v1.0", "c", None)
    await clock.advance(5)
    assert status(service, prompt) == "running"  # no notification ends it: the call is gone
    assert ("play-prompt-completed", "cancelled") in notified(service)


@pytest.mark.parametrize(
    "action, body, fragment",
    [
        ("playPrompt", {"prompts": []}, "at least one"),
        ("playPrompt", {"prompts": [PROMPT] * 21}, "at most 20"),
        ("recordResponse", {"prompts": [PROMPT] * 2}, "at most 1"),
        ("recordResponse", {"initialSilenceTimeoutInSeconds": 0}, "1 to 120"),
        ("recordResponse", {"maxSilenceTimeoutInSeconds": 121}, "1 to 120"),
        ("sendDtmfTones", {"tones": ["tone1"], "delayBetweenTonesMs": -1}, "negative"),
        ("sendDtmfTones", {"tones": ["#"]}, "is not one of"),
        ("playPrompt", {"prompts": [PROMPT], "clientContext": "x" * 257}, "256"),
        ("playPrompt", {"prompts": [{"mediaInfo": {}}]}, "'prompts[0].mediaInfo.uri' is required"),
    ],
)
async def test_the_limits_of_the_reference(
    service: CallingService, action: str, body: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(GraphError) as refused:
        service.graph.perform(BY_NAME[action], "v1.0", "c", body)
    assert refused.value.status == 400 and fragment in refused.value.message
    assert service.control.operations("c") == []


async def test_screen_sharing_needs_a_group_call_with_app_hosted_media(
    service: CallingService,
) -> None:
    operation = BY_NAME["changeScreenSharingRole"]
    with pytest.raises(GraphError, match="group calls"):
        service.graph.perform(operation, "v1.0", "c", {"role": "viewer"})
    spec = {"id": "m", "meetingInfo": {"joinMeetingId": "1"}}
    service.control.seed_call(spec)
    with pytest.raises(GraphError, match="app-hosted"):
        service.graph.perform(operation, "v1.0", "m", {"role": "viewer"})
    service.control.seed_call({**spec, "id": "m2", "mediaConfig": APP_HOSTED})
    assert service.graph.perform(operation, "v1.0", "m2", {"role": "sharer"}).body is None


# --- declared once ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_each_returned_type_is_the_one_the_csdl_returns(version: str) -> None:
    defs = graph_schema(version)["$defs"]
    for operation in OPERATIONS:
        if operation.request is None:
            continue
        returns = defs[operation.request.type].get("x-returns")
        declared = operation.returns.type if operation.returns else None
        assert returns == (f"microsoft.graph.{declared}" if declared else None), operation.name


def test_the_tone_names_are_graphs() -> None:
    sent = graph_schema("v1.0")["$defs"]["action.sendDtmfTones"]["properties"]["tones"]
    assert sent["items"]["enum"] == list(TONES)


def test_a_scenario_tone_that_is_no_key_is_reported_at_its_line() -> None:
    text = "name: t\noperation: playPrompt\nsteps:\n  - tones: '1x'\n"
    _, problems = load_text(text, "t.yaml")
    assert [str(p) for p in problems] == [
        "t.yaml:4:12: 'steps[0].tones': 'x' is not a key (0-9, *, #, A-D) or a tone name "
        f"({', '.join(TONES)})"
    ]


def test_a_step_needs_notify_or_tones() -> None:
    _, problems = load_text("name: t\noperation: playPrompt\nsteps:\n  - after: 1s\n", "t.yaml")
    assert [str(p) for p in problems] == [
        "t.yaml:4:5: 'steps[0]' needs 'notify', 'tones', 'roster', 'join', 'leave' or 'farSide' "
        "(or more than one)"
    ]


async def test_a_scenario_names_the_audio_its_recording_downloads_as(
    tmp_path: Path, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    (tmp_path / "voicemail.wav").write_bytes(b"the caller's message")
    (tmp_path / "s.yaml").write_text(
        "name: voicemail\noperation: recordResponse\ndefault: true\nrecording: voicemail.wav\n"
        "steps:\n  - about: operation\n    notify:\n      changeType: deleted\n"
        "      resourceData: {status: completed, recordingLocation: '{{ recording.location }}',"
        " recordingAccessToken: '{{ recording.token }}'}\n"
    )
    async with MockGraph([tmp_path], time_scale=0, callback_url=bot.callback_url) as graph:
        await graph.seed_call("c")
        await post(http, graph, "c/recordResponse", {})
        await bot.wait_for(1, call_id="c")
        data = bot.for_call("c")[0].notifications[0]["resourceData"]
        bearer = {"Authorization": f"Bearer {data['recordingAccessToken']}"}
        async with http.get(data["recordingLocation"], headers=bearer) as response:
            assert await response.read() == b"the caller's message"


def test_a_scenario_recording_that_does_not_exist_is_reported_at_its_line(tmp_path: Path) -> None:
    text = "name: r\noperation: recordResponse\nrecording: gone.wav\nsteps: []\n"
    _, problems = load_text(text, str(tmp_path / "r.yaml"))
    [problem] = [str(p) for p in problems]
    assert problem.startswith(f"{tmp_path / 'r.yaml'}:3:12: 'recording': cannot read")


async def test_send_dtmf_tones_error_case_1_can_be_pinned(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    await fast.pin_scenario("c", "send-dtmf-cancelled")
    status, _, _ = await post(http, fast, "c/sendDtmfTones", {"tones": ["tone1"]})
    assert status == 200
    await bot.wait_for(1, call_id="c")
    data = bot.for_call("c")[0].notifications[0]["resourceData"]
    assert (data["status"], data["completionReason"]) == ("completed", "mediaOperationCanceled")
    assert "resultInfo" not in data or data["resultInfo"] is None
