"""The application permissions (app roles) of Graph's calling API, as its pages name them
(graph-identity-facts.md §8). Operations declare which of them allow each (``operations.py``);
the identity platform puts them in tokens."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from mockgraph.errors import Forbidden

ACCESS_MEDIA = "Calls.AccessMedia.All"
INITIATE = "Calls.Initiate.All"
INITIATE_GROUP = "Calls.InitiateGroupCall.All"
JOIN_GROUP = "Calls.JoinGroupCall.All"
JOIN_AS_GUEST = "Calls.JoinGroupCallAsGuest.All"
CALLING = (ACCESS_MEDIA, INITIATE, INITIATE_GROUP, JOIN_GROUP, JOIN_AS_GUEST)
# Presence's (graph-identity-facts.md §8): ReadWrite includes what Read allows.
PRESENCE = ("Presence.Read.All", "Presence.ReadWrite.All")
PRESENCE_READ = frozenset(PRESENCE)
PRESENCE_WRITE = frozenset({"Presence.ReadWrite.All"})
# Call records' (callrecords-callrecord-get.md): application permission only.
CALL_RECORDS = ("CallRecords.Read.All",)
CALL_RECORDS_READ = frozenset(CALL_RECORDS)
# Online meetings' (onlinemeeting-get.md and the create, update and delete pages).
ONLINE_MEETINGS = ("OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All")
ONLINE_MEETINGS_READ = frozenset(ONLINE_MEETINGS)
ONLINE_MEETINGS_WRITE = frozenset({"OnlineMeetings.ReadWrite.All"})
# Attendance reports' (meetingattendancereport-list.md).
ONLINE_MEETING_ARTIFACTS = ("OnlineMeetingArtifact.Read.All",)
ONLINE_MEETING_ARTIFACTS_READ = frozenset(ONLINE_MEETING_ARTIFACTS)
# What an app's tokens carry when its registration names no roles: all that mockgraph serves.
EVERY = (*CALLING, *PRESENCE, *CALL_RECORDS, *ONLINE_MEETINGS, *ONLINE_MEETING_ARTIFACTS)


def allowed_by(*permissions: str) -> frozenset[str]:
    """An operation's permissions, any one of which allows it. Calls.InitiateGroupCall.All
    includes what Calls.Initiate.All allows (a Teams docs change, [TD-6727])."""
    given = frozenset(permissions)
    return given | {INITIATE_GROUP} if INITIATE in given else given


ANY_CALLING = frozenset(CALLING)  # what Graph's pages do not say: any calling permission
NONE_NEEDED = frozenset[str]()  # reject, hold music: "None" on their pages


def check_permitted(operation: str, permissions: AbstractSet[str], roles: AbstractSet[str]) -> None:
    """Raise the 403 Graph answers if no role in the token is one of ``permissions`` (an
    operation with none needs no role)."""
    if permissions and permissions.isdisjoint(roles):
        needed = ", ".join(sorted(permissions))
        have = ", ".join(sorted(roles)) or "none"
        raise Forbidden(
            "Insufficient enterprise tenant permissions, cannot access this API. "
            f"({operation} needs one of the application permissions {needed}; the "
            f"token's roles: {have}.)"
        )
