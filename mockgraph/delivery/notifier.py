"""Delivering notifications to bots as Graph does: one ordered lane per call, one shared pool
of connections (``http_client``), Graph's headers and a signed token on every POST.

The bot's answer decides what happens next:

* 2xx: delivered (204 is how bots on the legacy protocol acknowledge);
* 301/302/307/308 with ``Location``: sent again there, and the call's later notifications go
  there too (Graph's region affinity);
* 403: rejected, the bot refused the token; not retried;
* 5xx, 429, no connection, no answer in time: retried with exponential backoff;
* any other 4xx: failed, not retried.

Every attempt and the final outcome are written into the journal record. A notification that
finally fails is logged; with ``halt_on_failure`` the call's later notifications are dropped
(journaled as cancelled) and its scenario stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from mockgraph.clock import Clock
from mockgraph.config import Settings
from mockgraph.delivery.http_client import HttpClient
from mockgraph.ids import new_id
from mockgraph.journal import Attempt, NotificationRecord
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.delivery")
USER_AGENT = "Microsoft-Skype/3.0,(Calling/1.0)"
REDIRECTS = (301, 302, 307, 308)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float  # seconds per attempt
    attempts: int  # per notification, when the bot fails
    backoff: float  # seconds before the first retry; doubles each time
    halt_on_failure: bool
    connections: int  # open connections to bots at most, all bots together

    def pause_after(self, failures: int) -> float:
        """Seconds before the next try, after ``failures`` failed ones: doubling."""
        return self.backoff * 2.0 ** (failures - 1)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout=settings.delivery_timeout,
            attempts=settings.delivery_attempts,
            backoff=settings.retry_backoff,
            halt_on_failure=settings.halt_on_failure,
            connections=settings.connections,
        )


class Notifier:
    def __init__(
        self,
        changes: Changes,
        policy: DeliveryPolicy,
        clock: Clock,
        *,
        token: Callable[[str], str],
        on_redirect: Callable[[str, str], None],
        on_halt: Callable[[str], None],
        also_trust: str | None = None,
    ) -> None:
        """``also_trust``: a PEM file of authorities trusted for https bots besides the
        system's (mockgraph's local authority)."""
        self._changes = changes
        self.policy = policy
        self._clock = clock
        self._token = token
        self._on_redirect = on_redirect
        self._on_halt = on_halt
        self._also_trust = also_trust
        self._client: HttpClient | None = None
        self._lanes: dict[str, deque[NotificationRecord]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    async def start(self) -> None:
        if self._client is None:
            # Thousands of calls may deliver at once: past the limit, lanes wait for a
            # connection instead of each opening its own (10,000 sockets cost ~300 MiB and
            # swamp the event loop; see BENCHMARKS.md).
            self._client = HttpClient(limit=self.policy.connections, also_trust=self._also_trust)

    async def close(self, grace: float = 0) -> None:
        """Let the POSTs in flight finish, for up to ``grace`` seconds; cancel everything
        else, queued or still in flight after that (journaled as cancelled). Safe to call
        twice."""
        self._closing = True  # each lane stops after the notification it is delivering
        if grace > 0:
            await self._changes.wait_until(lambda: not self._workers, grace, Clock())
        await self.cancel_all("mockgraph stopped")
        if self._client is not None:
            await self._client.close()
            self._client = None

    def send(self, record: NotificationRecord) -> None:
        """Queue ``record`` behind the earlier notifications of its call."""
        lane = self._lanes.setdefault(record.call_id, deque())
        lane.append(record)
        if record.call_id not in self._workers:
            self._workers[record.call_id] = asyncio.create_task(self._drain(record.call_id))

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def cancel_all(self, reason: str) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            for record in lane:
                _cancel(record, reason)
        self._lanes.clear()
        self._workers.clear()
        self._changes.notify()

    async def _drain(self, call_id: str) -> None:
        lane = self._lanes[call_id]
        try:
            while lane and not self._closing:
                record = lane[0]
                try:
                    await self._deliver(record)
                except asyncio.CancelledError:
                    _cancel(record, "cancelled while in flight")
                    raise
                lane.popleft()
                if record.outcome in ("failed", "rejected") and self.policy.halt_on_failure:
                    while lane:
                        _cancel(lane.pop(), f"notification {record.seq} of this call failed")
                    self._on_halt(call_id)
                self._changes.notify()
        finally:
            # Closing: what is left in the lane stays there for cancel_all to journal.
            if not lane and not self._closing:
                self._lanes.pop(call_id, None)
            if self._workers.get(call_id) is asyncio.current_task():
                del self._workers[call_id]
            if not self._workers:
                self._changes.notify()

    def _move_queued(self, call_id: str, old: str, new: str) -> None:
        """Graph's region affinity: the call's notifications already queued for where one was
        moved from go where it was moved to, as the later ones will (at time scale 0 a whole
        scenario is queued before its first POST is answered)."""
        for queued in self._lanes.get(call_id, ()):
            if queued.url == old and not queued.attempts:
                queued.url = new

    async def _deliver(self, record: NotificationRecord) -> None:
        payload = record.payload
        url, failures, redirects = record.url, 0, 0
        while True:
            attempt = await self._attempt(record, url, payload)
            if attempt.redirected_to is not None:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    record.settle("failed", "too many redirects")
                    break
                self._move_queued(record.call_id, url, attempt.redirected_to)
                url = attempt.redirected_to
                self._on_redirect(record.call_id, url)
                continue
            status = attempt.status
            if status is not None and 200 <= status < 300:
                note = "204: acknowledged as on Graph's legacy protocol" if status == 204 else None
                record.settle("delivered", note)
                return
            if status == 403:
                record.settle(
                    "rejected", "403: the bot rejected the notification (its token, most likely)"
                )
                break
            failures += 1
            retryable = status is None or status >= 500 or status == 429
            if retryable and failures < self.policy.attempts:
                await self._clock.sleep(self.policy.pause_after(failures))
                continue
            record.settle("failed")
            break
        last = record.attempts[-1]
        log.warning(
            "notification %d for call %s to %s %s: %s",
            record.seq,
            record.call_id,
            last.url,
            record.outcome,
            record.note or last.error or f"HTTP {last.status}",
        )

    async def _attempt(self, record: NotificationRecord, url: str, payload: bytes) -> Attempt:
        if self._client is None:
            raise RuntimeError("Notifier.start() was not awaited")
        message_id = new_id()
        if not record.attempts and record.due is not None:  # its POST goes out now
            record.late_ms = max(0.0, (self._clock.monotonic() - record.due) * 1000)
        attempt = Attempt(time=time.time(), url=url, message_id=message_id)
        record.attempts.append(attempt)
        started = time.perf_counter()
        try:
            token = self._token(record.tenant_id)
            headers = {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "User-Agent": USER_AGENT,
                "X-Microsoft-Skype-Chain-ID": record.chain_id,
                "X-Microsoft-Skype-Message-ID": message_id,
                "Scenario-Id": record.scenario_id,
                "client-request-id": message_id,
            }
            reply = await self._client.post(url, payload, headers, timeout=self.policy.timeout)
            attempt.status = reply.status
            location = reply.headers.get("location")
            if reply.status in REDIRECTS and location:
                attempt.redirected_to = urljoin(url, location)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # any failure is journaled, never lost or fatal
            attempt.failed(error, self.policy.timeout)
        attempt.duration_ms = (time.perf_counter() - started) * 1000
        return attempt


def _cancel(record: NotificationRecord, reason: str) -> None:
    record.settle("cancelled", reason)
