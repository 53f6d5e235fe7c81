"""Who the bots are: other bots mockgraph knows by identity (a transfer to one rings it), and
the application under test, as the calls it is in name it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Bots:
    """Other bots known to mockgraph, by identity id: a transfer to one rings it."""

    def __init__(self, bots: Mapping[str, str]) -> None:
        self._urls = dict(bots)  # identity id -> callback URL

    def register(self, identity_id: str, callback_uri: str) -> None:
        self._urls[identity_id] = callback_uri

    def url_of(self, identity_id: str) -> str | None:
        return self._urls.get(identity_id)

    def listing(self) -> list[dict[str, str]]:
        return [{"id": key, "callbackUri": url} for key, url in self._urls.items()]


@dataclass(frozen=True)
class CallDefaults:
    """What Graph fills in for a call nobody said otherwise about."""

    tenant_id: str
    app_id: str  # the bot's application: the target of an incoming call
    application_instance: bool
    ring_timeout: float  # seconds
    keepalive_timeout: float = 2700.0  # seconds without a keepAlive before a call ends; 0: never
    bot_name: str = "Calling Bot"  # the application's display name

    @property
    def bot(self) -> dict[str, Any]:
        """The bot's identity (an identitySet), as rosters and calls name it."""
        return {"application": {"id": self.app_id, "displayName": self.bot_name}}

    @property
    def source(self) -> dict[str, Any]:
        """A created call's source when the bot gives none: the bot, as the create page's
        answer shows it."""
        application = {"@odata.type": "#microsoft.graph.identity", **self.bot["application"]}
        return {
            "@odata.type": "#microsoft.graph.participantInfo",
            "identity": {"@odata.type": "#microsoft.graph.identitySet", "application": application},
        }
