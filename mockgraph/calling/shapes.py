"""The bodies the control plane takes, declared once: the handlers check them, the Python
client builds them from keyword arguments, and the OpenAPI description shows them. Light to
import (jsonschema comes when a body is first checked), so the clients need nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.calls import CALL_STATES
from mockgraph.errors import BadRequest
from mockgraph.schema.validation import Shape

STRING: dict[str, Any] = {"type": "string"}
# A seeded or rung call's Graph properties, in the JSON types Graph's call has them (each may be
# null): what GET and the notifications show must be a call an SDK can read, and a seeded
# ``targets: true`` was a 500. Inside them a tester may shorten (no @odata.type, a user with an
# id only), so the objects are not checked against Graph's types.
OBJECT: dict[str, Any] = {"type": ["object", "null"]}
OBJECTS: dict[str, Any] = {"type": ["array", "null"], "items": {"type": "object"}}
MODALITIES = ["audio", "video", "videoBasedScreenSharing", "data", "unknownFutureValue"]  # CSDL
# Where notifications go: Graph POSTs to it, so nothing but http(s) can work.
HTTP_URL: dict[str, Any] = {
    "type": "string",
    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/]",
    "x-messages": {"pattern": "must be an http:// or https:// URL"},
}


@dataclass(frozen=True)
class SpecKey:
    """One key of a seeded or rung call's spec."""

    name: str
    schema: Mapping[str, Any]
    graph: bool = True  # a Graph call property (else mockgraph's own, e.g. callbackUri)
    seed: bool = True  # POST /_mock/calls takes it
    ring: bool = True  # POST /_mock/calls/incoming takes it

    @property
    def argument(self) -> str:
        """The Python client's keyword for it: ``callback_uri`` for ``callbackUri``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()


SPEC_KEYS = (
    SpecKey("id", STRING, graph=False),
    SpecKey("callbackUri", HTTP_URL, graph=False),
    SpecKey("state", {"enum": list(CALL_STATES)}, graph=False, ring=False),
    SpecKey("applicationInstance", {"type": "boolean"}, graph=False),
    SpecKey("timeout", {"type": "number", "exclusiveMinimum": 0}, graph=False, seed=False),
    SpecKey("tenantId", STRING),
    SpecKey("source", OBJECT),
    SpecKey("targets", OBJECTS),
    SpecKey("direction", {"enum": ["incoming", "outgoing"]}, ring=False),
    SpecKey("requestedModalities", {"type": ["array", "null"], "items": {"enum": MODALITIES}}),
    SpecKey("meetingInfo", OBJECT),
    SpecKey("chatInfo", OBJECT),
    SpecKey("incomingContext", OBJECT),
    SpecKey("subject", {"type": ["string", "null"]}),
    SpecKey("mediaConfig", {"type": "object"}),
)


class CallSpec:
    """The body of ``POST /_mock/calls`` (seed) or ``/_mock/calls/incoming`` (ring)."""

    def __init__(self, title: str, keys: tuple[SpecKey, ...]) -> None:
        self.keys = keys
        self.shape = Shape(
            {
                "title": title,
                "type": "object",
                "properties": {key.name: dict(key.schema) for key in keys},
                "additionalProperties": False,
            }
        )
        self._by_argument = {key.argument: key.name for key in keys}

    def check(self, body: Mapping[str, Any]) -> None:
        checked(self.shape, body)

    def graph_properties(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {key.name: body[key.name] for key in self.keys if key.graph and key.name in body}

    def body(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body from a client's keyword arguments (``None`` means not given)."""
        unknown = sorted(set(arguments) - set(self._by_argument))
        if unknown:
            raise TypeError(
                f"unexpected argument(s) {unknown}; known: {', '.join(self._by_argument)}"
            )
        return {
            self._by_argument[name]: value for name, value in arguments.items() if value is not None
        }


SEED = CallSpec("a seeded call", tuple(key for key in SPEC_KEYS if key.seed))
RING = CallSpec("an incoming call", tuple(key for key in SPEC_KEYS if key.ring))
PIN = Shape(
    {
        "title": "a scenario pin",
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": ["string", "null"]}},
        "additionalProperties": False,
    }
)
BOT = Shape(
    {
        "title": "a bot",
        "type": "object",
        "required": ["callbackUri"],
        # id: what GET /_mock/bots lists beside the URL, so that a listed bot can be PUT back
        "properties": {"id": STRING, "callbackUri": HTTP_URL},
        "additionalProperties": False,
    }
)
ADVANCE = Shape(
    {
        "title": "an advance",
        "type": "object",
        "properties": {"steps": {"type": "integer"}},
        "additionalProperties": False,
    }
)
PRESS = Shape(
    {
        "title": "key presses",
        "type": "object",
        "required": ["tones"],
        "properties": {
            "tones": {
                "type": ["string", "array"],
                "items": {"type": "string"},
                "minLength": 1,
                "minItems": 1,
            }
        },
        "additionalProperties": False,
    }
)
JOIN = Shape(
    {
        "title": "a participant",
        "type": "object",
        "required": ["identity"],
        "properties": {
            "identity": {"type": "object", "minProperties": 1},
            "isMuted": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
)
SHARE = Shape(
    {
        "title": "a content sharing session",
        "type": "object",
        "properties": {"id": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    }
)
HANG_UP = Shape(
    {
        "title": "a hang-up",
        "type": "object",
        "properties": {
            "code": {"type": "integer"},
            "subcode": {"type": "integer"},
            "message": {"type": "string"},
        },
        # A subcode or message without its code (if/then: the compiled check knows draft 7).
        "if": {"anyOf": [{"required": ["subcode"]}, {"required": ["message"]}]},
        "then": {"required": ["code"]},
        "additionalProperties": False,
    }
)
WAIT = Shape({"type": "object", "properties": {"state": {"enum": list(CALL_STATES)}}})
TIME = Shape(
    {
        "title": "the time settings",
        "type": "object",
        "properties": {
            "scale": {"type": ["number", "null"]},
            "step": {"type": ["boolean", "null"]},
        },
        "additionalProperties": False,
    }
)


def checked(shape: Shape, body: Mapping[str, Any]) -> Mapping[str, Any]:
    wrong = shape.problem(body)
    if wrong is not None:
        raise BadRequest(f"{wrong}.")
    return body
