"""Participants, audio routing groups, content sharing and the rest of the call's surface, over
HTTP to a real bot receiver; and the served routes against Graph v1.0's documented list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from mockgraph.calling.operations import OPERATIONS
from mockgraph.testing import BotReceiver, MockGraph, MockGraphError
from tests.conftest import AUTH

MEETING = {"joinMeetingId": "1"}
ANN = {"user": {"id": "ann", "displayName": "Ann"}}
BOB = {"identity": {"user": {"id": "bob"}}}


@pytest.fixture
async def fast(bot: BotReceiver) -> AsyncIterator[MockGraph]:
    async with MockGraph(time_scale=0, callback_url=bot.callback_url) as graph:
        yield graph


async def ask(
    http: aiohttp.ClientSession, graph: MockGraph, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    url = f"{graph.graph_url()}/communications/calls/{path}"
    async with http.request(method, url, json=body, headers=AUTH) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


def rosters(bot: BotReceiver, call_id: str) -> list[list[dict[str, Any]]]:
    """Each roster notification the bot got about the call: the participants it listed."""
    return [
        item["resourceData"]
        for post in bot.for_call(call_id)
        for item in post.notifications
        if item["resourceUrl"] == f"/communications/calls/{call_id}/participants"
    ]


def who(participants: list[dict[str, Any]]) -> list[str]:
    """The ids of the identities the participants are (the user's, the application's)."""
    ids = []
    for participant in participants:
        identity = participant["info"]["identity"]
        ids += [value["id"] for key, value in identity.items() if not key.startswith("@")]
    return ids


async def test_an_answered_incoming_call_has_the_caller_and_the_bot(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    call = await fast.ring(source={"identity": {"user": {"id": "caller"}}})
    status, listed = await ask(http, fast, "GET", f"{call['id']}/participants")
    assert status == 200
    assert listed["@odata.context"].endswith(f"#communications/calls('{call['id']}')/participants")
    assert who(listed["value"]) == ["caller", "00000000-0000-0000-0000-000000000b07"]
    first = listed["value"][0]
    assert first["@odata.type"] == "#microsoft.graph.participant"
    assert (first["isMuted"], first["isInLobby"], first["info"]["participantId"]) == (
        False,
        False,
        first["id"],
    )
    status, one = await ask(http, fast, "GET", f"{call['id']}/participants/{first['id']}")
    assert status == 200 and one["id"] == first["id"]
    assert one["@odata.context"].endswith("/participants/$entity")
    status, error = await ask(http, fast, "GET", f"{call['id']}/participants/nobody")
    assert (status, error["error"]["code"]) == (404, "itemNotFound")


async def test_someone_joins_and_leaves_and_the_bot_gets_each_roster(
    fast: MockGraph, bot: BotReceiver
) -> None:
    call = await fast.seed_call("c", source={"identity": {"user": {"id": "caller"}}})
    ann = await fast.add_participant(call["id"], ANN, is_muted=True)
    assert ann["isMuted"] is True
    await fast.remove_participant(call["id"], ann["id"])
    await bot.wait_for(2, call_id="c")
    joined, left = rosters(bot, "c")
    assert "ann" in who(joined) and "ann" not in who(left)
    with pytest.raises(MockGraphError) as missing:
        await fast.remove_participant(call["id"], ann["id"])
    assert missing.value.status == 404


async def test_invite_answers_running_then_the_invitee_joins(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("m", meeting_info=MEETING)
    status, operation = await ask(
        http, fast, "POST", "m/participants/invite", {"participants": [BOB], "clientContext": "i"}
    )
    assert status == 200
    assert operation["@odata.type"] == "#microsoft.graph.inviteParticipantsOperation"
    assert (operation["status"], operation["participants"]) == ("running", [BOB])
    await fast.wait_for_operation("m", operation["id"])
    await bot.wait_for(2, call_id="m")
    done, roster = (post.notifications[0] for post in bot.for_call("m"))
    assert done["resourceData"]["status"] == "completed"
    assert "bob" in who(roster["resourceData"])
    [bob] = [p for p in roster["resourceData"] if "bob" in who([p])]
    assert bob["info"]["endpointType"] == "default"


@pytest.mark.parametrize(
    "seed, body, fragment",
    [
        ({"meeting_info": MEETING}, {"participants": [BOB] * 6}, "at most 5"),
        ({}, {"participants": [BOB, BOB]}, "only supported for group calls"),
        ({}, {"participants": []}, "at least one"),
        ({}, {"participants": [{**BOB, "replacesCallId": "gone"}]}, "replacesCallId"),
    ],
)
async def test_invite_limits(
    fast: MockGraph, http: aiohttp.ClientSession, seed: dict[str, Any], body: Any, fragment: str
) -> None:
    await fast.seed_call("c", **seed)
    status, error = await ask(http, fast, "POST", "c/participants/invite", body)
    assert status == 400 and fragment in error["error"]["message"]


async def test_an_invite_that_replaces_a_call_ends_it(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("group", meeting_info=MEETING)
    await fast.seed_call("p2p")
    invitee = {**BOB, "replacesCallId": "p2p"}
    status, _ = await ask(
        http, fast, "POST", "group/participants/invite", {"participants": [invitee]}
    )
    assert status == 200
    ended = await fast.wait_for_state("p2p", "terminated")
    assert ended["call"]["terminationReason"] == "AppTransferred"


async def test_mute_a_participant_and_the_bot(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("m", meeting_info=MEETING)
    ann = await fast.add_participant("m", ANN)
    status, operation = await ask(http, fast, "POST", f"m/participants/{ann['id']}/mute", {})
    assert (status, operation["status"]) == (200, "completed")
    assert operation["@odata.type"] == "#microsoft.graph.muteParticipantOperation"
    status, _ = await ask(http, fast, "POST", "m/mute", {"clientContext": "me"})
    assert status == 200
    await bot.wait_for(3, call_id="m")
    last = rosters(bot, "m")[-1]
    assert all(p["isMuted"] for p in last)
    status, _ = await ask(http, fast, "POST", "m/unmute", {})
    await bot.wait_for(4, call_id="m")
    muted = {who([p])[0]: p["isMuted"] for p in rosters(bot, "m")[-1]}
    assert muted == {"00000000-0000-0000-0000-000000000b07": False, "ann": True}


async def test_mute_is_for_group_calls(fast: MockGraph, http: aiohttp.ClientSession) -> None:
    await fast.seed_call("p2p")
    status, error = await ask(http, fast, "POST", "p2p/mute", {})
    assert status == 400 and "group calls" in error["error"]["message"]


async def test_hold_music_holds_one_participant_at_a_time(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    ann, bob = (
        await fast.add_participant("c", ANN),
        await fast.add_participant("c", BOB["identity"]),
    )
    status, operation = await ask(
        http, fast, "POST", f"c/participants/{ann['id']}/startHoldMusic", {}
    )
    assert (status, operation["status"]) == (202, "running")
    assert operation["@odata.type"] == "#microsoft.graph.startHoldMusicOperation"
    done = await fast.wait_for_operation("c", operation["id"])
    assert done["operation"]["status"] == "completed"
    status, error = await ask(http, fast, "POST", f"c/participants/{bob['id']}/startHoldMusic", {})
    assert status == 409 and "already on hold" in error["error"]["message"]
    status, _ = await ask(http, fast, "POST", f"c/participants/{ann['id']}/stopHoldMusic", {})
    assert status == 202
    status, _ = await ask(http, fast, "POST", f"c/participants/{bob['id']}/startHoldMusic", {})
    assert status == 202


async def test_removing_a_participant_is_204_and_sends_the_roster(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("c")
    ann = await fast.add_participant("c", ANN)
    status, _ = await ask(http, fast, "DELETE", f"c/participants/{ann['id']}")
    assert status == 204
    await bot.wait_for(2, call_id="c")
    assert "ann" not in who(rosters(bot, "c")[-1])


async def test_audio_routing_groups_are_kept_per_call(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("m", meeting_info=MEETING)
    group = {"id": "oneToOne", "routingMode": "oneToOne", "sources": ["a"], "receivers": ["b"]}
    status, created = await ask(http, fast, "POST", "m/audioRoutingGroups", group)
    assert status == 200 and {k: created[k] for k in group} == group
    status, error = await ask(http, fast, "POST", "m/audioRoutingGroups", group)
    assert status == 409
    status, made = await ask(
        http, fast, "POST", "m/audioRoutingGroups", {"routingMode": "multicast", "sources": ["a"]}
    )
    assert status == 200 and made["id"]
    status, listed = await ask(http, fast, "GET", "m/audioRoutingGroups")
    assert [g["id"] for g in listed["value"]] == ["oneToOne", made["id"]]
    status, updated = await ask(
        http, fast, "PATCH", "m/audioRoutingGroups/oneToOne", {"receivers": ["c"]}
    )
    assert (status, updated["receivers"], updated["sources"]) == (200, ["c"], ["a"])
    status, error = await ask(
        http, fast, "PATCH", "m/audioRoutingGroups/oneToOne", {"receivers": ["c", "d"]}
    )
    assert status == 400 and "exactly one receiver" in error["error"]["message"]
    status, _ = await ask(http, fast, "DELETE", "m/audioRoutingGroups/oneToOne")
    assert status == 204
    status, error = await ask(http, fast, "GET", "m/audioRoutingGroups/oneToOne")
    assert (status, error["error"]["code"]) == (404, "itemNotFound")


async def test_content_sharing_sessions_are_those_a_test_started(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("m", meeting_info=MEETING)
    status, listed = await ask(http, fast, "GET", "m/contentSharingSessions")
    assert (status, listed["value"]) == (200, [])
    session = await fast.share_content("m", "s-1")
    status, listed = await ask(http, fast, "GET", "m/contentSharingSessions")
    assert [s["id"] for s in listed["value"]] == ["s-1"]
    status, one = await ask(http, fast, "GET", f"m/contentSharingSessions/{session['id']}")
    assert status == 200 and one["@odata.type"] == "#microsoft.graph.contentSharingSession"


async def test_large_gallery_view_and_device_quality(
    fast: MockGraph, http: aiohttp.ClientSession
) -> None:
    await fast.seed_call("m", meeting_info=MEETING)
    status, operation = await ask(
        http, fast, "POST", "m/addLargeGalleryView", {"clientContext": "g"}
    )
    assert (status, operation["status"]) == (202, "completed")
    assert operation["@odata.type"] == "#microsoft.graph.addLargeGalleryViewOperation"
    quality = {"callChainId": "c", "mediaLegId": "m", "participantId": "p"}
    status, body = await ask(
        http, fast, "POST", "logTeleconferenceDeviceQuality", {"quality": quality}
    )
    assert (status, body) == (200, None)
    status, error = await ask(
        http, fast, "POST", "logTeleconferenceDeviceQuality", {"quality": {"mediaLegId": "m"}}
    )
    assert status == 400 and "'quality.callChainId' is required" in error["error"]["message"]


# Every method and path under /communications/calls that Graph v1.0 documents.
DOCUMENTED_V1 = {
    ("POST", ""),
    ("GET", "/{id}"),
    ("DELETE", "/{id}"),
    ("POST", "/logTeleconferenceDeviceQuality"),
    *(
        ("POST", f"/{{id}}/{action}")
        for action in (
            "answer",
            "reject",
            "redirect",
            "transfer",
            "keepAlive",
            "playPrompt",
            "recordResponse",
            "cancelMediaProcessing",
            "subscribeToTone",
            "sendDtmfTones",
            "mute",
            "unmute",
            "changeScreenSharingRole",
            "updateRecordingStatus",
            "addLargeGalleryView",
            "participants/invite",
        )
    ),
    ("GET", "/{id}/participants"),
    ("GET", "/{id}/participants/{participantId}"),
    ("DELETE", "/{id}/participants/{participantId}"),
    ("POST", "/{id}/participants/{participantId}/mute"),
    ("POST", "/{id}/participants/{participantId}/startHoldMusic"),
    ("POST", "/{id}/participants/{participantId}/stopHoldMusic"),
    ("POST", "/{id}/audioRoutingGroups"),
    ("GET", "/{id}/audioRoutingGroups"),
    ("GET", "/{id}/audioRoutingGroups/{groupId}"),
    ("PATCH", "/{id}/audioRoutingGroups/{groupId}"),
    ("DELETE", "/{id}/audioRoutingGroups/{groupId}"),
    ("GET", "/{id}/contentSharingSessions"),
    ("GET", "/{id}/contentSharingSessions/{sessionId}"),
    ("GET", "/{id}/operations/{opId}"),
}


def test_every_documented_v1_route_is_served_and_nothing_else() -> None:
    assert len(DOCUMENTED_V1) == 34
    served = {
        (operation.route.method, operation.route.path)
        for operation in OPERATIONS
        if operation.route is not None
    }
    assert served == DOCUMENTED_V1


COMINGS_AND_GOINGS = """\
name: comings-and-goings
operation: unmute
steps:
  - join: [{user: {id: ann, displayName: Ann}}, {phone: {id: "+15550100"}}]
  - after: 10ms
    leave: [ann]
  - leave: [nobody]
"""


async def test_a_scenario_step_makes_people_join_and_leave(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    await fast.load_scenarios(COMINGS_AND_GOINGS)
    await fast.seed_call("m", meeting_info=MEETING)
    await fast.pin_scenario("m", "comings-and-goings")
    status, _ = await ask(http, fast, "POST", "m/unmute", {})
    assert status == 200
    await fast.wait_idle()
    joined, left = rosters(bot, "m")
    assert {"ann", "+15550100"} <= set(who(joined))
    assert "ann" not in who(left) and "+15550100" in who(left)
    ann = next(p for p in joined if "user" in p["info"]["identity"])
    assert len(ann["mediaStreams"]) == 4  # a Teams client, as captured
    [skipped] = [e for e in await fast.journal("m") if e.get("outcome") == "skipped"]
    assert "nobody in call 'm' has identity 'nobody'" in skipped["note"]


async def test_the_screen_sharing_role_sends_the_roster(
    fast: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    # v1.0 call-changescreensharingrole: 202, "and all participants will receive a roster
    # update"; its example shows the sharer's screen-sharing stream sendOnly.
    media = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"}
    await fast.seed_call("m", meeting_info=MEETING, media_config=media)
    for role in ("sharer", "viewer"):
        status, body = await ask(http, fast, "POST", "m/changeScreenSharingRole", {"role": role})
        assert (status, body) == (202, None)
        await fast.wait_idle()
    as_sharer, as_viewer = rosters(bot, "m")

    def bot_streams(roster: list[dict[str, Any]]) -> list[tuple[str, str]]:
        [me] = [p for p in roster if "application" in p["info"]["identity"]]
        return [(s["mediaType"], s["direction"]) for s in me["mediaStreams"]]

    assert bot_streams(as_sharer) == [
        ("audio", "sendReceive"),
        ("videoBasedScreenSharing", "sendOnly"),
    ]
    assert bot_streams(as_viewer) == [("audio", "sendReceive")]
