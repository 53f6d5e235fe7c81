"""The journal: every Graph request received and every notification sent (to bots about
their calls, and to subscriptions' URLs), in order.

Nothing is dropped silently: a notification's every delivery attempt and its final outcome
stay here for tests and for people reading a failed CI run. The journal keeps at most ``limit``
entries so a long run does not grow without end; it drops the oldest and counts them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mockgraph.clock import iso

Outcome = Literal["pending", "delivered", "failed", "rejected", "cancelled", "skipped", "dropped"]


@dataclass(slots=True)
class Attempt:
    time: float  # time.time()
    url: str
    message_id: str  # X-Microsoft-Skype-Message-ID, unique per POST
    status: int | None = None
    error: str | None = None
    redirected_to: str | None = None
    duration_ms: float = 0.0

    def failed(self, error: Exception, timeout: float) -> None:
        """The POST got no answer: ``error`` (a ``TimeoutError`` after ``timeout`` seconds,
        or why it could not be sent), in words for the journal."""
        if isinstance(error, TimeoutError):
            self.error = f"no answer within {timeout:g} s"
        else:
            self.error = f"{type(error).__name__}: {error}" if str(error) else repr(error)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "time": iso(self.time),
            "url": self.url,
            "messageId": self.message_id,
            "durationMs": round(self.duration_ms, 3),
        }
        if self.status is not None:
            result["status"] = self.status
        if self.error is not None:
            result["error"] = self.error
        if self.redirected_to is not None:
            result["redirectedTo"] = self.redirected_to
        return result


def _decoded(received: bytes | str | None) -> Any:
    """A request's body as received, for reading: JSON if it is JSON, else text; a str is a
    note on why it was not read."""
    if not isinstance(received, bytes):
        return received
    if not received:
        return None
    try:
        return json.loads(received)
    except ValueError:
        return received.decode("utf-8", errors="replace")


@dataclass(slots=True)
class RequestRecord:
    seq: int
    time: float  # time.time()
    method: str
    path: str
    headers: Mapping[str, str]  # as received (read-only), made a dict only when shown
    # The body as the bytes received, decoded on each read: one object that the cyclic
    # collector does not track, where the parsed JSON was a few nested dicts per request,
    # kept for ``limit`` requests (BENCHMARKS.md, issue 24). A str says why it was not read.
    received: bytes | str | None
    status: int
    call_id: str | None
    request_id: str
    on_final: Callable[[Entry], None] | None = field(default=None, repr=False, compare=False)
    fault: str | None = None  # the id of the fault that answered it (or made it late)
    early_retry: bool = False  # it came before the Retry-After a fault gave had passed
    app_id: str | None = None  # the app its token speaks for (--auth strict)

    def faulted(self, fault_id: str) -> None:
        self.fault = fault_id

    def made_by(self, app_id: str) -> None:
        self.app_id = app_id

    def retried_early(self) -> None:
        self.early_retry = True

    @property
    def body(self) -> Any:
        """The body: JSON if it is JSON, else text, None if there was none (a copy, decoded
        anew on each read)."""
        return _decoded(self.received)

    def answered(
        self, status: int, received: bytes | str | None, created_call: str | None = None
    ) -> None:
        """mockgraph answered it: the record is final. A request that created a call belongs
        to it from now on."""
        self.status, self.received = status, received
        self.call_id = self.call_id or created_call
        if self.on_final is not None:
            self.on_final(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "request",
            "seq": self.seq,
            "time": iso(self.time),
            "callId": self.call_id,
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "requestId": self.request_id,
            "fault": self.fault,
            "earlyRetry": self.early_retry,
            "appId": self.app_id,
        }


class Posted:
    """What the records of a POST mockgraph makes (a notification to a bot, or to a
    subscription's URL) share: the body as sent, and the outcome, settled once. No slots of
    its own, and none of a dict: a busy journal holds thousands of these."""

    __slots__ = ()
    payload: bytes
    outcome: Outcome
    note: str | None
    on_final: Callable[[Entry], None] | None

    @property
    def body(self) -> dict[str, Any]:
        """The body, decoded anew on each read (a copy: the record cannot be changed)."""
        decoded: dict[str, Any] = json.loads(self.payload)
        return decoded

    def settle(self, outcome: Outcome, note: str | None = None) -> None:
        """Its final outcome (delivered, failed, rejected, cancelled, skipped or dropped), once."""
        _settle(self, outcome, note)


class _Settled(Protocol):
    outcome: Outcome
    note: str | None
    on_final: Callable[[Entry], None] | None


def _settle(record: _Settled, outcome: Outcome, note: str | None) -> None:
    if record.outcome != "pending":
        return
    record.outcome = outcome
    if note is not None:
        record.note = note
    if record.on_final is not None:
        record.on_final(record)  # type: ignore[arg-type]  # every record settled is an Entry


@dataclass(slots=True)
class NotificationRecord(Posted):
    seq: int
    time: float  # time.time()
    call_id: str
    url: str
    # The body as the JSON that is POSTed, encoded once: bytes are not tracked by the cyclic
    # collector, where the nested dicts of a busy journal made its every pass walk hundreds
    # of thousands of them (BENCHMARKS.md, "on time").
    payload: bytes
    scenario: str | None
    step: int | None
    attempts: list[Attempt] = field(default_factory=list)
    outcome: Outcome = "pending"
    note: str | None = None  # why it was skipped, dropped, cancelled or rejected
    tenant_id: str = ""  # the token's tid
    chain_id: str = ""  # X-Microsoft-Skype-Chain-ID: the call's callChainId
    scenario_id: str = ""  # Scenario-Id: one per operation played
    due: float | None = None  # the clock's monotonic time its scenario planned it for
    # How long after that its POST really went out (its first attempt began): a step is due,
    # then waits behind the call's earlier notifications (a slow bot) and for a connection.
    late_ms: float | None = None
    on_final: Callable[[Entry], None] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "notification",
            "seq": self.seq,
            "time": iso(self.time),
            "callId": self.call_id,
            "url": self.url,
            "scenario": self.scenario,
            "step": self.step,
            "body": self.body,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "outcome": self.outcome,
            "note": self.note,
            "scenarioId": self.scenario_id,
            "lateMs": None if self.late_ms is None else round(self.late_ms, 3),
        }


@dataclass(slots=True)
class ChangeNotificationRecord(Posted):
    """A change or lifecycle notification of a subscription (not about a call)."""

    seq: int
    time: float  # time.time()
    subscription_id: str
    url: str
    payload: bytes  # the JSON POSTed
    lifecycle: str | None  # the lifecycle event it tells; None: a change notification
    attempts: list[Attempt] = field(default_factory=list)
    outcome: Outcome = "pending"
    note: str | None = None
    on_final: Callable[[Entry], None] | None = field(default=None, repr=False, compare=False)

    @property
    def call_id(self) -> None:
        return None  # it is about a subscription's resource, not a call

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "changeNotification",
            "seq": self.seq,
            "time": iso(self.time),
            "callId": None,
            "subscriptionId": self.subscription_id,
            "lifecycleEvent": self.lifecycle,
            "url": self.url,
            "body": self.body,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "outcome": self.outcome,
            "note": self.note,
        }


Entry = RequestRecord | NotificationRecord | ChangeNotificationRecord


class Journal:
    """The last ``limit`` entries in memory; with ``file``, every entry also appended to it as
    a JSON line once it is final, and flushed, so the record outlives a ``kill -9``."""

    def __init__(self, limit: int, file: str | None = None) -> None:
        self.limit = limit
        self.dropped = 0
        self._entries: deque[Entry] = deque()
        self._seq = itertools.count(1)
        # Line-buffered text: each write of a whole line reaches the OS at once.
        self._file = open(file, "a", encoding="utf-8", buffering=1) if file else None  # noqa: SIM115
        self._listeners: list[Callable[[Entry], None]] = []
        # One bound method for every entry to call back, where ``self._final`` made a new one
        # per entry, kept as long as the entry.
        self._on_final = self._final

    def subscribe(self, listener: Callable[[Entry], None]) -> Callable[[], None]:
        """Call ``listener`` with each entry once it is final; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _final(self, entry: Entry) -> None:
        if self._file is not None and not self._file.closed:
            self._file.write(json.dumps(entry.to_json(), default=str) + "\n")
        if self._listeners:  # mostly none (an open inspector or event stream listens)
            for listener in tuple(self._listeners):  # one may unsubscribe while told
                listener(entry)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _append(self, entry: Entry) -> None:
        if len(self._entries) >= self.limit:
            self._entries.popleft()
            self.dropped += 1
        self._entries.append(entry)

    def record_request(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        call_id: str | None,
        request_id: str,
    ) -> RequestRecord:
        """A request as it arrives, unanswered (status 0, no body yet): ``answered`` fills
        them in."""
        record = RequestRecord(
            next(self._seq),
            time.time(),
            method,
            path,
            headers,
            None,
            0,
            call_id,
            request_id,
            on_final=self._on_final,
        )
        self._append(record)
        return record

    def record_notification(
        self,
        *,
        call_id: str,
        url: str,
        body: dict[str, Any],
        scenario: str | None = None,
        step: int | None = None,
        tenant_id: str = "",
        chain_id: str = "",
        scenario_id: str = "",
    ) -> NotificationRecord:
        record = NotificationRecord(
            next(self._seq),
            time.time(),
            call_id,
            url,
            json.dumps(body).encode(),
            scenario,
            step,
            tenant_id=tenant_id,
            chain_id=chain_id,
            scenario_id=scenario_id,
            on_final=self._on_final,
        )
        self._append(record)
        return record

    def record_change(
        self, *, subscription_id: str, url: str, body: dict[str, Any], lifecycle: str | None
    ) -> ChangeNotificationRecord:
        record = ChangeNotificationRecord(
            next(self._seq),
            time.time(),
            subscription_id,
            url,
            json.dumps(body).encode(),
            lifecycle,
            on_final=self._on_final,
        )
        self._append(record)
        return record

    def entries(
        self, call_id: str | None = None, *, subscription_id: str | None = None
    ) -> list[Entry]:
        """Every entry, or those about one call, or the notifications of one subscription."""
        if subscription_id is not None:
            return [
                entry
                for entry in self._entries
                if isinstance(entry, ChangeNotificationRecord)
                and entry.subscription_id == subscription_id
            ]
        if call_id is None:
            return list(self._entries)
        return [entry for entry in self._entries if entry.call_id == call_id]

    def count_cancelled(self, reason: str) -> int:
        """Notifications cancelled for ``reason`` (e.g. "mockgraph stopped")."""
        return sum(
            1
            for entry in self._entries
            if isinstance(entry, NotificationRecord)
            and entry.outcome == "cancelled"
            and entry.note == reason
        )

    def clear(self) -> None:
        self._entries.clear()
        self.dropped = 0
