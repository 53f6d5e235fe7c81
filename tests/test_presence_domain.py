"""Presence without HTTP: Graph's rules for sessions, preferred presence and calls
(graph-beyond-calls-facts.md §4: setPresence, clearPresence, setUserPreferredPresence and
presence-during-a-call pages)."""

from __future__ import annotations

import pytest

from mockgraph.clock import ManualClock
from mockgraph.errors import BadRequest
from mockgraph.presence.presences import Presences, SessionNotFound, UserNotFound, seconds_of

APP = "22553876-f5ab-4529-bffb-cfe50aa89f87"  # setPresence's page: the session id is the app's id


class Calls:
    """The calls as presence reads them: who is on one, and of what kind."""

    def __init__(self) -> None:
        self.on: dict[str, str] = {}
        self.seen: set[str] = set()

    def activity(self, user_id: str) -> str | None:
        return self.on.get(user_id)

    def people(self) -> set[str]:
        return self.seen | set(self.on)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def book(clock: ManualClock, calls: Calls) -> Presences:
    presences = Presences(clock, calls)
    presences.add_user("ann")
    return presences


def shown(book: Presences, user: str = "ann") -> tuple[str, str]:
    presence = book.get(user)
    return presence["availability"], presence["activity"]


def test_a_user_with_no_session_is_offline(book: Presences) -> None:
    # clearPresence's page: with no session left, the user shows Offline/Offline.
    assert shown(book) == ("Offline", "Offline")


def test_an_unknown_user_is_not_found(book: Presences) -> None:
    with pytest.raises(UserNotFound):
        book.get("nobody")


def test_someone_in_a_call_is_known(book: Presences, calls: Calls) -> None:
    calls.seen.add("bob")
    assert shown(book, "bob") == ("Offline", "Offline")


@pytest.mark.parametrize(
    "pair",
    [
        ("Available", "Available"),
        ("Busy", "InACall"),
        ("Busy", "InAConferenceCall"),
        ("Away", "Away"),
    ],
)
def test_setpresence_takes_the_four_documented_pairs(
    book: Presences, pair: tuple[str, str]
) -> None:
    book.set_presence("ann", {"sessionId": APP, "availability": pair[0], "activity": pair[1]})
    assert shown(book) == pair


@pytest.mark.parametrize(
    "pair", [("Busy", "Busy"), ("DoNotDisturb", "DoNotDisturb"), ("Available", "Away")]
)
def test_setpresence_refuses_other_pairs(book: Presences, pair: tuple[str, str]) -> None:
    with pytest.raises(BadRequest, match="pairs it takes"):
        book.set_presence("ann", {"sessionId": APP, "availability": pair[0], "activity": pair[1]})


async def test_a_session_lasts_five_minutes_by_default(book: Presences, clock: ManualClock) -> None:
    book.set_presence("ann", {"sessionId": APP, "availability": "Busy", "activity": "InACall"})
    await clock.advance(299)
    assert shown(book) == ("Busy", "InACall")
    await clock.advance(1)
    assert shown(book) == ("Offline", "Offline")


async def test_a_session_lasts_its_expiration_duration(book: Presences, clock: ManualClock) -> None:
    body = {"sessionId": APP, "availability": "Away", "activity": "Away"}
    book.set_presence("ann", {**body, "expirationDuration": "PT1H30M"})
    await clock.advance(5399)
    assert shown(book) == ("Away", "Away")
    await clock.advance(1)
    assert shown(book) == ("Offline", "Offline")


@pytest.mark.parametrize("duration", ["PT4M59S", "PT4H1S", "P1D", "five minutes", "PT", 300])
def test_an_expiration_outside_pt5m_to_pt4h_is_refused(book: Presences, duration: object) -> None:
    body = {"sessionId": APP, "availability": "Away", "activity": "Away"}
    with pytest.raises(BadRequest, match="expirationDuration"):
        book.set_presence("ann", {**body, "expirationDuration": duration})


def test_busy_beats_available_beats_away_among_app_sessions(book: Presences) -> None:
    # setPresence's page: among app sessions, Busy > Available > Away.
    book.set_presence("ann", {"sessionId": "a", "availability": "Away", "activity": "Away"})
    book.set_presence(
        "ann", {"sessionId": "b", "availability": "Available", "activity": "Available"}
    )
    assert shown(book) == ("Available", "Available")
    book.set_presence("ann", {"sessionId": "c", "availability": "Busy", "activity": "InACall"})
    assert shown(book) == ("Busy", "InACall")
    book.clear_presence("ann", {"sessionId": "c"})
    assert shown(book) == ("Available", "Available")


def test_clearing_a_session_that_does_not_exist_is_not_found(book: Presences) -> None:
    # clearPresence's page: 404 Not Found if the session does not exist.
    with pytest.raises(SessionNotFound):
        book.clear_presence("ann", {"sessionId": APP})


def test_preferred_presence_shows_only_while_a_session_exists(book: Presences) -> None:
    # setUserPreferredPresence's page: with no session the user is Offline.
    book.set_preferred("ann", {"availability": "DoNotDisturb", "activity": "DoNotDisturb"})
    assert shown(book) == ("Offline", "Offline")
    book.set_presence(
        "ann", {"sessionId": APP, "availability": "Available", "activity": "Available"}
    )
    assert shown(book) == ("DoNotDisturb", "DoNotDisturb")
    book.clear_preferred("ann")
    assert shown(book) == ("Available", "Available")


@pytest.mark.parametrize(
    ("pair", "days"), [(("Busy", "Busy"), 1), (("Away", "Away"), 7), (("Offline", "OffWork"), 7)]
)
async def test_preferred_presence_expires_after_its_default(
    book: Presences, clock: ManualClock, calls: Calls, pair: tuple[str, str], days: int
) -> None:
    # setUserPreferredPresence's page: 1 day for Busy and DoNotDisturb, 7 days otherwise.
    calls.on["ann"] = "InACall"  # a session that lasts: the user's own, on a call
    book.set_preferred("ann", {"availability": pair[0], "activity": pair[1]})
    await clock.advance(days * 86400 - 1)
    assert shown(book) == pair
    await clock.advance(1)
    assert shown(book) == ("Busy", "InACall")


def test_someone_on_a_call_is_busy_in_a_call_and_back_after(book: Presences, calls: Calls) -> None:
    book.set_presence("ann", {"sessionId": APP, "availability": "Away", "activity": "Away"})
    calls.on["ann"] = "InACall"
    assert shown(book) == ("Busy", "InACall")
    del calls.on["ann"]
    assert shown(book) == ("Away", "Away")


def test_a_status_message_is_stamped_when_published(book: Presences) -> None:
    book.set_status_message("ann", {"statusMessage": {"message": {"content": "On leave"}}})
    message = book.get("ann")["statusMessage"]
    assert message["message"] == {"content": "On leave"}
    assert message["publishedDateTime"]


def test_getpresencesbyuserid_takes_at_most_650_ids(book: Presences) -> None:
    # getPresencesByUserId's page: up to 650 user ids per request.
    assert book.get_many("", {"ids": ["ann"]}) == {"value": [book.get("ann")]}
    with pytest.raises(BadRequest, match="650"):
        book.get_many("", {"ids": ["ann"] * 651})


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT5M", 300), ("PT1H30M", 5400), ("P1D", 86400), ("PT0.5S", 0.5)]
)
def test_iso_durations(text: str, seconds: float) -> None:
    assert seconds_of(text, "d") == seconds
