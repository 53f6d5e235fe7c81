"""Python clients for mockgraph's /_mock control plane: async, and a small sync wrapper.

Waiting happens in the server (long polls), so a wait returns the moment its condition holds
and a client holds no state between calls: by default each call opens its own HTTP session,
so one client works from any event loop, or from none with ``MockGraphSyncClient``. The pytest
plugin gives its clients a ``SharedSession`` instead: one session, kept open on the plugin's
background loop, that every test's loop borrows, so a test does not pay for a connection per
call (BENCHMARKS.md, "bot suite").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar

import aiohttp

from mockgraph.calling.shapes import RING, SEED

T = TypeVar("T")
JSON = dict[str, Any]
# A long poll may take its whole timeout; the HTTP request gets this much more.
HTTP_GRACE = 10.0


class MockGraphError(Exception):
    """mockgraph answered an error; ``status``, ``code`` and ``body`` tell which."""

    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = str(error.get("code", ""))
        self.body = body
        super().__init__(f"{status} {self.code}: {error.get('message', body)}")


class MockGraphTimeout(MockGraphError, TimeoutError):
    """A wait ended before its condition held; the message says where things stand."""


class Answer(NamedTuple):
    status: int
    text: str


@dataclass(frozen=True)
class Outgoing:
    """One request to mockgraph, as a client makes it, whichever session carries it."""

    method: str
    url: str
    timeout: float
    json_body: Any = None
    data: bytes | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None

    async def over(self, session: aiohttp.ClientSession) -> Answer:
        async with session.request(
            self.method,
            self.url,
            json=self.json_body,
            data=self.data,
            params=self.params,
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as response:
            return Answer(response.status, await response.text())


class Transport(Protocol):
    """How a client's requests reach mockgraph."""

    async def request(self, outgoing: Outgoing) -> Answer: ...


class OwnSession:
    """A session of its own for each request: works from any loop, and leaves nothing open."""

    async def request(self, outgoing: Outgoing) -> Answer:
        async with aiohttp.ClientSession() as session:
            return await outgoing.over(session)


class SharedSession:
    """One session on ``loop`` (a loop that outlives the tests, in its own thread), whose
    connections every caller shares, from whatever loop it calls. ``close()`` on that loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._session: aiohttp.ClientSession | None = None

    async def request(self, outgoing: Outgoing) -> Answer:
        if asyncio.get_running_loop() is self._loop:
            return await self._send(outgoing)
        future = asyncio.run_coroutine_threadsafe(self._send(outgoing), self._loop)
        return await asyncio.wrap_future(future)

    async def _send(self, outgoing: Outgoing) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await outgoing.over(self._session)

    async def close(self) -> None:
        """Safe to call twice."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class MockGraphClient:
    """``client = MockGraphClient("http://127.0.0.1:8080")``; every method is a coroutine.
    ``token``: the server's ``--control-token``, if it has one. ``transport``: how requests
    go (default: a session of their own each)."""

    def __init__(
        self, url: str, token: str | None = None, *, transport: Transport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._transport = transport or OwnSession()

    def graph_url(self, version: str = "v1.0") -> str:
        """The base URL a bot's Graph client uses, e.g. ``http://127.0.0.1:8080/v1.0``."""
        return f"{self.url}/{version}"

    async def health(self) -> JSON:
        result: JSON = await self._request("GET", "/_mock/health")
        return result

    async def seed_call(self, call_id: str | None = None, **spec: Any) -> JSON:
        """Add a call the bot already has; returns it as Graph JSON (with its ``id``).
        ``spec``: the keys of ``POST /_mock/calls`` in snake case (``callback_uri``,
        ``state``, ``tenant_id``, ``source``, ``targets``, ``application_instance``, ...)."""
        body = SEED.body({"id": call_id, **spec})
        result: JSON = await self._request("POST", "/_mock/calls", json_body=body)
        return result

    async def ring(self, call_id: str | None = None, **spec: Any) -> JSON:
        """Ring the bot: a new incoming call, announced by Graph's ``created`` notification;
        it ends unless answered, rejected or redirected within ``timeout`` seconds. ``spec``:
        the keys of ``POST /_mock/calls/incoming`` in snake case."""
        body = RING.body({"id": call_id, **spec})
        result: JSON = await self._request("POST", "/_mock/calls/incoming", json_body=body)
        return result

    async def register_bot(self, identity_id: str, callback_uri: str) -> JSON:
        """Transfers to ``identity_id`` ring the bot at ``callback_uri`` (both sides)."""
        result: JSON = await self._request(
            "PUT", f"/_mock/bots/{identity_id}", json_body={"callbackUri": callback_uri}
        )
        return result

    async def add_user(self, user_id: str) -> JSON:
        """``user_id`` is a user of the tenant: Graph's presence answers for them."""
        result: JSON = await self._request("PUT", f"/_mock/users/{user_id}")
        return result

    async def presences(self) -> list[JSON]:
        """Each known user's presence, as Graph shows it (``GET /_mock/presences``)."""
        result: list[JSON] = (await self._request("GET", "/_mock/presences"))["value"]
        return result

    async def call_records(self) -> list[JSON]:
        """Every call record, filed yet or not: ``{"id", "callIds", "readable",
        "readableInSeconds", "record"}`` each (``GET /_mock/callRecords``)."""
        result: list[JSON] = (await self._request("GET", "/_mock/callRecords"))["value"]
        return result

    async def subscriptions(self) -> list[JSON]:
        """Every change-notification subscription, with ``needsReauthorization`` and
        ``notifications`` (``GET /_mock/subscriptions``)."""
        result: list[JSON] = (await self._request("GET", "/_mock/subscriptions"))["value"]
        return result

    async def send_lifecycle(
        self, subscription_id: str, event: str = "reauthorizationRequired"
    ) -> None:
        """Send the subscription's lifecycle URL ``event`` now."""
        path = f"/_mock/subscriptions/{subscription_id}/lifecycle"
        await self._request("POST", path, json_body={"lifecycleEvent": event})

    async def meetings(self) -> list[JSON]:
        """Every online meeting, who is in it and the calls into it (``GET /_mock/meetings``)."""
        result: list[JSON] = (await self._request("GET", "/_mock/meetings"))["value"]
        return result

    async def join_meeting(self, meeting_id: str, identity: JSON) -> JSON:
        """Someone (an identitySet) joins the meeting, and every call into it; a call that
        joins later finds them there. Returns ``{"id", "identity", "calls"}``."""
        path = f"/_mock/meetings/{meeting_id}/people"
        result: JSON = await self._request("POST", path, json_body={"identity": identity})
        return result

    async def leave_meeting(self, meeting_id: str, person_id: str) -> None:
        """Someone leaves the meeting, and every call into it."""
        await self._request("DELETE", f"/_mock/meetings/{meeting_id}/people/{person_id}")

    async def pin_scenario(self, call_id: str, name: str | None) -> JSON:
        """The scenario the call's next operation plays; ``None`` unpins."""
        result: JSON = await self._request(
            "PUT", f"/_mock/calls/{call_id}/scenario", json_body={"name": name}
        )
        return result

    async def calls(self) -> list[JSON]:
        result: list[JSON] = (await self._request("GET", "/_mock/calls"))["value"]
        return result

    async def call(self, call_id: str) -> JSON:
        """``{"id", "state", "call", "history", "scenario", ...}``"""
        result: JSON = await self._request("GET", f"/_mock/calls/{call_id}")
        return result

    async def journal(
        self, call_id: str | None = None, *, subscription_id: str | None = None
    ) -> list[JSON]:
        """The journal's entries: every one, a call's, or a subscription's notifications."""
        params = {"callId": call_id} if call_id else None
        if subscription_id:
            params = {"subscriptionId": subscription_id}
        result: list[JSON] = (await self._request("GET", "/_mock/journal", params=params))["value"]
        return result

    async def scenarios(self) -> list[JSON]:
        result: list[JSON] = (await self._request("GET", "/_mock/scenarios"))["value"]
        return result

    async def scenario(self, name: str) -> JSON:
        """One loaded scenario, with its steps as they play (``after`` in seconds, what each
        notifies, presses or changes)."""
        result: JSON = await self._request("GET", f"/_mock/scenarios/{name}")
        return result

    async def load_scenarios(self, yaml_text: str) -> list[JSON]:
        """Add scenarios from YAML; ``MockGraphError`` (400) lists every problem."""
        result: list[JSON] = (
            await self._request("POST", "/_mock/scenarios", data=yaml_text.encode())
        )["value"]
        return result

    async def hang_up(
        self,
        call_id: str,
        code: int | None = None,
        subcode: int | None = None,
        message: str | None = None,
    ) -> JSON:
        """The far side hangs up; the bot gets ``deleted`` with this resultInfo (default
        200/5002, as Graph sends when the other party hangs up). Returns the call."""
        given = {"code": code, "subcode": subcode, "message": message}
        body = {key: value for key, value in given.items() if value is not None}
        path = f"/_mock/calls/{call_id}/hangup"
        result: JSON = await self._request("POST", path, json_body=body or None)
        return result

    async def fail_media(self, call_id: str) -> JSON:
        """The call's media fails; the bot gets ``deleted`` with 410/301005. Returns the
        call."""
        result: JSON = await self._request("POST", f"/_mock/calls/{call_id}/mediaFailure")
        return result

    async def end_meeting(self, call_id: str) -> JSON:
        """The organiser ends the meeting: everyone but the bot leaves and the bot gets that
        roster; its call is not deleted (as Graph does). Returns the call."""
        result: JSON = await self._request("POST", f"/_mock/calls/{call_id}/meetingEnded")
        return result

    async def register_app(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        certificate: str | None = None,
        roles: list[str] | None = None,
        display_name: str | None = None,
    ) -> JSON:
        """Register an app with the identity platform (until the next reset): its client
        ``secret``, or the PEM ``certificate`` whose key signs its client assertions, and the
        application permissions (``roles``) its Graph tokens carry (default: every calling
        permission). Once one is registered, only registered apps get tokens."""
        given = {
            "secret": secret,
            "certificate": certificate,
            "roles": roles,
            "displayName": display_name,
        }
        body = {key: value for key, value in given.items() if value is not None}
        result: JSON = await self._request("PUT", f"/_mock/apps/{client_id}", json_body=body)
        return result

    async def apps(self) -> list[JSON]:
        """The registered apps (without their secrets)."""
        result: list[JSON] = (await self._request("GET", "/_mock/apps"))["value"]
        return result

    async def remove_app(self, client_id: str) -> None:
        await self._request("DELETE", f"/_mock/apps/{client_id}")

    async def add_fault(self, fault: JSON) -> JSON:
        """Set a fault on Graph requests, in its JSON form (``{"match": {"operation":
        "transfer"}, "status": 429, "retryAfter": 1, "times": 1}``); returns it with its
        ``id``. Until removed or the next reset."""
        result: JSON = await self._request("POST", "/_mock/faults", json_body=fault)
        return result

    async def faults(self) -> list[JSON]:
        """The faults set, each with its ``hits`` (requests it answered)."""
        result: list[JSON] = (await self._request("GET", "/_mock/faults"))["value"]
        return result

    async def remove_fault(self, fault_id: str) -> None:
        await self._request("DELETE", f"/_mock/faults/{fault_id}")

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/_mock/faults")

    async def reset(self, *, scale: float | None = None, step: bool | None = None) -> None:
        """Forget calls, journal and faults, stop playback, restore time settings (then set
        these, in the same request); scenarios stay."""
        body = _time(scale, step)
        await self._request("POST", "/_mock/reset", json_body=body or None)

    async def set_time(self, *, scale: float | None = None, step: bool | None = None) -> JSON:
        """``scale=0`` collapses every pause; ``step=True`` holds each notification until
        ``advance``. Until the next reset."""
        result: JSON = await self._request("PUT", "/_mock/time", json_body=_time(scale, step))
        return result

    async def advance(self, call_id: str, steps: int = 1) -> JSON:
        """Step mode: let the call's next ``steps`` notifications go out."""
        result: JSON = await self._request(
            "POST", f"/_mock/calls/{call_id}/advance", json_body={"steps": steps}
        )
        return result

    async def wait_for_state(self, call_id: str, state: str, timeout: float = 5) -> JSON:
        """Return the call once it is, or has been, in ``state``; ``MockGraphTimeout`` says
        which state it is in instead."""
        result: JSON = await self._request(
            "GET",
            f"/_mock/calls/{call_id}/wait",
            params={"state": state, "timeout": str(timeout)},
            wait=timeout,
        )
        return result

    async def wait_for_notifications(
        self, call_id: str, count: int, timeout: float = 5
    ) -> list[JSON]:
        """The call's journaled notifications once ``count`` are delivered or failed."""
        result: list[JSON] = (
            await self._request(
                "GET",
                f"/_mock/calls/{call_id}/notifications",
                params={"count": str(count), "timeout": str(timeout)},
                wait=timeout,
            )
        )["value"]
        return result

    async def wait_for_step(
        self, call_id: str, step: int | None = None, timeout: float = 5
    ) -> JSON:
        """Step mode: return the call once it holds a step for ``advance`` (step ``step``, if
        given), instead of polling ``waitingStep``."""
        result: JSON = await self._request(
            "GET",
            f"/_mock/calls/{call_id}/wait",
            params={"waitingStep": "any" if step is None else str(step), "timeout": str(timeout)},
            wait=timeout,
        )
        return result

    async def press_tones(self, call_id: str, tones: str | list[str]) -> list[JSON]:
        """The caller presses keys: ``"12#"`` (0-9, *, #, A-D) or tone names
        (``["tone1", "pound"]``). The bot gets one ``updated`` notification with ``toneInfo``
        per key, in order; returns those toneInfos. ``MockGraphError`` (409) unless the bot
        subscribed to tones."""
        result: list[JSON] = (
            await self._request("POST", f"/_mock/calls/{call_id}/tones", json_body={"tones": tones})
        )["value"]
        return result

    async def add_participant(
        self, call_id: str, identity: JSON, *, is_muted: bool | None = None
    ) -> JSON:
        """Someone joins the call (``identity``: an identitySet, e.g.
        ``{"user": {"id": "u1", "displayName": "Ann"}}``); the bot gets the roster update.
        Returns the participant, with its ``id``."""
        body: JSON = {"identity": identity}
        if is_muted is not None:
            body["isMuted"] = is_muted
        result: JSON = await self._request(
            "POST", f"/_mock/calls/{call_id}/participants", json_body=body
        )
        return result

    async def remove_participant(self, call_id: str, participant_id: str) -> None:
        """Someone leaves the call; the bot gets the roster update."""
        await self._request("DELETE", f"/_mock/calls/{call_id}/participants/{participant_id}")

    async def share_content(self, call_id: str, session_id: str | None = None) -> JSON:
        """Someone in the call starts sharing content: a contentSharingSession the bot can
        list and get. Returns it, with its ``id``."""
        body = {"id": session_id} if session_id else {}
        result: JSON = await self._request(
            "POST", f"/_mock/calls/{call_id}/contentSharingSessions", json_body=body
        )
        return result

    async def operations(self, call_id: str) -> list[JSON]:
        """Every operation the call's actions returned (``{"operation", "action", "ended"}``),
        ended ones included."""
        result: list[JSON] = (await self._request("GET", f"/_mock/calls/{call_id}/operations"))[
            "value"
        ]
        return result

    async def operation(self, call_id: str, operation_id: str) -> JSON:
        """One operation, ``{"operation": <Graph JSON>, "action", "ended"}``, even ended."""
        result: JSON = await self._request(
            "GET", f"/_mock/calls/{call_id}/operations/{operation_id}"
        )
        return result

    async def wait_for_operation(self, call_id: str, operation_id: str, timeout: float = 5) -> JSON:
        """The operation once it has an outcome (completed or failed); ``MockGraphTimeout``
        says its status otherwise."""
        result: JSON = await self._request(
            "GET",
            f"/_mock/calls/{call_id}/operations/{operation_id}/wait",
            params={"timeout": str(timeout)},
            wait=timeout,
        )
        return result

    async def wait_idle(self, timeout: float = 5) -> None:
        """Return once nothing is scheduled, queued or in flight."""
        await self._request("GET", "/_mock/idle", params={"timeout": str(timeout)}, wait=timeout)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        wait: float = 0,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        answer = await self._transport.request(
            Outgoing(method, self.url + path, wait + HTTP_GRACE, json_body, data, params, headers)
        )
        body = json.loads(answer.text) if answer.text else None
        if answer.status == 408:
            raise MockGraphTimeout(answer.status, body)
        if answer.status >= 400:
            raise MockGraphError(answer.status, body)
        return body


class MockGraphSyncClient:
    """Every method of ``MockGraphClient``, blocking, for test suites that are not async.

    Each method is the async client's, run on a private event loop (or by ``runner``, e.g. on
    the plugin's background loop), so the two cannot drift; inside async code, use
    ``MockGraphClient`` instead.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: Transport | None = None,
        runner: Callable[[Coroutine[Any, Any, Any]], Any] | None = None,
    ) -> None:
        self.client = MockGraphClient(url, token, transport=transport)
        self.url = self.client.url
        self._runner = runner or _run

    def graph_url(self, version: str = "v1.0") -> str:
        return self.client.graph_url(version)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name) if not name.startswith("_") else None
        if method is None or not inspect.iscoroutinefunction(method):
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

        @functools.wraps(method)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._runner(method(*args, **kwargs))

        return blocking

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *ASYNC_METHODS})


ASYNC_METHODS = tuple(
    name
    for name, member in inspect.getmembers(MockGraphClient, inspect.iscoroutinefunction)
    if not name.startswith("_")
)


def _time(scale: float | None, step: bool | None) -> JSON:
    return {
        key: value for key, value in {"scale": scale, "step": step}.items() if value is not None
    }


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError("MockGraphSyncClient cannot block inside async code; use MockGraphClient")
