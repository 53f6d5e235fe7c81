"""Graph's change notifications on the wire: the validation handshake a subscription's URLs
must pass, and the POSTs of change and lifecycle notifications, each journaled with its
attempts.

The handshake (graph-beyond-calls-facts.md §3.2): ``POST {url}?validationToken={token}`` with
a ``text/plain`` body; the URL must answer ``200``, ``text/plain``, the token decoded, within
10 seconds. It is read with aiohttp's client (it happens once per subscription, and needs the
answer's body, which the notifications' client drops).

A notification is delivered when the app answers 2xx. Otherwise it is sent again, with the
calls' back-off, up to ``--delivery-attempts`` times in all (Graph goes on for up to 4 hours;
a test need not). Notifications are not ordered: Graph promises no order, and each goes out
at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

from mockgraph.clock import Clock
from mockgraph.delivery.http_client import HttpClient, client_context
from mockgraph.delivery.notifier import DeliveryPolicy
from mockgraph.ids import new_id
from mockgraph.journal import Attempt, ChangeNotificationRecord, Journal
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.delivery")
VALIDATION_TIMEOUT = 10.0  # seconds, Graph's
FAILED = "Subscription validation request failed."


class Webhooks:
    """Validates subscription URLs and delivers to them; ``close`` is safe to call twice."""

    def __init__(
        self,
        journal: Journal,
        changes: Changes,
        policy: DeliveryPolicy,
        clock: Clock,
        *,
        also_trust: str | None = None,
    ) -> None:
        self._journal = journal
        self._changes = changes
        self._policy = policy
        self._clock = clock
        self._also_trust = also_trust
        self._client: HttpClient | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._cancelled_for = "mockgraph stopped"  # why the POSTs cancelled last were

    @property
    def busy(self) -> bool:
        return bool(self._sending)

    async def close(self) -> None:
        await self.cancel_all("mockgraph stopped")
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def cancel_all(self, reason: str) -> None:
        self._cancelled_for = reason
        sending = list(self._sending)
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)
        self._sending.clear()
        self._changes.notify()

    # --- the handshake ---------------------------------------------------------------------

    async def validate(self, url: str) -> str | None:
        """None when ``url`` echoed the token in time; else Graph's message for why not."""
        # Worded as Graph's tokens are: spaces and colons, which the URL must decode.
        token = (
            "Validation: Testing client application reachability for subscription "
            f"Request-Id: {new_id()}"
        )
        asking = asyncio.ensure_future(self._ask(url, token))
        expired = asyncio.ensure_future(self._clock.sleep(VALIDATION_TIMEOUT))
        try:
            await asyncio.wait({asking, expired}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            expired.cancel()
            if not asking.done():
                asking.cancel()
        if not asking.done() or asking.cancelled():
            return "Subscription validation request timed out."
        return asking.result()

    async def _ask(self, url: str, token: str) -> str | None:
        import aiohttp

        separator = "&" if "?" in url else "?"
        target = f"{url}{separator}validationToken={quote(token, safe='')}"
        headers = {"Content-Type": "text/plain; charset=utf-8", "client-request-id": new_id()}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    target, data=b"", headers=headers, ssl=client_context(self._also_trust)
                ) as reply,
            ):
                text = await reply.text(errors="replace")
                if reply.status != 200:
                    return (
                        f"{FAILED} Notification endpoint must respond with 200 OK to validation "
                        f"request (it answered {reply.status})."
                    )
                if reply.content_type != "text/plain":
                    return f"{FAILED} The response must be text/plain, not {reply.content_type}."
                if text != token:
                    return f"{FAILED} Response must exactly match validationToken query parameter."
                return None
        except (aiohttp.ClientError, OSError, ValueError) as error:
            reason = str(error) or type(error).__name__
            return (
                f"{FAILED} Notification endpoint must respond with 200 OK to validation "
                f"request ({reason})."
            )

    # --- notifications -----------------------------------------------------------------------

    def post(
        self, subscription_id: str, url: str, body: dict[str, Any], lifecycle: str | None
    ) -> None:
        """Journal the notification and send it (retried as the policy says)."""
        record = self._journal.record_change(
            subscription_id=subscription_id, url=url, body=body, lifecycle=lifecycle
        )
        task = asyncio.ensure_future(self._deliver(record))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._changes.notify()

    async def _deliver(self, record: ChangeNotificationRecord) -> None:
        if self._client is None:
            self._client = HttpClient(limit=self._policy.connections, also_trust=self._also_trust)
        failures = 0
        try:
            while True:
                attempt = await self._attempt(self._client, record)
                if attempt.status is not None and 200 <= attempt.status < 300:
                    record.settle("delivered")
                    return
                failures += 1
                if failures >= self._policy.attempts:
                    break
                await self._clock.sleep(self._policy.pause_after(failures))
        except asyncio.CancelledError:
            record.settle("cancelled", self._cancelled_for)
            raise
        record.settle("failed")
        last = record.attempts[-1]
        log.warning(
            "change notification %d for subscription %s to %s failed: %s",
            record.seq,
            record.subscription_id,
            last.url,
            last.error or f"HTTP {last.status}",
        )

    async def _attempt(self, client: HttpClient, record: ChangeNotificationRecord) -> Attempt:
        message_id = new_id()
        attempt = Attempt(time=time.time(), url=record.url, message_id=message_id)
        record.attempts.append(attempt)
        started = time.perf_counter()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "client-request-id": message_id,
        }
        try:
            reply = await client.post(
                record.url, record.payload, headers, timeout=self._policy.timeout
            )
            attempt.status = reply.status
        except Exception as error:  # journaled, never lost or fatal
            attempt.failed(error, self._policy.timeout)
        attempt.duration_ms = (time.perf_counter() - started) * 1000
        return attempt
