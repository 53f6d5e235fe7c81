"""Delivering notifications to bots: one ordered lane per call, one shared HTTP session.

The steps of one call go out strictly one after another; different calls run concurrently.
Every attempt and its outcome is written into the journal record of the notification.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque

import aiohttp

from mockgraph.clock import utc_now
from mockgraph.journal import Attempt, NotificationRecord
from mockgraph.signals import Changes

log = logging.getLogger("mockgraph.delivery")
HEADERS = {"Content-Type": "application/json"}


class Notifier:
    def __init__(self, changes: Changes, *, timeout: float = 10.0) -> None:
        self._changes = changes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._lanes: dict[str, deque[NotificationRecord]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        if self._session is None:
            # limit=0: thousands of calls deliver concurrently; each lane is sequential anyway.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        """Cancel what is still queued or in flight (journaled as cancelled); safe to repeat."""
        await self.cancel_all("mockgraph stopped")
        if self._session is not None:
            await self._session.close()
            self._session = None

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
                record.outcome, record.note = "cancelled", reason
        self._lanes.clear()
        self._workers.clear()
        self._changes.notify()

    async def _drain(self, call_id: str) -> None:
        lane = self._lanes[call_id]
        try:
            while lane:
                record = lane[0]
                try:
                    await self._deliver(record)
                except asyncio.CancelledError:
                    record.outcome, record.note = "cancelled", "cancelled while in flight"
                    raise
                lane.popleft()
                self._changes.notify()
        finally:
            if not lane:
                self._lanes.pop(call_id, None)
            if self._workers.get(call_id) is asyncio.current_task():
                del self._workers[call_id]
            if not self._workers:
                self._changes.notify()

    async def _deliver(self, record: NotificationRecord) -> None:
        if self._session is None:
            raise RuntimeError("Notifier.start() was not awaited")
        attempt = Attempt(time=utc_now())
        record.attempts.append(attempt)
        started = time.perf_counter()
        try:
            async with self._session.post(
                record.url, data=json.dumps(record.body), headers=HEADERS
            ) as response:
                await response.read()
                attempt.status = response.status
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            attempt.error = f"no answer within {self._timeout.total} s"
        except Exception as error:  # any failure is journaled, never lost or fatal
            attempt.error = f"{type(error).__name__}: {error}" if str(error) else repr(error)
        attempt.duration_ms = (time.perf_counter() - started) * 1000
        ok = attempt.status is not None and 200 <= attempt.status < 300
        record.outcome = "delivered" if ok else "failed"
        if not ok:
            reason = attempt.error or f"HTTP {attempt.status}"
            log.warning(
                "notification %d for call %s to %s failed: %s",
                record.seq,
                record.call_id,
                record.url,
                reason,
            )
