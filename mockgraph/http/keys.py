"""What the aiohttp application holds: the services the composition root wired for it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from mockgraph.calling.control import ControlService
from mockgraph.calling.graph_service import GraphService
from mockgraph.calling.service import CallingService
from mockgraph.callrecords.records import CallRecords
from mockgraph.delivery.signing import SigningService
from mockgraph.faults import Faults
from mockgraph.identity.platform import IdentityPlatform
from mockgraph.journal import Journal
from mockgraph.meetings.meetings import OnlineMeetings
from mockgraph.presence.presences import Presences
from mockgraph.subscriptions.subscriptions import Subscriptions

SERVICE: web.AppKey[CallingService] = web.AppKey("service", CallingService)
GRAPH: web.AppKey[GraphService] = web.AppKey("graph", GraphService)
CONTROL: web.AppKey[ControlService] = web.AppKey("control", ControlService)
SIGNING: web.AppKey[SigningService] = web.AppKey("signing", SigningService)
JOURNAL: web.AppKey[Journal] = web.AppKey("journal", Journal)
FAULTS: web.AppKey[Faults] = web.AppKey("faults", Faults)
PRESENCES: web.AppKey[Presences] = web.AppKey("presences", Presences)
CALL_RECORDS: web.AppKey[CallRecords] = web.AppKey("call_records", CallRecords)
MEETINGS: web.AppKey[OnlineMeetings] = web.AppKey("meetings", OnlineMeetings)
SUBSCRIPTIONS: web.AppKey[Subscriptions] = web.AppKey("subscriptions", Subscriptions)
IDENTITY: web.AppKey[IdentityPlatform] = web.AppKey("identity", IdentityPlatform)
CONTROL_TOKEN: web.AppKey[str] = web.AppKey("control_token", str)  # "" when /_mock is open
TRUST: web.AppKey[bytes] = web.AppKey("trust", bytes)  # the PEM https is trusted by; b"": http
STREAMS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("streams", set)  # open /_mock/events
