"""Baseline for the request path: a bare aiohttp handler that reads JSON, checks it with a
jsonschema validator compiled once (the same transfer schema mockgraph uses) and answers 202.
No journal, no state machine, no scenario engine."""

from __future__ import annotations

import sys

from aiohttp import web
from jsonschema import Draft202012Validator

from mockgraph.schema.validation import graph_schema

SCHEMA = graph_schema("v1.0")
VALIDATOR = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/action.transfer"})


async def transfer(request: web.Request) -> web.Response:
    body = await request.json()
    if not VALIDATOR.is_valid(body):
        return web.Response(status=400)
    return web.Response(status=202)


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1.0/communications/calls/{call_id}/transfer", transfer)

    async def ready(app: web.Application) -> None:
        print("ready", flush=True)

    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
