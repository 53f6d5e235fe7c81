"""Graph's notification items as pure functions of a call and a step, with no event loop and no
delivery: the properties of each are those of the notification real Graph sent at the same
point of a call (tests/captures, from sambetts/graph-calling-bots), and each changes the call
or operation it is about as it goes out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockgraph.calling.calls import Call, CallRegistry, CommsOperation
from mockgraph.calling.items import (
    invitees_join,
    notification_item,
    operation_item,
    roster_item,
    tone_item,
)

CAPTURES = Path(__file__).parent / "captures"
BOT = {"application": {"id": "bot-app", "displayName": "Calling Bot"}}


def captured(name: str) -> dict[str, Any]:
    body = json.loads((CAPTURES / f"{name}.json").read_text())
    item: dict[str, Any] = body["value"][0] if "value" in body else body
    return item


def keys(item: dict[str, Any]) -> set[str]:
    return set(item["resourceData"])


def outgoing_call() -> Call:
    return CallRegistry(10).seed(
        "https://bot.example/api/calls",
        state="establishing",
        properties={"direction": "outgoing", "targets": [{"identity": {"user": {"id": "u"}}}]},
        application_instance=False,
        cause="created",
        bot=BOT,
    )


def updated(state: str, **more: Any) -> dict[str, Any]:
    return {"changeType": "updated", "resourceData": {"state": state, **more}}


def test_the_set_up_notifications_carry_what_real_graphs_do() -> None:
    call = outgoing_call()
    establishing = notification_item(call, updated("establishing"), "step")
    established = notification_item(call, updated("established"), "step")
    assert keys(establishing) == keys(captured("p2p-establishing"))
    assert keys(established) == keys(captured("p2p-established"))
    assert established["resourceData"]["direction"] == "outgoing"
    assert call.state == "established"  # the item changed the call as it went out


def test_later_call_notifications_carry_the_meeting_capability() -> None:
    call = outgoing_call()
    notification_item(call, updated("established"), "step")
    media = notification_item(call, updated("established", mediaState={"audio": "active"}), "s")
    assert keys(media) == keys(captured("p2p-audio-active"))


def test_a_key_press_is_the_state_and_the_tone_only() -> None:
    call = outgoing_call()
    notification_item(call, updated("established"), "step")
    item = tone_item(call, call.press("tone1"))
    assert keys(item) == keys(captured("p2p-key-press"))
    assert item["resourceData"]["toneInfo"]["tone"] == "tone1"


def test_the_envelope_names_the_resource_both_ways() -> None:
    call = outgoing_call()
    item = notification_item(call, updated("established"), "step")
    real = captured("p2p-established")
    assert set(item) == set(real)
    assert item["resourceUrl"] == f"/communications/calls/{call.id}"
    assert item["resource"] == f"/app/calls/{call.id}"
    roster = roster_item(call)
    assert roster["resourceUrl"] == f"/communications/calls/{call.id}/participants"
    assert roster["resource"] == f"/app/calls/{call.id}/participants"
    assert isinstance(roster["resourceData"], list)


def test_an_operations_completion_ends_it_and_carries_what_real_graphs_does() -> None:
    call = outgoing_call()
    prompt = CommsOperation("op-1", "playPromptOperation", call.id, "playPrompt", "running", "c")
    step = {
        "changeType": "deleted",
        "resourceData": {
            "status": "completed",
            "completionReason": "completedSuccessfully",
            "resultInfo": {"code": 200, "subcode": 0, "message": "Action completed."},
            "prompts": [],
        },
    }
    item = operation_item(prompt, step)
    assert keys(item) == keys(captured("p2p-prompt-completed"))
    assert item["resourceData"]["resultInfo"]["@odata.type"] == "#microsoft.graph.resultInfo"
    assert (prompt.status, prompt.ended) == ("completed", True)


def test_an_invite_that_replaces_a_call_admits_its_first_participant_only() -> None:
    # invite's page: with replacesCallId, only one participant may be invited.
    call = outgoing_call()
    before = len(call.roster())
    invitees_join(
        call,
        {
            "participants": [
                {"identity": {"user": {"id": "a"}}, "replacesCallId": "other"},
                {"identity": {"user": {"id": "b"}}},
            ]
        },
    )
    assert len(call.roster()) == before + 1
