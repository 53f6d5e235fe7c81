"""Online meetings without HTTP: Graph's rules for creating, finding, changing and deleting
them (graph-beyond-calls-facts.md §1: the create, createOrGet, get, update and delete pages;
the join URL's form and the chatInfo a bot joins with, from the pages' examples)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

import pytest

from mockgraph.calling.calls import CallRegistry
from mockgraph.clock import ManualClock
from mockgraph.errors import BadRequest
from mockgraph.meetings.meetings import Asked, MeetingNotFound, OnlineMeetings

TENANT = "dc368399-474c-4d40-900c-6265431fd81f"  # the pages' tenant
ORGANIZER = "5810cedd-b43a-44a4-a2e8-0ba3a4b85b5e"
OTHER = "b8a9b8c0-0000-4000-8000-000000000002"
# Microsoft's samples parse a join link with this pattern (graph-beyond-calls-facts.md §1.6).
JOIN_LINK = re.compile(
    r"https://teams\.microsoft\.com.*/(?P<thread>[^/]+)/(?P<message>[^/]+)\?context=(?P<context>\{.*\})"
)


@pytest.fixture
def meetings() -> OnlineMeetings:
    return OnlineMeetings(ManualClock(), TENANT)


def made(meetings: OnlineMeetings, **body: object) -> dict[str, object]:
    return meetings.create(Asked(ORGANIZER, body=body)).shown


def test_a_new_meeting_lasts_an_hour_from_now_by_default(meetings: OnlineMeetings) -> None:
    meeting = made(meetings, subject="Standup")
    start = datetime.fromisoformat(str(meeting["startDateTime"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(meeting["endDateTime"]).replace("Z", "+00:00"))
    assert end - start == timedelta(hours=1)
    assert meeting["subject"] == "Standup"


def test_its_join_link_parses_as_the_samples_parse_it(meetings: OnlineMeetings) -> None:
    meeting = made(meetings)
    parsed = JOIN_LINK.match(unquote(str(meeting["joinWebUrl"])))
    assert parsed is not None
    chat = meeting["chatInfo"]
    assert isinstance(chat, dict)
    assert parsed.group("thread") == chat["threadId"]
    assert parsed.group("message") == chat["messageId"] == "0"
    assert parsed.group("context") == f'{{"Tid":"{TENANT}","Oid":"{ORGANIZER}"}}'
    assert re.fullmatch(r"19:meeting_[A-Za-z0-9]+@thread\.v2", str(chat["threadId"]))


def test_the_organizer_is_the_user_in_the_path(meetings: OnlineMeetings) -> None:
    participants = made(meetings)["participants"]
    assert isinstance(participants, dict)
    user = participants["organizer"]["identity"]["user"]
    assert (user["id"], user["tenantId"]) == (ORGANIZER, TENANT)


def test_read_only_properties_keep_graphs_values(meetings: OnlineMeetings) -> None:
    meeting = made(meetings, joinWebUrl="https://example.com/mine", id="mine")
    assert meeting["id"] != "mine" and "teams.microsoft.com" in str(meeting["joinWebUrl"])


@pytest.mark.parametrize(
    "body",
    [
        {"endDateTime": "2026-12-04T10:00:00Z"},  # an end without a start
        {"startDateTime": "2026-12-04T10:00:00Z", "endDateTime": "2026-12-04T09:00:00Z"},
        {"startDateTime": "tomorrow"},
    ],
)
def test_times_graph_refuses(meetings: OnlineMeetings, body: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        made(meetings, **body)


def test_create_or_get_finds_the_meeting_by_external_id(meetings: OnlineMeetings) -> None:
    first = meetings.create_or_get(Asked(ORGANIZER, body={"externalId": "ext-1"}))
    again = meetings.create_or_get(Asked(ORGANIZER, body={"externalId": "ext-1", "subject": "x"}))
    assert first.new and not again.new
    assert again.shown["id"] == first.shown["id"]
    # The same externalId of another user of the tenant is another meeting.
    theirs = meetings.create_or_get(Asked(OTHER, body={"externalId": "ext-1"}))
    assert theirs.new and theirs.shown["id"] != first.shown["id"]


def test_found_by_join_url_encoded_or_not(meetings: OnlineMeetings) -> None:
    meeting = made(meetings)
    url = str(meeting["joinWebUrl"])
    for written in (url, quote(url, safe="")):
        query = {"$filter": f"JoinWebUrl eq '{written}'"}
        assert meetings.find(Asked(ORGANIZER, query=query)) == [meeting]


def test_found_by_join_meeting_id(meetings: OnlineMeetings) -> None:
    meeting = made(meetings)
    settings = meeting["joinMeetingIdSettings"]
    assert isinstance(settings, dict)
    join_id = settings["joinMeetingId"]
    query = {"$filter": f"joinMeetingIdSettings/joinMeetingId eq '{join_id}'"}
    assert meetings.find(Asked(ORGANIZER, query=query)) == [meeting]
    assert meetings.find(Asked(ORGANIZER, query={"$filter": "JoinWebUrl eq 'nope'"})) == []


@pytest.mark.parametrize("query", [{}, {"$filter": "subject eq 'x'"}, {"$top": "5"}])
def test_a_list_without_a_supported_filter_says_which_there_are(
    meetings: OnlineMeetings, query: dict[str, str]
) -> None:
    with pytest.raises(BadRequest, match="joinMeetingIdSettings/joinMeetingId eq"):
        meetings.find(Asked(ORGANIZER, query=query))


def test_an_attendee_may_read_it_and_nobody_else(meetings: OnlineMeetings) -> None:
    attendee = {"identity": {"user": {"id": OTHER}}}
    meeting = made(meetings, participants={"attendees": [attendee]})
    meeting_id = str(meeting["id"])
    assert meetings.get(Asked(OTHER, meeting_id)) == meeting
    with pytest.raises(MeetingNotFound):
        meetings.get(Asked("someone-else", meeting_id))


def test_update_changes_start_and_end_together(meetings: OnlineMeetings) -> None:
    meeting_id = str(made(meetings)["id"])
    with pytest.raises(BadRequest, match="both"):
        meetings.update(Asked(ORGANIZER, meeting_id, {"startDateTime": "2027-01-01T10:00:00Z"}))
    both = {"startDateTime": "2027-01-01T10:00:00Z", "endDateTime": "2027-01-01T11:00:00Z"}
    changed = meetings.update(Asked(ORGANIZER, meeting_id, {**both, "subject": "Moved"}))
    assert (changed["startDateTime"], changed["subject"]) == ("2027-01-01T10:00:00.000Z", "Moved")


@pytest.mark.parametrize(
    "body",
    [
        {"participants": {"organizer": {"identity": {"user": {"id": OTHER}}}}},
        {"joinMeetingIdSettings": {"isPasscodeRequired": True}},
    ],
)
def test_update_never_changes_the_organizer_or_the_join_id(
    meetings: OnlineMeetings, body: dict[str, object]
) -> None:
    meeting_id = str(made(meetings)["id"])
    with pytest.raises(BadRequest):
        meetings.update(Asked(ORGANIZER, meeting_id, body))


def test_update_replaces_the_attendees_whole(meetings: OnlineMeetings) -> None:
    ann = {"identity": {"user": {"id": "ann"}}}
    ben = {"identity": {"user": {"id": "ben"}}}
    meeting_id = str(made(meetings, participants={"attendees": [ann]})["id"])
    changed = meetings.update(Asked(ORGANIZER, meeting_id, {"participants": {"attendees": [ben]}}))
    assert changed["participants"]["attendees"] == [ben]


def test_a_deleted_meeting_is_not_found(meetings: OnlineMeetings) -> None:
    meeting = made(meetings)
    meetings.delete(Asked(ORGANIZER, str(meeting["id"])))
    with pytest.raises(MeetingNotFound):
        meetings.get(Asked(ORGANIZER, str(meeting["id"])))
    query = {"$filter": f"JoinWebUrl eq '{meeting['joinWebUrl']}'"}
    assert meetings.find(Asked(ORGANIZER, query=query)) == []


def test_the_service_makes_the_join_id_and_any_passcode(meetings: OnlineMeetings) -> None:
    # The create page: the passcode is generated; a request may only ask for one.
    asked = {"isPasscodeRequired": True, "joinMeetingId": "123", "passcode": "mine"}
    settings = made(meetings, joinMeetingIdSettings=asked)["joinMeetingIdSettings"]
    assert isinstance(settings, dict)
    assert settings["isPasscodeRequired"] is True
    assert settings["joinMeetingId"] != "123" and len(settings["joinMeetingId"]) == 12
    assert settings["passcode"] not in (None, "mine")


def test_a_meetings_call_leaves_an_attendance_report(meetings: OnlineMeetings) -> None:
    # meetingattendancereport-list.md: a report each time the meeting ends; records of who
    # attended, their role, and when they joined and left.
    meeting = made(meetings)
    registry = CallRegistry(limit=10)
    registry.follow(meetings)
    chat = meeting["chatInfo"]
    assert isinstance(chat, dict)
    call = registry.seed(
        "https://bot.example/callback",
        state="establishing",
        properties={"chatInfo": chat, "meetingInfo": {"organizer": {"user": {"id": ORGANIZER}}}},
        application_instance=True,
        cause="test",
        bot={"application": {"id": "bot-app"}},
    )
    call.apply({"state": "established"}, "test")
    organizer = call.admit({"user": {"id": ORGANIZER, "displayName": "Olga"}})
    guest = call.admit({"user": {"id": OTHER, "displayName": "Gus"}})
    call.leave(guest.id)
    call.apply({"state": "terminated"}, "test")

    meeting_id = str(meeting["id"])
    [listed] = meetings.attendance_reports(Asked(ORGANIZER, meeting_id))
    assert listed["attendanceRecords"] == [] and listed["totalParticipantCount"] == 2
    records = meetings.attendance_records(Asked(ORGANIZER, meeting_id, report_id=listed["id"]))
    by_id = {record["id"]: record for record in records}
    assert set(by_id) == {ORGANIZER, OTHER}  # people, not the bot
    assert by_id[ORGANIZER]["role"] == "Organizer" and by_id[OTHER]["role"] == "Attendee"
    [interval] = by_id[OTHER]["attendanceIntervals"]
    assert interval["leaveDateTime"] <= listed["meetingEndDateTime"]
    assert by_id[OTHER]["identity"]["displayName"] == "Gus"
    assert organizer.left is None  # still there when the call ended: left with it
    expanded = meetings.attendance_report(
        Asked(
            ORGANIZER,
            meeting_id,
            report_id=listed["id"],
            query={"$expand": "attendanceRecords"},
        )
    )
    assert len(expanded["attendanceRecords"]) == 2


def test_a_call_into_no_meeting_leaves_no_report(meetings: OnlineMeetings) -> None:
    meeting = made(meetings)
    registry = CallRegistry(limit=10)
    registry.follow(meetings)
    call = registry.seed(
        "https://bot.example/callback",
        state="established",
        properties={"chatInfo": {"threadId": "19:meeting_other@thread.v2"}},
        application_instance=True,
        cause="test",
        bot={"application": {"id": "bot-app"}},
    )
    call.apply({"state": "terminated"}, "test")
    assert meetings.attendance_reports(Asked(ORGANIZER, str(meeting["id"]))) == []


def test_people_in_a_meeting_are_in_every_call_into_it(meetings: OnlineMeetings) -> None:
    # Issue 28: joining a meeting, "the roster is its participants, and later joiners see the
    # bot"; the test moves people in and out.
    meeting = made(meetings)
    meeting_id = str(meeting["id"])
    meetings.join(meeting_id, {"user": {"id": "ann", "displayName": "Ann"}})
    registry = CallRegistry(limit=10)
    registry.follow(meetings)
    call = registry.seed(
        "https://bot.example/callback",
        state="establishing",
        properties={"chatInfo": meeting["chatInfo"], "meetingInfo": {"organizer": {}}},
        application_instance=True,
        cause="test",
        bot={"application": {"id": "bot-app"}},
    )

    def here() -> set[str]:
        return {
            str(identity["id"])
            for p in call.participants.values()
            for identity in p.identity.values()
        }

    assert here() == {"ann", "bot-app"}  # Ann was there before the bot
    _, touched = meetings.join(meeting_id, {"user": {"id": "ben"}})
    assert touched == [call] and here() == {"ann", "ben", "bot-app"}
    assert meetings.leave(meeting_id, "ann") == [call]
    assert here() == {"ben", "bot-app"}
    with pytest.raises(MeetingNotFound):
        meetings.leave(meeting_id, "ann")  # not in it any more
    call.apply({"state": "terminated"}, "test")
    _, touched = meetings.join(meeting_id, {"user": {"id": "cat"}})
    assert touched == []  # the call is over


def test_a_call_joins_a_meeting_by_its_join_id_too(meetings: OnlineMeetings) -> None:
    # joinMeetingIdMeetingInfo: the join id and passcode, no chatInfo (graph-beyond-calls
    # facts §1.6).
    meeting = made(meetings)
    settings = meeting["joinMeetingIdSettings"]
    assert isinstance(settings, dict)
    meetings.join(str(meeting["id"]), {"user": {"id": "ann"}})
    registry = CallRegistry(limit=10)
    registry.follow(meetings)
    info = {
        "@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo",
        "joinMeetingId": settings["joinMeetingId"],
    }
    call = registry.seed(
        "https://bot.example/callback",
        state="establishing",
        properties={"meetingInfo": info},
        application_instance=True,
        cause="test",
        bot={"application": {"id": "bot-app"}},
    )
    users = [p.identity.get("user", {}).get("id") for p in call.participants.values()]
    assert "ann" in users
