"""Wall-clock timestamps as Graph writes them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: float) -> str:
    """``2026-11-27T16:53:24.123Z`` for a ``time.time()`` value: ISO 8601, UTC, milliseconds.
    Records keep the float and format it only when read: formatting is most of the cost."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_date() -> str:
    """``2026-11-27T16:53:24``: the form of ``innerError.date`` in Graph errors."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
