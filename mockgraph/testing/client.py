"""Python clients for mockgraph's /_mock control plane: async, and a small sync wrapper.

Waiting happens in the server (long polls), so a wait returns the moment its condition holds
and a client holds no state between calls: each call opens its own HTTP session, so one client
works from any event loop, or from none with ``MockGraphSyncClient``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp

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


class MockGraphClient:
    """``client = MockGraphClient("http://127.0.0.1:8080")``; every method is a coroutine."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def graph_url(self, version: str = "v1.0") -> str:
        """The base URL a bot's Graph client uses, e.g. ``http://127.0.0.1:8080/v1.0``."""
        return f"{self.url}/{version}"

    async def health(self) -> JSON:
        result: JSON = await self._request("GET", "/_mock/health")
        return result

    async def seed_call(
        self,
        call_id: str | None = None,
        *,
        callback_uri: str | None = None,
        state: str | None = None,
        tenant_id: str | None = None,
        source: JSON | None = None,
        targets: list[JSON] | None = None,
        direction: str | None = None,
    ) -> JSON:
        """Add a call the bot already has; returns it as Graph JSON (with its ``id``)."""
        spec = {
            "id": call_id,
            "callbackUri": callback_uri,
            "state": state,
            "tenantId": tenant_id,
            "source": source,
            "targets": targets,
            "direction": direction,
        }
        body = {key: value for key, value in spec.items() if value is not None}
        result: JSON = await self._request("POST", "/_mock/calls", json_body=body)
        return result

    async def ring(
        self,
        call_id: str | None = None,
        *,
        callback_uri: str | None = None,
        timeout: float | None = None,
        tenant_id: str | None = None,
        source: JSON | None = None,
        targets: list[JSON] | None = None,
        requested_modalities: list[str] | None = None,
        application_instance: bool | None = None,
    ) -> JSON:
        """Ring the bot: a new incoming call, announced by Graph's ``created`` notification;
        it ends unless answered, rejected or redirected within ``timeout`` seconds."""
        spec = {
            "id": call_id,
            "callbackUri": callback_uri,
            "timeout": timeout,
            "tenantId": tenant_id,
            "source": source,
            "targets": targets,
            "requestedModalities": requested_modalities,
            "applicationInstance": application_instance,
        }
        body = {key: value for key, value in spec.items() if value is not None}
        result: JSON = await self._request("POST", "/_mock/calls/incoming", json_body=body)
        return result

    async def register_bot(self, identity_id: str, callback_uri: str) -> JSON:
        """Transfers to ``identity_id`` ring the bot at ``callback_uri`` (both sides)."""
        result: JSON = await self._request(
            "PUT", f"/_mock/bots/{identity_id}", json_body={"callbackUri": callback_uri}
        )
        return result

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

    async def journal(self, call_id: str | None = None) -> list[JSON]:
        params = {"callId": call_id} if call_id else None
        result: list[JSON] = (await self._request("GET", "/_mock/journal", params=params))["value"]
        return result

    async def scenarios(self) -> list[JSON]:
        result: list[JSON] = (await self._request("GET", "/_mock/scenarios"))["value"]
        return result

    async def load_scenarios(self, yaml_text: str) -> list[JSON]:
        """Add scenarios from YAML; ``MockGraphError`` (400) lists every problem."""
        result: list[JSON] = (
            await self._request("POST", "/_mock/scenarios", data=yaml_text.encode())
        )["value"]
        return result

    async def reset(self) -> None:
        """Forget calls and journal, stop playback, restore time settings; scenarios stay."""
        await self._request("POST", "/_mock/reset")

    async def set_time(self, *, scale: float | None = None, step: bool | None = None) -> JSON:
        """``scale=0`` collapses every pause; ``step=True`` holds each notification until
        ``advance``. Until the next reset."""
        body = {
            key: value for key, value in {"scale": scale, "step": step}.items() if value is not None
        }
        result: JSON = await self._request("PUT", "/_mock/time", json_body=body)
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
        timeout = aiohttp.ClientTimeout(total=wait + HTTP_GRACE)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(
                method, self.url + path, json=json_body, data=data, params=params
            ) as response,
        ):
            text = await response.text()
            body = json.loads(text) if text else None
            if response.status == 408:
                raise MockGraphTimeout(response.status, body)
            if response.status >= 400:
                raise MockGraphError(response.status, body)
            return body


class MockGraphSyncClient:
    """The same methods, blocking, for test suites that are not async.

    Each call runs the async client on a private event loop; inside async code, use
    ``MockGraphClient`` instead.
    """

    def __init__(self, url: str) -> None:
        self.client = MockGraphClient(url)
        self.url = self.client.url

    def graph_url(self, version: str = "v1.0") -> str:
        return self.client.graph_url(version)

    def health(self) -> JSON:
        return _run(self.client.health())

    def seed_call(self, call_id: str | None = None, **spec: Any) -> JSON:
        return _run(self.client.seed_call(call_id, **spec))

    def ring(self, call_id: str | None = None, **spec: Any) -> JSON:
        return _run(self.client.ring(call_id, **spec))

    def register_bot(self, identity_id: str, callback_uri: str) -> JSON:
        return _run(self.client.register_bot(identity_id, callback_uri))

    def pin_scenario(self, call_id: str, name: str | None) -> JSON:
        return _run(self.client.pin_scenario(call_id, name))

    def calls(self) -> list[JSON]:
        return _run(self.client.calls())

    def call(self, call_id: str) -> JSON:
        return _run(self.client.call(call_id))

    def journal(self, call_id: str | None = None) -> list[JSON]:
        return _run(self.client.journal(call_id))

    def scenarios(self) -> list[JSON]:
        return _run(self.client.scenarios())

    def load_scenarios(self, yaml_text: str) -> list[JSON]:
        return _run(self.client.load_scenarios(yaml_text))

    def reset(self) -> None:
        _run(self.client.reset())

    def set_time(self, *, scale: float | None = None, step: bool | None = None) -> JSON:
        return _run(self.client.set_time(scale=scale, step=step))

    def advance(self, call_id: str, steps: int = 1) -> JSON:
        return _run(self.client.advance(call_id, steps))

    def wait_for_state(self, call_id: str, state: str, timeout: float = 5) -> JSON:
        return _run(self.client.wait_for_state(call_id, state, timeout))

    def wait_for_notifications(self, call_id: str, count: int, timeout: float = 5) -> list[JSON]:
        return _run(self.client.wait_for_notifications(call_id, count, timeout))

    def wait_idle(self, timeout: float = 5) -> None:
        _run(self.client.wait_idle(timeout))


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError("MockGraphSyncClient cannot block inside async code; use MockGraphClient")
