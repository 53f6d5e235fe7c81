"""The journal's request entries, without HTTP: a body is kept as the bytes received and shown
as JSON when it is JSON, as text when it is not, and as a note when it could not be read."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from mockgraph.journal import Journal, RequestRecord

HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


def answered(journal: Journal, received: bytes | str | None, status: int = 202) -> RequestRecord:
    record = journal.record_request(
        method="POST",
        path="/v1.0/communications/calls/c1/transfer",
        headers=HEADERS,
        call_id="c1",
        request_id="r1",
    )
    record.answered(status, received)
    return record


@pytest.mark.parametrize(
    ("received", "shown"),
    [
        (
            b'{"transferTarget": {"endpointType": "default"}}',
            {"transferTarget": {"endpointType": "default"}},
        ),
        (b"[1, 2]", [1, 2]),
        (b"transferTarget=u1", "transferTarget=u1"),
        (b"\xff{", "\ufffd{"),
        (b"", None),
        (None, None),
        ("<body not read: Request Entity Too Large>", "<body not read: Request Entity Too Large>"),
    ],
)
def test_a_body_is_shown_as_received(received: bytes | str | None, shown: Any) -> None:
    record = answered(Journal(limit=10), received)
    assert record.body == shown
    assert record.to_json()["body"] == shown


def test_each_read_of_a_body_is_a_copy() -> None:
    record = answered(Journal(limit=10), b'{"a": {"b": 1}}')
    record.body["a"]["b"] = 2
    assert record.body == {"a": {"b": 1}}


def test_the_oldest_entries_are_dropped_and_counted() -> None:
    journal = Journal(limit=2)
    for status in (400, 401, 202):
        answered(journal, b"{}", status)
    assert [entry.to_json()["status"] for entry in journal.entries()] == [401, 202]
    assert journal.dropped == 1


def test_a_final_entry_reaches_every_listener_once() -> None:
    journal = Journal(limit=10)
    seen: list[int] = []
    journal.subscribe(lambda entry: seen.append(entry.seq))
    first, second = answered(journal, b"{}"), answered(journal, b"{}")
    assert seen == [first.seq, second.seq]
