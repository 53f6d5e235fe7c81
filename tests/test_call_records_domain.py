"""Call records without HTTP: what a record holds after a call, when it can be read, and the
query options Graph documents (graph-beyond-calls-facts.md §2; callrecords-callrecord-get.md:
the id is the call's callChainId, available only after the call completes; organizer_v2
expanded by default; $expand of participants_v2, or sessions with segments; $select on a
record and a session)."""

from __future__ import annotations

from typing import Any

import pytest

from mockgraph.calling.calls import Call, CallRegistry
from mockgraph.callrecords.records import CallRecordNotFound, CallRecords
from mockgraph.clock import ManualClock, iso
from mockgraph.errors import BadRequest

META = "https://graph.microsoft.com/v1.0/$metadata#"
BOT = {"application": {"id": "bot-app", "displayName": "Calling Bot"}}
ANN = {"user": {"id": "ann", "displayName": "Ann", "tenantId": "t1"}}
BEN = {"user": {"id": "ben", "displayName": "Ben", "tenantId": "t1"}}
NO_QUERY: dict[str, str] = {}


class Scale:
    """The time scale as the player gives it: a pause times the scale."""

    def __init__(self) -> None:
        self.scale = 1.0

    def pause(self, seconds: float) -> float:
        return seconds * self.scale


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def scale() -> Scale:
    return Scale()


@pytest.fixture
def registry() -> CallRegistry:
    return CallRegistry(limit=100)


@pytest.fixture
def records(clock: ManualClock, scale: Scale, registry: CallRegistry) -> CallRecords:
    made = CallRecords(clock, delay=60, pause=scale.pause, limit=3)
    registry.follow(made)
    return made


@pytest.fixture
def ended(registry: CallRegistry, scale: Scale, records: CallRecords) -> Call:
    """Ann's call to the bot, over, at time scale 0: its record is readable at once."""
    scale.scale = 0
    call = incoming(registry)
    end(call)
    return call


def incoming(registry: CallRegistry, **properties: Any) -> Call:
    """Ann calls the bot (an incoming peer-to-peer call), as Graph sets it up."""
    given = {"source": {"identity": ANN}, "targets": [{"identity": BOT}], **properties}
    return registry.seed(
        "https://bot.example/callback",
        state="incoming",
        properties=given,
        application_instance=True,
        cause="test",
        bot=BOT,
    )


def meeting(registry: CallRegistry) -> Call:
    """The bot joins a meeting that Ann organised; Ann and Ben are in it."""
    call = registry.seed(
        "https://bot.example/callback",
        state="establishing",
        properties={
            "direction": "outgoing",
            "meetingInfo": {"organizer": ANN},
            "chatInfo": {"threadId": "19:meeting"},
        },
        application_instance=True,
        cause="test",
        bot=BOT,
    )
    call.admit(ANN)
    call.admit(BEN)
    return call


def end(call: Call, *, connected: bool = True) -> None:
    if connected:
        call.apply({"state": "established"}, "test")
    call.apply({"state": "terminated"}, "test")


def when(call: Call, state: str) -> str:
    return iso(next(change.time for change in call.history if change.state == state))


async def test_no_record_until_the_call_has_ended(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    call = incoming(registry)
    call.apply({"state": "established"}, "test")
    with pytest.raises(CallRecordNotFound):
        records.get(call.properties["callChainId"], NO_QUERY, META)
    call.apply({"state": "terminated"}, "test")
    assert records.get(call.properties["callChainId"], NO_QUERY, META)["id"]


async def test_a_record_is_filed_its_delay_after_the_end(
    records: CallRecords, registry: CallRegistry, clock: ManualClock
) -> None:
    call = incoming(registry)
    end(call)
    chain = call.properties["callChainId"]
    await clock.advance(59.9)
    with pytest.raises(CallRecordNotFound):
        records.get(chain, NO_QUERY, META)
    await clock.advance(0.1)
    assert records.get(chain, NO_QUERY, META)["id"] == chain


async def test_the_time_scale_scales_the_delay(
    records: CallRecords, registry: CallRegistry, clock: ManualClock, scale: Scale
) -> None:
    scale.scale = 0.5
    call = incoming(registry)
    end(call)
    await clock.advance(30)
    assert records.get(call.properties["callChainId"], NO_QUERY, META)


def test_a_peer_to_peer_record_as_the_get_page_shows_it(records: CallRecords, ended: Call) -> None:
    chain = ended.properties["callChainId"]
    record = records.get(chain, NO_QUERY, META)
    here = f"{META}communications/callRecords('{chain}')"
    assert record["@odata.context"] == f"{META}communications/callRecords/$entity"
    assert (record["id"], record["version"], record["type"]) == (chain, 1, "peerToPeer")
    assert record["modalities"] == ["audio"]
    # startDateTime: when the first user joined; endDateTime: when the last one left.
    assert record["startDateTime"] == when(ended, "established")
    assert record["endDateTime"] == when(ended, "terminated")
    assert record["organizer_v2@odata.context"] == f"{here}/organizer_v2/$entity"
    assert record["organizer_v2"]["identity"]["user"]["id"] == "ann"  # she placed the call
    assert record["participants_v2@odata.context"] == f"{here}/participants_v2/$entity"
    assert "sessions" not in record and "participants_v2" not in record
    assert record["joinWebUrl"] is None  # "may be absent for P2P"


def test_sessions_and_segments_expand(records: CallRecords, ended: Call) -> None:
    chain = ended.properties["callChainId"]
    record = records.get(chain, {"$expand": "sessions($expand=segments)"}, META)
    assert (
        record["@odata.context"]
        == f"{META}communications/callRecords(sessions(segments()))/$entity"
    )
    [session] = record["sessions"]  # "P2P calls usually have one session"
    assert session["caller"]["identity"] == {
        "user": {"id": "ann", "displayName": "Ann", "tenantId": "t1"}
    }
    assert session["caller"]["@odata.type"] == "#microsoft.graph.callRecords.participantEndpoint"
    assert session["callee"]["identity"]["application"]["id"] == "bot-app"
    assert (session["startDateTime"], session["endDateTime"]) == (
        record["startDateTime"],
        record["endDateTime"],
    )
    [segment] = session["segments"]
    assert segment["media"][0]["label"] == "main-audio"
    assert {s["streamDirection"] for s in segment["media"][0]["streams"]} == {
        "callerToCallee",
        "calleeToCaller",
    }
    plain = records.get(chain, {"$expand": "sessions"}, META)
    assert "segments" not in plain["sessions"][0]


def test_participants_expand_each_person_once(records: CallRecords, ended: Call) -> None:
    chain = ended.properties["callChainId"]
    record = records.get(chain, {"$expand": "participants_v2"}, META)
    assert (
        record["@odata.context"] == f"{META}communications/callRecords(participants_v2())/$entity"
    )
    ids = sorted(person["id"] for person in record["participants_v2"])
    assert ids == ["ann", "bot-app"]
    listed = records.participants(chain, NO_QUERY, META)
    assert sorted(p["id"] for p in listed["value"]) == ids


def test_a_meeting_is_a_group_call_with_a_session_per_person(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    call = meeting(registry)
    call.apply({"state": "established"}, "test")
    ben = call.participant_as("ben")
    call.leave(ben.id)
    call.apply({"state": "terminated"}, "test")
    record = records.get(call.properties["callChainId"], {"$expand": "sessions"}, META)
    assert record["type"] == "groupCall"
    assert record["organizer_v2"]["identity"]["user"]["id"] == "ann"  # the meeting's organizer
    by_person = {s["caller"]["associatedIdentity"]["id"]: s for s in record["sessions"]}
    assert set(by_person) == {"ann", "ben", "bot-app"}
    assert by_person["ben"]["endDateTime"] == iso(ben.left or 0)
    assert by_person["ann"]["endDateTime"] == record["endDateTime"]
    conference = by_person["ann"]["callee"]
    assert conference["@odata.type"] == "#microsoft.graph.callRecords.serviceEndpoint"
    assert by_person["bot-app"]["caller"]["userAgent"]["role"] == "customBot"


def test_a_call_that_never_connected_failed_in_setup(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    call = incoming(registry)
    end(call, connected=False)
    record = records.get(call.properties["callChainId"], {"$expand": "sessions"}, META)
    assert record["sessions"][0]["failureInfo"]["stage"] == "callSetup"
    assert record["startDateTime"] == when(call, "incoming")


def test_a_later_call_of_the_chain_updates_the_record(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    first = incoming(registry)
    end(first)
    second = incoming(registry, callChainId=first.properties["callChainId"])
    end(second)
    record = records.get(first.properties["callChainId"], {"$expand": "sessions"}, META)
    assert record["version"] == 2  # "increments version"
    assert len(record["sessions"]) == 2
    assert record["endDateTime"] == when(second, "terminated")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"$expand": "segments"}, "segments"),
        ({"$expand": "sessions($expand=media)"}, "media"),
        ({"$select": "id,duration"}, "duration"),
    ],
)
def test_a_query_naming_what_a_record_lacks_is_refused(
    records: CallRecords, registry: CallRegistry, scale: Scale, query: dict[str, str], named: str
) -> None:
    scale.scale = 0
    call = incoming(registry)
    end(call)
    with pytest.raises(BadRequest, match=f"Could not find a property named '{named}'"):
        records.get(call.properties["callChainId"], query, META)


def test_select_keeps_what_it_names(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    call = incoming(registry)
    end(call)
    record = records.get(call.properties["callChainId"], {"$select": "type,modalities"}, META)
    own = {k for k in record if "@" not in k and not k.endswith("_v2")}
    assert own == {"id", "type", "modalities"}
    sessions = records.sessions(
        call.properties["callChainId"], {"$select": "id,isTest", "$expand": "segments"}, META
    )
    assert set(sessions["value"][0]) == {"id", "isTest", "segments"}


def test_records_go_with_a_reset_and_beyond_the_limit(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    scale.scale = 0
    chains = []
    for _ in range(4):  # the fixture's limit is 3
        call = incoming(registry)
        end(call)
        chains.append(call.properties["callChainId"])
    with pytest.raises(CallRecordNotFound):
        records.get(chains[0], NO_QUERY, META)
    assert [entry["id"] for entry in records.known(META)] == chains[1:]
    registry.clear()
    assert records.known(META) == []


def test_a_record_reads_the_same_twice(
    records: CallRecords, registry: CallRegistry, scale: Scale
) -> None:
    # Graph's ids name one session for good: a second read finds the same one.
    scale.scale = 0
    call = meeting(registry)
    end(call)
    query = {"$expand": "sessions($expand=segments)"}
    first = records.get(call.properties["callChainId"], query, META)
    again = records.get(call.properties["callChainId"], query, META)
    assert first == again
    assert len({session["id"] for session in first["sessions"]}) == 3
