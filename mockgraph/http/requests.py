"""Reading a request the way Graph does: the bearer token, then the JSON body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from mockgraph.errors import BadRequest, Unauthenticated, UnsupportedMediaType
from mockgraph.identity.platform import Caller

# The body's bytes, once read by the handler, for the journal.
RECEIVED_BODY: web.RequestKey[bytes] = web.RequestKey("received_body", bytes)
# The call a request created (POST /communications/calls), for its journal entry.
CREATED_CALL: web.RequestKey[str] = web.RequestKey("created_call", str)
# Who made it, as its token says (--auth strict only): for a rule that needs the body first.
CALLER: web.RequestKey[Caller] = web.RequestKey("caller", Caller)


def origin(request: web.Request) -> str:
    """Where the client reached mockgraph (scheme and host), for the URLs it hands out."""
    return f"{request.scheme}://{request.host}"


def require_bearer_token(request: web.Request) -> str:
    """The request's bearer token, or the 401 Graph answers without one."""
    header = request.headers.get("Authorization")
    if header is None:
        raise Unauthenticated("Access token is empty. Send 'Authorization: Bearer <token>'.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise Unauthenticated(
            "Access token validation failure: the Authorization header must be 'Bearer <token>'."
        )
    return token.strip()


async def read_json_object(
    request: web.Request, *, require_content_type: bool = True, allow_empty: bool = False
) -> dict[str, Any]:
    """The body as a JSON object, or the 415, 413 or 400 that says what is wrong with it, in
    that order. A body that is sent must say it is JSON (unless ``require_content_type`` is
    off, as on the control plane, so that plain ``curl -d`` works)."""
    if (
        require_content_type
        and request.headers.get("Content-Type") != "application/json"  # parsed only if not
        and request.body_exists
        and request.content_type != "application/json"
    ):
        got = request.headers.get("Content-Type")
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {got!r}."
            if got
            else "Content-Type is missing; send 'Content-Type: application/json'."
        )
    raw = await request.read()
    request[RECEIVED_BODY] = raw  # the journal keeps it without reading it again
    if not raw.strip() and allow_empty:
        return {}
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The request body is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object, not {type(body).__name__}.")
    return body
