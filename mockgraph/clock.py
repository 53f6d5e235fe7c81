"""Wall-clock timestamps as Graph writes them."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """``2026-11-27T16:53:24.123Z``: ISO 8601 in UTC, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_date() -> str:
    """``2026-11-27T16:53:24``: the form of ``innerError.date`` in Graph errors."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
