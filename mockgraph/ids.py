"""Ids that look like Graph's (GUIDs) and cost little to make.

Request, message, call and operation ids need to be unique, not unpredictable (none is a
secret: the recordings' access tokens use ``secrets``). ``uuid.uuid4()`` reads the OS's random
source on every call, which was 4% of the CPU of delivering notifications, and even
``str(uuid.UUID(int=random.getrandbits(128), version=4))`` costs 3.4 µs, two of them on every
request (BENCHMARKS.md). So each process draws a random version-4 GUID once, and each id is
that GUID with its last 48 bits replaced by a counter: the shape of a version-4 GUID, unique
within the process, and unlike any other process's with near certainty, for 0.3 µs.
"""

from __future__ import annotations

import itertools
import os

_FIRST = int.from_bytes(os.urandom(6))  # where this process's counter starts
_RANDOM = os.urandom(10).hex()
# xxxxxxxx-xxxx-4xxx-Vxxx-: version 4, and the RFC 4122 variant digit V (8, 9, a or b)
_PREFIX = (
    f"{_RANDOM[:8]}-{_RANDOM[8:12]}-4{_RANDOM[13:16]}-{'89ab'[int(_RANDOM[16], 16) % 4]}"
    f"{_RANDOM[17:20]}-"
)
_counter = itertools.count(_FIRST)


def new_id() -> str:
    """A GUID such as ``6c2f0b1e-5d3a-4c1f-9e2d-00a3f1c2b4e5``: unique, but not a secret."""
    return f"{_PREFIX}{next(_counter) & 0xFFFFFFFFFFFF:012x}"


def named_call(resource_url: str) -> tuple[str, list[str]] | None:
    """The call a resourceUrl names, and what of it: ``/communications/calls/c1/operations/o1``
    is ``("c1", ["operations", "o1"])``; None if it names no call."""
    parts = resource_url.strip("/").split("/")
    if "calls" not in parts[:-1]:
        return None
    at = parts.index("calls") + 1
    return parts[at], parts[at + 1 :]
