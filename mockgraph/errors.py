"""Typed errors that carry what Graph would answer: HTTP status, error code and message.

The domain raises these; the HTTP layer turns them into Graph-shaped error bodies
(``{"error": {"code", "message", "innerError"}}``). Nothing else should build error bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


class GraphError(Exception):
    """An error Graph answers with ``status`` and ``{"error": {"code": code, ...}}``."""

    status = 500
    code = "generalException"
    headers: Mapping[str, str] = MappingProxyType({})  # more response headers (Retry-After)

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra  # more top-level keys beside "error", e.g. the current state


class BadRequest(GraphError):
    """The request body or parameters are invalid."""

    status = 400
    code = "BadRequest"


class Unauthenticated(GraphError):
    """No usable bearer token. Graph answers ``InvalidAuthenticationToken``."""

    status = 401
    code = "InvalidAuthenticationToken"


class Forbidden(GraphError):
    """The calling API's 403: what real logs show for permissions not granted (7504)."""

    status = 403
    code = "7504"


class ResourceNotFound(GraphError):
    """A path mockgraph does not serve."""

    status = 404
    code = "UnknownResource"


class CallNotFound(GraphError):
    """An unknown call id. The calling service answers code 8522, "Call not found."."""

    status = 404
    code = "8522"

    def __init__(self, call_id: str, *, ended: bool = False) -> None:
        super().__init__(
            f"Call not found. Call '{call_id}' has ended."
            if ended
            else f"Call not found. mockgraph knows no call '{call_id}': "
            "seed it with POST /_mock/calls first."
        )


class ItemNotFound(GraphError):
    """Something a call does not hold (any more): one of its operations, participants or audio
    routing groups. Graph documents no code for these; ``itemNotFound`` is its usual one."""

    status = 404
    code = "itemNotFound"

    def __init__(self, what: str, call_id: str, item_id: str, why: str = "") -> None:
        super().__init__(
            f"{what[:1].upper()}{what[1:]} not found. Call '{call_id}' has no {what} "
            f"'{item_id}'{why}."
        )


class MethodNotAllowed(GraphError):
    status = 405
    code = "MethodNotAllowed"


class Conflict(GraphError):
    """The call is not in a state that allows the operation (Graph documents no code)."""

    status = 409
    code = "Conflict"


class WaitTimedOut(GraphError):
    """A control-plane long poll ended before its condition held."""

    status = 408
    code = "Timeout"


class UnsupportedMediaType(GraphError):
    status = 415
    code = "UnsupportedMediaType"
