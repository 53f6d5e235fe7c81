"""Users' presence as Graph's presence API keeps it (graph-beyond-calls-facts.md §4).

A user's presence is aggregated from presence sessions: each app that called ``setPresence``
for them has one, and so does the user's own Teams client while they are in a call (the call
registry says who is). Over the sessions, a user's preferred presence wins while any session
exists; with none, the user is ``Offline``. Time is the injected clock's: sessions and
preferences end when their ``expirationDuration`` has passed, read when presence is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockgraph.calling.calls import Call
from mockgraph.clock import Clock, iso
from mockgraph.errors import BadRequest, GraphError

# The pairs an app session may set (setPresence's page), in the precedence Graph aggregates
# app sessions by: Busy beats Available beats Away.
SESSION_PAIRS = (
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Available", "Available"),
    ("Away", "Away"),
)
SESSION_RANK = {"Busy": 0, "Available": 1, "Away": 2}
# The pairs a user's preferred presence may be (setUserPreferredPresence's page).
PREFERRED_PAIRS = (
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
)
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
SESSION_DEFAULT, SESSION_MIN, SESSION_MAX = 5 * MINUTE, 5 * MINUTE, 4 * HOUR
MOST_IDS = 650  # getPresencesByUserId's limit per request
# Edm.Duration as Graph writes it: days and a time part, never years or months (which would
# need a calendar). Five lines of pattern; isodate, a dependency, would add nothing here.
ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)

NO_BODY: Mapping[str, Any] = {}
CLOCK_FORM = re.compile(r"^(\d+ days?, )?\d+:\d\d:\d\d")


class UserNotFound(GraphError):
    """Presence asked of a user mockgraph does not know. Graph answers a user id that is not
    in the tenant with 404 ``ResourceNotFound``."""

    status = 404
    code = "ResourceNotFound"


class SessionNotFound(GraphError):
    """clearPresence for a session the user does not have (its page: 404 Not Found)."""

    status = 404
    code = "NotFound"


def seconds_of(duration: Any, what: str) -> float:
    """An ISO 8601 duration (``PT5M``, ``PT1H30M``, ``P1D``) in seconds (400 if not one)."""
    match = ISO_DURATION.match(duration) if isinstance(duration, str) else None
    if match is None or duration in ("P", "PT") or duration.endswith("T"):
        hint = ""
        if isinstance(duration, str) and CLOCK_FORM.match(duration):
            # msgraph-sdk for Python writes a timedelta as str() does (kiota's JSON writer).
            hint = " (str() of a Python timedelta; give the SDK body's additional_data the text)"
        raise BadRequest(
            f"'{what}' must be an ISO 8601 duration such as PT5M, not {duration!r}{hint}."
        )
    d, h, m, s = (float(match.group(part) or 0) for part in "dhms")
    return d * DAY + h * HOUR + m * MINUTE + s


@dataclass(frozen=True, slots=True)
class Setting:
    """An availability and activity, until ``until`` (the clock's monotonic seconds)."""

    availability: str
    activity: str
    until: float


@dataclass
class UserPresence:
    """One user's sessions, preferred presence and status message."""

    user_id: str
    sessions: dict[str, Setting] = field(default_factory=dict)  # by session id (an app's id)
    preferred: Setting | None = None
    status_message: dict[str, Any] | None = None
    sequence: int = 0  # Graph's sequenceNumber: it grows with each change

    def expire(self, now: float) -> None:
        for session_id in [key for key, setting in self.sessions.items() if setting.until <= now]:
            del self.sessions[session_id]
        if self.preferred is not None and self.preferred.until <= now:
            self.preferred = None

    def shown(self, in_call: str | None) -> tuple[str, str]:
        """What Graph shows: the preferred presence while any session exists, else the
        strongest session; ``in_call``: the activity of the call the user is in, if any."""
        sessions = list(self.sessions.values())
        if in_call is not None:
            sessions.append(Setting("Busy", in_call, float("inf")))
        if not sessions:
            return "Offline", "Offline"
        if self.preferred is not None:
            return self.preferred.availability, self.preferred.activity
        strongest = min(sessions, key=lambda setting: SESSION_RANK[setting.availability])
        return strongest.availability, strongest.activity

    def changed(self) -> None:
        self.sequence += 1


class OnCalls(Protocol):
    """What the calls say of people (``CallPresence``)."""

    def activity(self, user_id: str) -> str | None: ...

    def people(self) -> set[str]: ...


class PresenceWatcher(Protocol):
    """Told when an operation changed a user's presence (the presence subscriptions' feed)."""

    def presence_touched(self, user_id: str) -> None: ...


class Presences:
    """Every known user's presence. A user is known once seeded (``add_user``) or once they
    are in a call (``in_call`` says so)."""

    def __init__(self, clock: Clock, calls: OnCalls) -> None:
        self._clock = clock
        self._calls = calls
        self._users: dict[str, UserPresence] = {}
        self._watcher: PresenceWatcher | None = None

    def watch(self, watcher: PresenceWatcher) -> None:
        self._watcher = watcher

    def _changed(self, user: UserPresence) -> None:
        user.changed()
        if self._watcher is not None:
            self._watcher.presence_touched(user.user_id)

    def shown(self, user_id: str) -> tuple[str, str]:
        """The availability and activity Graph shows for the user now (``Offline`` for one it
        does not know)."""
        try:
            user = self._user(user_id)
        except UserNotFound:
            return "Offline", "Offline"
        return user.shown(self._calls.activity(user_id))

    def next_change(self, user_id: str) -> float | None:
        """When (the clock's monotonic seconds) the user's next session or preferred presence
        ends, if any does."""
        user = self._users.get(user_id)
        if user is None:
            return None
        ends = [setting.until for setting in user.sessions.values()]
        if user.preferred is not None:
            ends.append(user.preferred.until)
        return min(ends, default=None)

    def add_user(self, user_id: str) -> None:
        self._users.setdefault(user_id, UserPresence(user_id))

    def known(self) -> list[str]:
        return sorted({*self._users, *self._calls.people()})

    def everyone(self) -> list[dict[str, Any]]:
        """Each known user's presence, as ``get`` shows it, by user id."""
        return [self.get(user_id) for user_id in self.known()]

    def clear(self) -> None:
        self._users.clear()

    def _user(self, user_id: str) -> UserPresence:
        user = self._users.get(user_id)
        if user is None:
            if user_id not in self._calls.people():
                raise UserNotFound(f"User '{user_id}' was not found in the tenant.")
            user = self._users[user_id] = UserPresence(user_id)
        user.expire(self._clock.monotonic())
        return user

    # --- the operations -------------------------------------------------------------------

    def get(self, user_id: str, body: Mapping[str, Any] = NO_BODY) -> dict[str, Any]:
        """The user's presence: `id`, `availability`, `activity`, `statusMessage`."""
        user = self._user(user_id)
        availability, activity = user.shown(self._calls.activity(user_id))
        shown: dict[str, Any] = {
            "id": user_id,
            "availability": availability,
            "activity": activity,
            "statusMessage": user.status_message,
        }
        return shown

    def get_many(self, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Each user of `ids` (1 to 650) by their presence, in the order asked; any unknown
        one is `404`."""
        # user_id is "": the route names no user (every operation takes the same arguments).
        ids = [str(one) for one in body["ids"]]
        if not ids:
            raise BadRequest("'ids' must name at least one user.")
        if len(ids) > MOST_IDS:
            raise BadRequest(f"'ids' names {len(ids)} users; at most {MOST_IDS} per request.")
        return {"value": [self.get(user_id) for user_id in ids]}

    def set_presence(self, user_id: str, body: Mapping[str, Any]) -> None:
        """The app's session (`sessionId`: its app id) for the user, one of the pairs
        Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, for
        `expirationDuration` (PT5M to PT4H; PT5M if not given). Over several sessions, Busy
        shows before Available before Away."""
        user = self._user(user_id)
        pair = _pair(body, SESSION_PAIRS, "setPresence")
        session_id = body.get("sessionId")
        if not session_id:
            raise BadRequest("'sessionId' is required: the application's id.")
        lasts = SESSION_DEFAULT
        if body.get("expirationDuration") is not None:
            lasts = seconds_of(body["expirationDuration"], "expirationDuration")
            if not SESSION_MIN <= lasts <= SESSION_MAX:
                raise BadRequest(
                    "'expirationDuration' must be from PT5M to PT4H, "
                    f"not {body['expirationDuration']}."
                )
        user.sessions[str(session_id)] = Setting(*pair, self._clock.monotonic() + lasts)
        self._changed(user)

    def clear_presence(self, user_id: str, body: Mapping[str, Any]) -> None:
        """The app's session `sessionId` ends (`404` if the user has no such session); with
        none left, the user is Offline/Offline."""
        user = self._user(user_id)
        session_id = body.get("sessionId")
        if not session_id:
            raise BadRequest("'sessionId' is required: the application's id.")
        if user.sessions.pop(str(session_id), None) is None:
            raise SessionNotFound(
                f"User '{user_id}' has no presence session '{session_id}' (it was never set, "
                "was cleared, or expired)."
            )
        self._changed(user)

    def set_preferred(self, user_id: str, body: Mapping[str, Any]) -> None:
        """The user's own choice, one of Available/Available, Busy/Busy,
        DoNotDisturb/DoNotDisturb, BeRightBack/BeRightBack, Away/Away, Offline/OffWork: shown
        over the sessions while any exists (a call counts as one), for `expirationDuration`
        (default 1 day for Busy and DoNotDisturb, 7 days otherwise)."""
        user = self._user(user_id)
        pair = _pair(body, PREFERRED_PAIRS, "setUserPreferredPresence")
        lasts = DAY if pair[0] in ("Busy", "DoNotDisturb") else 7 * DAY
        if body.get("expirationDuration") is not None:
            lasts = seconds_of(body["expirationDuration"], "expirationDuration")
            if lasts <= 0:
                raise BadRequest("'expirationDuration' must be longer than nothing.")
        user.preferred = Setting(*pair, self._clock.monotonic() + lasts)
        self._changed(user)

    def clear_preferred(self, user_id: str, body: Mapping[str, Any] = NO_BODY) -> None:
        """The preferred presence ends: the sessions show again."""
        user = self._user(user_id)
        user.preferred = None
        self._changed(user)

    def set_status_message(self, user_id: str, body: Mapping[str, Any]) -> None:
        """`statusMessage` (its `message` and `expiryDateTime`) shows with the presence,
        stamped with its `publishedDateTime`; null clears it."""
        user = self._user(user_id)
        message = body.get("statusMessage")
        if message is None:
            user.status_message = None
        else:
            user.status_message = {
                "message": message.get("message"),
                "expiryDateTime": message.get("expiryDateTime"),
                "publishedDateTime": iso(self._clock.wall()),
            }
        self._changed(user)


def _pair(
    body: Mapping[str, Any], allowed: tuple[tuple[str, str], ...], what: str
) -> tuple[str, str]:
    pair = (str(body["availability"]), str(body["activity"]))
    if pair not in allowed:
        named = ", ".join(f"{a}/{b}" for a, b in allowed)
        raise BadRequest(
            f"{what} does not take availability '{pair[0]}' with activity '{pair[1]}'; "
            f"the pairs it takes: {named}."
        )
    return pair


# The states in which the people of a call are on it (a held call, or one being transferred,
# still has them on the line).
ON_THE_LINE = frozenset({"established", "hold", "transferring", "transferAccepted"})


def user_ids(call: Call) -> Iterable[str]:
    """The ids of the users in the call's roster."""
    for participant in call.participants.values():
        user = participant.identity.get("user")
        if isinstance(user, dict) and user.get("id"):
            yield str(user["id"])


class CallPresence:
    """What the calls say of people's presence, read from the registry when presence is read
    (so that nothing on a call's path pays for it)."""

    def __init__(self, calls: Iterable[Call]) -> None:
        self._calls = calls

    def activity(self, user_id: str) -> str | None:
        """``InAConferenceCall`` or ``InACall`` if the user is on a call, else None."""
        for call in self._calls:
            if call.state in ON_THE_LINE and user_id in user_ids(call):
                return "InAConferenceCall" if call.is_group_call else "InACall"
        return None

    def people(self) -> set[str]:
        """Every user id a call's roster has named."""
        return {user_id for call in self._calls for user_id in user_ids(call)}
