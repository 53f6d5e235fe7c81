"""``mockgraph serve``, ``validate`` and ``schema``: argument parsing -> settings -> server."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import signal
import sys
from collections.abc import Sequence

from mockgraph.app import Server
from mockgraph.config import Settings, parse_time_scale
from mockgraph.scenarios.loader import ScenarioError, load_library, load_paths, scenario_schema

log = logging.getLogger("mockgraph")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser(env: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockgraph",
        description="A local fake of Microsoft Graph's calling API for testing calling bots.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="start the fake Graph server")
    serve.add_argument(
        "--host", default=env.host, help="address to listen on [MOCKGRAPH_HOST, 127.0.0.1]"
    )
    serve.add_argument(
        "--port", type=int, default=env.port, help="port; 0 picks a free one [MOCKGRAPH_PORT, 8080]"
    )
    serve.add_argument(
        "--scenarios",
        action="append",
        metavar="PATH",
        help="scenario file or folder, repeatable, added to the built-ins "
        "[MOCKGRAPH_SCENARIOS, paths joined by ':']",
    )
    serve.add_argument(
        "--callback-url",
        default=env.callback_url,
        metavar="URL",
        help="bot notification URL for calls seeded without callbackUri [MOCKGRAPH_CALLBACK_URL]",
    )
    serve.add_argument(
        "--time-scale",
        type=_time_scale,
        default=env.time_scale,
        metavar="FACTOR",
        help="multiply every scenario pause; 0 collapses them [MOCKGRAPH_TIME_SCALE, 1]",
    )
    serve.add_argument(
        "--step",
        action="store_true",
        default=env.step_mode,
        help="step mode: each notification waits for POST /_mock/calls/{id}/advance "
        "[MOCKGRAPH_STEP=1]",
    )
    validate = commands.add_parser("validate", help="check scenario files; exit 1 on any problem")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or folder")
    commands.add_parser("schema", help="print the JSON Schema of scenario files")
    return parser


def _time_scale(text: str) -> float:
    try:
        return parse_time_scale(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number 0 or more, not {text!r}") from None


def validate(paths: Sequence[str]) -> int:
    scenarios, problems = load_paths(paths)
    for problem in problems:
        print(problem)
    if problems:
        return EXIT_FAILURE
    print(f"ok: {len(scenarios)} scenario(s)")
    return EXIT_OK


async def serve(settings: Settings) -> int:
    library = load_library(settings.scenario_paths)
    server = Server(settings, library)
    try:
        url = await server.start()
    except OSError as error:
        reason = "address already in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(
            f"mockgraph: cannot listen on {settings.host}:{settings.port}: {reason or error}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("%d scenario(s) loaded: %s", len(library), ", ".join(library.names()))
    print(f"mockgraph listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await server.close()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        env = Settings.from_env()
    except ValueError as error:
        print(f"mockgraph: {error}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser(env).parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "schema":
        print(json.dumps(scenario_schema(), indent=2))
        return EXIT_OK
    settings = Settings(
        host=args.host,
        port=args.port,
        scenario_paths=tuple(args.scenarios) if args.scenarios else env.scenario_paths,
        callback_url=args.callback_url,
        time_scale=args.time_scale,
        step_mode=args.step,
    )
    try:
        return asyncio.run(serve(settings))
    except ScenarioError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("mockgraph: not started: fix the scenario files above", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
