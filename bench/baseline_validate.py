"""Baselines for the request path: a bare aiohttp handler that reads the JSON, checks it with
the same transfer schema mockgraph uses, compiled once, and answers 202. No journal, no state
machine, no scenario engine.

``baseline_validate.py PORT [jsonschema|fastjsonschema|none]``: the validator, as mockgraph
uses jsonschema alone or (``mockgraph[fast]``) fastjsonschema first; ``none`` reads the
JSON and answers 202 without checking it, the ceiling of aiohttp itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import fastjsonschema
from aiohttp import web
from jsonschema import Draft202012Validator

from mockgraph.schema.validation import graph_schema

SCHEMA = graph_schema("v1.0")
TRANSFER = {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/action.transfer"}


def validator(kind: str) -> Callable[[Any], bool]:
    if kind == "none":
        return lambda body: True
    if kind == "fastjsonschema":
        check = fastjsonschema.compile(TRANSFER)

        def is_valid(body: Any) -> bool:
            try:
                check(body)
            except fastjsonschema.JsonSchemaException:
                return False
            return True

        return is_valid
    return Draft202012Validator(TRANSFER).is_valid


def listening(_banner: str) -> None:
    """Ready once the port is open (run_app calls this after its sites start; on_startup
    would be before, and a client could find the port still closed)."""
    print("ready", flush=True)


def main() -> None:
    is_valid = validator(sys.argv[2] if len(sys.argv) > 2 else "jsonschema")

    async def transfer(request: web.Request) -> web.Response:
        if not is_valid(await request.json()):
            return web.Response(status=400)
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/v1.0/communications/calls/{call_id}/transfer", transfer)

    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=listening, access_log=None)


if __name__ == "__main__":
    main()
