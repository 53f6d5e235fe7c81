"""The journal: every Graph request received and every notification sent, in order.

Nothing is dropped silently: a notification's every delivery attempt and its final outcome
stay here for tests and for people reading a failed CI run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from mockgraph.clock import utc_now

Outcome = Literal["pending", "delivered", "failed", "cancelled", "skipped"]


@dataclass
class Attempt:
    time: str
    status: int | None = None
    error: str | None = None
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"time": self.time, "durationMs": round(self.duration_ms, 3)}
        if self.status is not None:
            result["status"] = self.status
        if self.error is not None:
            result["error"] = self.error
        return result


@dataclass
class RequestRecord:
    seq: int
    time: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    call_id: str | None
    request_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "request",
            "seq": self.seq,
            "time": self.time,
            "callId": self.call_id,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "requestId": self.request_id,
        }


@dataclass
class NotificationRecord:
    seq: int
    time: str
    call_id: str
    url: str
    body: dict[str, Any]
    scenario: str | None
    step: int | None
    attempts: list[Attempt] = field(default_factory=list)
    outcome: Outcome = "pending"
    note: str | None = None  # why it was skipped or cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "notification",
            "seq": self.seq,
            "time": self.time,
            "callId": self.call_id,
            "url": self.url,
            "scenario": self.scenario,
            "step": self.step,
            "body": self.body,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "outcome": self.outcome,
            "note": self.note,
        }


Entry = RequestRecord | NotificationRecord


class Journal:
    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._seq = itertools.count(1)

    def record_request(
        self,
        *,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        status: int,
        call_id: str | None,
        request_id: str,
    ) -> RequestRecord:
        record = RequestRecord(
            next(self._seq), utc_now(), method, path, headers, body, status, call_id, request_id
        )
        self._entries.append(record)
        return record

    def record_notification(
        self,
        *,
        call_id: str,
        url: str,
        body: dict[str, Any],
        scenario: str | None = None,
        step: int | None = None,
    ) -> NotificationRecord:
        record = NotificationRecord(next(self._seq), utc_now(), call_id, url, body, scenario, step)
        self._entries.append(record)
        return record

    def entries(self, call_id: str | None = None) -> list[Entry]:
        if call_id is None:
            return list(self._entries)
        return [entry for entry in self._entries if entry.call_id == call_id]

    def clear(self) -> None:
        self._entries.clear()
