"""mockgraph's notifications against notifications captured from real Graph, field by field.

Two flows are played against a real bot receiver: a call that rings, is answered, plays a
prompt, hears a key and is transferred; and a bot that joins a meeting, where a user joins
after it. Each notification is compared with the capture of the same kind (``captures/``):
every field path either has, and the values that say what a thing is (its ``@odata.type``,
``changeType``, ``state``, a stream's ``mediaType`` …). A difference fails the test unless
``ALLOWED`` names it with the reason mockgraph cannot send the capture's form; every one that
remains is named in the failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from mockgraph.testing import BotReceiver, MockGraph

CAPTURES = Path(__file__).parent / "captures"
AUTH = {"Authorization": "Bearer t", "Content-Type": "application/json"}
MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
PROMPT = {
    "@odata.type": "#microsoft.graph.mediaPrompt",
    "mediaInfo": {
        "@odata.type": "#microsoft.graph.mediaInfo",
        "uri": "https://bot.example/a.wav",
        "resourceId": "a-1",  # as the captured bot's request had it: the operation echoes it
    },
}
# Values that say what a thing is; other values (ids, names, times) may differ.
COMPARED = frozenset(
    {
        "@odata.type",
        "changeType",
        "state",
        "status",
        "completionReason",
        "endpointType",
        "mediaType",
        "label",
        "meetingRole",
        "identityProvider",
        "isMuted",
        "isInLobby",
        "serverMuted",
        "isIdentityAnonymized",
        "languageId",
    }
)
# What mockgraph does not send as real Graph does, and why it cannot.
ALLOWED = {
    "- participant.replacementLink": "a link to Microsoft's call controller, which only it serves",
    "- participant.info.replacementLink": "the same link",
    "- participant.info.clientVersion": "the Teams client's or bot's own version string",
    "- participant.info.identity.applicationInstance": (
        "the captured meeting bot joined as its resource account; mockgraph's bot is the "
        "application, as the create page and the captured P2P roster show it"
    ),
    "+ participant.info.identity.application": "the same",
}


def captured(name: str) -> dict[str, Any]:
    body = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    [item] = body["value"]  # real Graph POSTs one notification at a time
    return dict(item)


def shape(value: Any, at: str) -> Iterator[str]:
    """Every field path under ``value`` (``[]`` for a list's items), and ``path=value`` for
    the values in COMPARED."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{at}.{key}" if at else key
            if key == "identity" and isinstance(item, dict):
                # which identity it is, not what each carries: compared by kind below
                yield path
                for kind, inner in item.items():
                    yield f"{path}.{kind}" + (f"={inner}" if kind == "@odata.type" else "")
                    if isinstance(inner, dict):
                        yield from (f"{path}.<identity>{p[len(path) + len(kind) + 1 :]}"
                                    for p in shape(inner, f"{path}.{kind}"))  # fmt: skip
                continue
            yield path
            if key in COMPARED and not isinstance(item, dict | list):
                yield f"{path}={json.dumps(item)}"
            yield from shape(item, path)
    elif isinstance(value, list):
        for item in value:
            yield from shape(item, f"{at}[]")


def differences(got: Any, real: Any, at: str = "") -> set[str]:
    """``- path`` for what the capture has and mockgraph not, ``+ path`` for the reverse."""
    mine, theirs = set(shape(got, at)), set(shape(real, at))
    return {f"- {p}" for p in theirs - mine} | {f"+ {p}" for p in mine - theirs}


def envelope(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "resourceData"}


def roster_differences(got: dict[str, Any], real: dict[str, Any]) -> set[str]:
    """A roster's envelope, then each kind of participant (a bot, a person) with its kind in
    the capture."""
    found = differences(envelope(got), envelope(real))
    for kind in ("bot", "person"):
        mine = [p for p in got["resourceData"] if kind_of(p) == kind]
        theirs = [p for p in real["resourceData"] if kind_of(p) == kind]
        if theirs:
            assert mine, f"mockgraph's roster has no {kind}"
            found |= differences(mine[0], theirs[0], "participant")
    return found


def kind_of(participant: dict[str, Any]) -> str:
    identity = participant["info"]["identity"]
    return "bot" if "application" in identity or "applicationInstance" in identity else "person"


class Comparison:
    def __init__(self) -> None:
        self.unexplained: dict[str, set[str]] = {}
        self.allowed_seen: set[str] = set()

    def check(
        self, what: str, got: dict[str, Any], real: dict[str, Any], *, like: str = ""
    ) -> None:
        """``like``: the capture is of another event that has the same shape; its own field
        (``mediaState``) is left out and its state is the one compared."""
        if like:
            data = {k: v for k, v in real["resourceData"].items() if k != like}
            real = {**real, "resourceData": {**data, "state": got["resourceData"]["state"]}}
        if isinstance(real["resourceData"], list):
            found = roster_differences(got, real)
        else:
            found = differences(got, real)
        self.allowed_seen |= found & set(ALLOWED)
        if found - set(ALLOWED):
            self.unexplained[what] = found - set(ALLOWED)

    def verdict(self) -> None:
        lines = [f"{what}: {sorted(found)}" for what, found in self.unexplained.items()]
        assert not lines, "fields that differ from real Graph's:\n" + "\n".join(lines)


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body, headers=AUTH) as response:
        assert response.status < 300, await response.text()
        return await response.json() if response.status == 200 else None


def items(bot: BotReceiver, call_id: str) -> list[dict[str, Any]]:
    return [item for received in bot.for_call(call_id) for item in received.notifications]


async def test_ring_answer_prompt_key_and_transfer_as_captured(bot: BotReceiver) -> None:
    compare = Comparison()
    async with MockGraph(time_scale=0) as graph, aiohttp.ClientSession() as http:
        call = await graph.ring(callback_uri=bot.callback_url)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}"
        await post(http, f"{url}/answer", {"callbackUri": bot.callback_url, "mediaConfig": MEDIA})
        await bot.wait_for(4, call_id=call["id"])
        await graph.add_participant(call["id"], {"user": {"id": "u-2", "displayName": "Ann"}})
        await post(http, f"{url}/subscribeToTone", {})
        prompt = await post(http, f"{url}/playPrompt", {"prompts": [PROMPT]})
        await graph.wait_for_operation(call["id"], prompt["id"])
        await bot.wait_for(6, call_id=call["id"])
        await graph.press_tones(call["id"], "1")
        await post(http, f"{url}/transfer", {"transferTarget": {"identity": {"user": {"id": "a"}}}})
        await bot.wait_for(10, call_id=call["id"])
    _, establishing, established, audio, roster, done, key, *transfer = items(bot, call["id"])
    compare.check("establishing", establishing, captured("p2p-establishing.json"))
    compare.check("established", established, captured("p2p-established.json"))
    compare.check("audio active", audio, captured("p2p-audio-active.json"))
    compare.check("roster", roster, captured("p2p-roster.json"))
    compare.check("prompt completed", done, captured("p2p-prompt-completed.json"))
    compare.check("key press", key, captured("p2p-key-press.json"))
    transferring, accepted, terminated = transfer
    # No capture of a transfer: its updates are a later update's shape, its end a call's end.
    later = captured("p2p-audio-active.json")
    compare.check("transferring", transferring, later, like="mediaState")
    compare.check("transferAccepted", accepted, later, like="mediaState")
    compare.check("terminated", terminated, captured("p2p-hang-up.json"))
    compare.verdict()


async def test_a_meeting_join_as_captured(bot: BotReceiver) -> None:
    compare = Comparison()
    meeting = {
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": bot.callback_url,
        "requestedModalities": ["audio"],
        "mediaConfig": MEDIA,
        "chatInfo": {"threadId": "19:meeting@thread.v2", "messageId": "0"},
        "meetingInfo": {
            "@odata.type": "#microsoft.graph.organizerMeetingInfo",
            "organizer": {"user": {"id": "organizer"}},
        },
    }
    async with MockGraph(time_scale=0) as graph, aiohttp.ClientSession() as http:
        async with http.post(
            f"{graph.graph_url()}/communications/calls", json=meeting, headers=AUTH
        ) as response:
            assert response.status == 201, await response.text()
            call = await response.json()
        await bot.wait_for(4, call_id=call["id"])
        await graph.add_participant(call["id"], {"user": {"id": "u-2", "displayName": "Ann"}})
        await bot.wait_for(5, call_id=call["id"])
    establishing, established, joined, audio, user_joined = items(bot, call["id"])
    compare.check("establishing", establishing, captured("meeting-establishing.json"))
    compare.check("established", established, captured("meeting-established.json"))
    compare.check("the bot joined", joined, captured("meeting-bot-joined.json"))
    compare.check("audio active", audio, captured("p2p-audio-active.json"))
    compare.check("a user joined", user_joined, captured("meeting-user-joined.json"))
    compare.verdict()
    assert compare.allowed_seen == set(ALLOWED), "an allowed difference no longer occurs"
