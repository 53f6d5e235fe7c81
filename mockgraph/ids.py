"""Ids that look like Graph's (GUIDs) and cost little to make.

Request, message and call ids need to be unique, not unpredictable: ``uuid.uuid4()`` reads
the OS's random source on every call, which was 4% of the CPU of delivering notifications
(BENCHMARKS.md). A version-4 UUID from Python's own generator has the same shape.
"""

from __future__ import annotations

import random
import uuid

_random = random.Random()


def new_id() -> str:
    """A random GUID such as ``6c2f0b1e-...``: unique, but not a secret."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


def named_call(resource_url: str) -> tuple[str, list[str]] | None:
    """The call a resourceUrl names, and what of it: ``/communications/calls/c1/operations/o1``
    is ``("c1", ["operations", "o1"])``; None if it names no call."""
    parts = resource_url.strip("/").split("/")
    if "calls" not in parts[:-1]:
        return None
    at = parts.index("calls") + 1
    return parts[at], parts[at + 1 :]
