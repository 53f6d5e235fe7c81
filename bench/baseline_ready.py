"""Baseline: the barest aiohttp server. It prints a ready line like mockgraph's and serves one
route; start-up time and resident memory are measured against it."""

from __future__ import annotations

import sys

from aiohttp import web


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def listening(_banner: str) -> None:
    """Ready once the port is open (run_app calls this after its sites start; on_startup
    would be before, and a client could find the port still closed)."""
    print("ready", flush=True)


def main() -> None:
    app = web.Application()
    app.router.add_get("/_mock/health", health)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0

    web.run_app(app, host="127.0.0.1", port=port, print=listening, access_log=None)


if __name__ == "__main__":
    main()
