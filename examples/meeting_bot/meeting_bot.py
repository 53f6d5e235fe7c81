"""A small real meeting bot, the kind of note-taker mockgraph is for: given a Teams join link, it
finds the meeting (its organizer and tenant are in the link), joins it, keeps track of who is
in it from the roster notifications, and once it has left, reads what Graph recorded: the
meeting's attendance report and the call record.

It knows nothing of mockgraph: point ``graph_url`` at Graph (https://graph.microsoft.com/v1.0,
with a real token) or at mockgraph, and it behaves the same. Its tests start it inside pytest.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
from aiohttp import web

SERVICE_MEDIA = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}


class MeetingBot:
    """The bot: a notification endpoint at ``/api/calls`` and a Graph client."""

    def __init__(self, graph_url: str, token: str = "bot-token") -> None:
        self.graph_url = graph_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.call_id = ""
        self.call_chain_id = ""
        self.meeting_id = ""
        self.organizer = ""
        self.present: set[str] = set()  # display names in the last roster, the bot's aside

    @property
    def callback_url(self) -> str:
        return f"{self.url}/api/calls"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``port`` (0: a free one, read back from the socket); returns the URL."""
        app = web.Application()
        app.router.add_post("/api/calls", self._notified)
        self._session = aiohttp.ClientSession(headers=self._headers)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        listening = socket.socket()
        listening.bind((host, port))
        await web.SockSite(self._runner, listening).start()
        self.url = f"http://{host}:{listening.getsockname()[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # --- what it asks of Graph -----------------------------------------------------------------

    async def _graph(self, method: str, path: str, body: Any = None) -> Any:
        assert self._session is not None, "start() first"
        async with self._session.request(method, self.graph_url + path, json=body) as answer:
            answer.raise_for_status()
            return await answer.json() if answer.status != 204 else None

    async def join(self, join_web_url: str) -> None:
        """Find the meeting the link names, and join it."""
        context = json.loads(unquote(join_web_url).split("context=", 1)[1])
        self.organizer, tenant = context["Oid"], context["Tid"]
        link = quote(join_web_url, safe="")  # the get page: the link URL-encoded in the filter
        found = await self._graph(
            "GET", f"/users/{self.organizer}/onlineMeetings?$filter=JoinWebUrl eq '{link}'"
        )
        meeting = found["value"][0]
        self.meeting_id = meeting["id"]
        call = await self._graph(
            "POST",
            "/communications/calls",
            {
                "callbackUri": self.callback_url,
                "requestedModalities": ["audio"],
                "mediaConfig": SERVICE_MEDIA,
                "chatInfo": meeting["chatInfo"],
                "meetingInfo": {
                    "@odata.type": "#microsoft.graph.organizerMeetingInfo",
                    "organizer": {"user": {"id": self.organizer, "tenantId": tenant}},
                },
                "tenantId": tenant,
            },
        )
        self.call_id, self.call_chain_id = call["id"], call["callChainId"]

    async def leave(self) -> None:
        await self._graph("DELETE", f"/communications/calls/{self.call_id}")

    async def minutes(self) -> dict[str, Any]:
        """What Graph recorded once the bot left: who attended, for how long and in what role
        (the attendance report), and how long the call lasted (the call record)."""
        meeting = f"/users/{self.organizer}/onlineMeetings/{self.meeting_id}"
        reports = await self._graph("GET", f"{meeting}/attendanceReports")
        report_id = reports["value"][-1]["id"]
        records = await self._graph(
            "GET", f"{meeting}/attendanceReports/{report_id}/attendanceRecords"
        )
        record = await self._graph("GET", f"/communications/callRecords/{self.call_chain_id}")
        return {
            "attended": {
                r["identity"]["displayName"]: (r["role"], r["totalAttendanceInSeconds"])
                for r in records["value"]
            },
            "type": record["type"],
            "joinWebUrl": record["joinWebUrl"],
        }

    # --- what Graph tells it -------------------------------------------------------------------

    async def _notified(self, request: web.Request) -> web.Response:
        body = await request.json()
        for item in body.get("value", []):
            data = item.get("resourceData")
            if isinstance(data, list):  # the roster: everyone in the meeting now
                identities = (p.get("info", {}).get("identity", {}) for p in data)
                self.present = {
                    str(i["user"].get("displayName") or i["user"]["id"])
                    for i in identities
                    if "user" in i
                }
        return web.Response(status=202)
