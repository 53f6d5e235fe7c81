"""Every Graph presence operation mockgraph serves, declared once: its paths (every form it is
served at derives from them), the Graph type its body is checked against, its permissions,
its answer, and what it does (a ``Presences`` method). The router, the OpenAPI description and
the docs' table read these.

The checking order is the calls' (``mockgraph.calling.operations``): authentication, route and
method, content type and size, then in ``perform``: the schema (400), the user (404), the
operation's own rules (400/404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.operations import Form
from mockgraph.identity.permissions import PRESENCE_READ, PRESENCE_WRITE, check_permitted
from mockgraph.presence.presences import Presences
from mockgraph.resources import check_body, versioned_forms

PRESENCE = "microsoft.graph.presence"
# A user's presence, where Graph serves it: under the user, and under cloudCommunications.
USER_PRESENCE = ("/users/{userId}/presence", "/communications/presences/{userId}")

Perform = Callable[[Presences, str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class PresenceOperation:
    name: str
    method: str
    paths: tuple[str, ...]  # below the version; a bound action's last segment is its name
    perform: Perform  # the Presences method, given the user id the path names (or "")
    permissions: frozenset[str]
    request: str | None = None  # the Graph type the body is checked against; None: no body
    returns: str | None = None  # the Graph type of the 200's body; None: no body
    collection: bool = False  # its body is {"value": [returns...]}
    action: bool = True  # also served with its namespace-qualified name
    may_be_empty: bool = False  # no body at all reads as {}

    def forms(self) -> tuple[Form, ...]:
        return versioned_forms(self.method, self.paths, action=self.action)

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        check_permitted(self.name, self.permissions, roles)

    def perform_checked(
        self, presences: Presences, version: str, user_id: str, body: Mapping[str, Any] | None
    ) -> Any:
        """The schema (400), then the operation (the user's 404, its rules)."""
        check_body(version, self.request, body)
        return self.perform(presences, user_id, body or {})

    @property
    def odata_context(self) -> str | None:
        """What the answer's ``@odata.context`` names after ``$metadata#``."""
        if self.returns is None:
            return None
        return (
            f"Collection({self.returns})" if self.collection else "communications/presences/$entity"
        )


def _actions(name: str) -> tuple[str, ...]:
    return tuple(f"{base}/{name}" for base in USER_PRESENCE)


PRESENCE_OPERATIONS = (
    PresenceOperation(
        "getPresence",
        "GET",
        USER_PRESENCE,
        Presences.get,
        PRESENCE_READ,
        returns=PRESENCE,
        action=False,
    ),
    PresenceOperation(
        "getPresencesByUserId",
        "POST",
        ("/communications/getPresencesByUserId",),
        Presences.get_many,
        PRESENCE_READ,
        request="action.cloudCommunications.getPresencesByUserId",
        returns=PRESENCE,
        collection=True,
    ),
    PresenceOperation(
        "setPresence",
        "POST",
        _actions("setPresence"),
        Presences.set_presence,
        PRESENCE_WRITE,
        request="action.presence.setPresence",
    ),
    PresenceOperation(
        "clearPresence",
        "POST",
        _actions("clearPresence"),
        Presences.clear_presence,
        PRESENCE_WRITE,
        request="action.presence.clearPresence",
    ),
    PresenceOperation(
        "setUserPreferredPresence",
        "POST",
        _actions("setUserPreferredPresence"),
        Presences.set_preferred,
        PRESENCE_WRITE,
        request="action.presence.setUserPreferredPresence",
    ),
    PresenceOperation(
        "clearUserPreferredPresence",
        "POST",
        _actions("clearUserPreferredPresence"),
        Presences.clear_preferred,
        PRESENCE_WRITE,
        request="action.presence.clearUserPreferredPresence",
        may_be_empty=True,
    ),
    PresenceOperation(
        "setStatusMessage",
        "POST",
        _actions("setStatusMessage"),
        Presences.set_status_message,
        PRESENCE_WRITE,
        request="action.presence.setStatusMessage",
    ),
)
