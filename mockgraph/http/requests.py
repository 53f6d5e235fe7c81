"""Reading a Graph request the way Graph does: bearer token, JSON content, schema-valid body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from mockgraph.errors import BadRequest, Unauthenticated, UnsupportedMediaType
from mockgraph.schema.validation import describe, first_error, is_valid, validator_for

PARSED_BODY: web.RequestKey[Any] = web.RequestKey("parsed_body", object)  # the JSON, once parsed


def require_bearer_token(request: web.Request) -> None:
    header = request.headers.get("Authorization")
    if header is None:
        raise Unauthenticated("Access token is empty. Send 'Authorization: Bearer <token>'.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise Unauthenticated(
            "Access token validation failure: the Authorization header must be 'Bearer <token>'."
        )


async def read_json_object(
    request: web.Request, *, require_content_type: bool, allow_empty: bool = False
) -> dict[str, Any]:
    """The body as a JSON object, or the 400/415 that says what is wrong with it."""
    if require_content_type and request.content_type != "application/json":
        got = request.headers.get("Content-Type")
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {got!r}."
            if got
            else "Content-Type is missing; send 'Content-Type: application/json'."
        )
    raw = await request.read()
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
    request[PARSED_BODY] = body  # the journal records it without parsing it again
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object, not {type(body).__name__}.")
    return body


async def read_action_body(
    request: web.Request,
    version: str,
    action: str,
    *,
    defaults: dict[str, Any] | None = None,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """An authenticated, schema-valid request body for a bound action such as ``transfer``."""
    require_bearer_token(request)
    body = await read_json_object(
        request, require_content_type=request.body_exists, allow_empty=allow_empty
    )
    body = {**(defaults or {}), **body}
    _check(body, version, f"action.{action}", f"Invalid {action} request")
    return body


async def read_entity_body(request: web.Request, version: str, entity: str) -> dict[str, Any]:
    """An authenticated request body that is a Graph ``entity`` (e.g. a new call)."""
    require_bearer_token(request)
    body = await read_json_object(request, require_content_type=True)
    _check(body, version, f"microsoft.graph.{entity}", f"Invalid {entity}")
    return body


def _check(body: dict[str, Any], version: str, definition: str, what: str) -> None:
    if is_valid(version, definition, body):  # the common case, and the fast path
        return
    error = first_error(list(validator_for(version, definition).iter_errors(body)))
    raise BadRequest(f"{what}: {describe(error) if error else 'invalid'}.")
