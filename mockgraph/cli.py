"""``mockgraph serve``, ``validate`` and ``schema``: argument parsing -> settings -> server."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import ipaddress
import json
import logging
import re
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mockgraph.clock import Clock
from mockgraph.collector import Collector
from mockgraph.config import (
    Settings,
    add_arguments,
    argument_type,
    from_arguments,
    parse_http_url,
    parse_port,
    parse_writable_folder,
)
from mockgraph.scenarios.loader import ScenarioError, load_files, load_library, scenario_schema

if TYPE_CHECKING:
    from mockgraph.http.listening import Lifecycle

log = logging.getLogger("mockgraph")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Version(argparse.Action):
    """``--version``: the installed package's version, read only when asked (importlib's
    metadata scan is not free, and start-up is measured)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print mockgraph's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("mockgraph")
        except PackageNotFoundError:
            installed = "(not installed: run from a checkout)"
        print(f"mockgraph {installed}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, with a did-you-mean for a mistyped flag or command, and
    where the flags are listed: argparse's own put the whole usage (a dozen lines for serve)
    above the line that says what is wrong."""

    def error(self, message: str) -> NoReturn:
        from mockgraph.schema.validation import did_you_mean

        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        choice = re.search(r"invalid choice: '([^']*)'", message)
        if unknown is not None:
            hint = did_you_mean([unknown.group(1).split("=")[0]], self._all_flags())
            help_ = f"{self.prog} COMMAND --help lists the flags"
        elif choice is not None:
            hint = did_you_mean([choice.group(1)], self._command_names())
            help_ = f"{self.prog} --help lists the commands"
        else:
            hint, help_ = "", f"{self.prog} --help says what each flag takes"
        self.exit(EXIT_USAGE, f"{self.prog}: {message}{hint} ({help_})\n")

    def _command_parsers(self) -> dict[str, argparse.ArgumentParser]:
        return {
            name: parser
            for action in self._actions
            if isinstance(action, argparse._SubParsersAction)
            for name, parser in action.choices.items()
        }

    def _command_names(self) -> list[str]:
        return list(self._command_parsers())

    def _all_flags(self) -> list[str]:
        """Every flag of this parser and its commands (argparse says a flag is unknown at the
        top, whichever command it was given to)."""
        parsers = [self, *self._command_parsers().values()]
        return [flag for parser in parsers for flag in parser._option_string_actions]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mockgraph",
        description="A local fake of Microsoft Graph's calling API for testing calling bots.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="start the fake Graph server")
    add_arguments(serve)
    validate = commands.add_parser("validate", help="check scenario files; exit 1 on any problem")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or folder")
    commands.add_parser("schema", help="print the JSON Schema of scenario files")
    imports = commands.add_parser(
        "import", help="write a scenario from traces of notifications real Graph sent"
    )
    imports.add_argument(
        "traces", nargs="+", metavar="TRACE", help="JSON Lines file, folder of .json, or .har"
    )
    imports.add_argument("--name", required=True, help="the scenario's name")
    imports.add_argument("--operation", required=True, help="the operation it plays for")
    imports.add_argument("--out", metavar="FILE", help="write it there (default: stdout)")
    record = commands.add_parser(
        "record", help="proxy a bot to real Graph and write scenarios from what it sees"
    )
    record.add_argument(
        "--upstream",
        required=True,
        type=argument_type(parse_http_url),
        metavar="URL",
        help="the Graph to forward to, e.g. https://graph.microsoft.com",
    )
    record.add_argument(
        "--bot",
        required=True,
        type=argument_type(parse_http_url),
        metavar="URL",
        help="the bot's notification URL, for notifications with no callbackUri of its own",
    )
    record.add_argument(
        "--out",
        required=True,
        type=argument_type(parse_writable_folder),
        metavar="DIR",
        help="where the scenarios and journal.jsonl go",
    )
    record.add_argument(
        "--public-url",
        type=argument_type(parse_http_url),
        metavar="URL",
        help="how Graph reaches this proxy, e.g. an ngrok URL (default: its own URL)",
    )
    record.add_argument("--host", default="127.0.0.1", help="address to listen on")
    record.add_argument(
        "--port", type=argument_type(parse_port), default=0, help="port; 0 picks a free one"
    )
    record.add_argument(
        "--pseudonymise",
        action="store_true",
        help="replace tenant and user ids by GUIDs, the same within one recording",
    )
    return parser


async def record(args: argparse.Namespace) -> int:
    from mockgraph.http.recorder import Recorder, RecordSettings

    settings = RecordSettings(
        upstream=args.upstream,
        bot=args.bot,
        out=Path(args.out),
        public_url=args.public_url,
        host=args.host,
        port=args.port,
        pseudonymise=args.pseudonymise,
    )
    recorder = Recorder(settings)
    url = await _listening(recorder, settings.host, settings.port)
    if url is None:
        return EXIT_FAILURE
    stop = _stop_on_signals()
    log.info(
        "recording: Graph requests go to %s, notifications arrive at %s and go to %s",
        settings.upstream,
        recorder.callback_url,
        settings.bot,
    )
    print(f"mockgraph record listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await recorder.close()
        log.info("recorded %d scenario file(s) in %s", len(recorder.written), settings.out)
    return EXIT_OK


def import_traces(traces: Sequence[str], name: str, operation: str, out: str | None) -> int:
    from mockgraph.scenarios.importer import ImportProblem, read_trace, scenario_from

    try:
        posts = [post for trace in traces for post in read_trace(Path(trace))]
        text = scenario_from(
            posts,
            name=name,
            operation=operation,
            description=f"Imported from {', '.join(traces)} on {date.today().isoformat()}.",
        )
    except (ImportProblem, OSError) as error:
        print(f"mockgraph import: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK


def validate(paths: Sequence[str]) -> int:
    loaded = load_files(paths)
    for problem in loaded.problems:
        print(problem)
    if loaded.problems:
        return EXIT_FAILURE
    faults = f", {len(loaded.faults)} fault(s)" if loaded.faults else ""
    print(f"ok: {len(loaded.scenarios)} scenario(s){faults}")
    return EXIT_OK


async def serve(settings: Settings) -> int:
    from mockgraph.http.app import Server

    library = load_library(settings.scenario_paths)
    server = Server(settings, library)  # TlsError: a certificate that cannot serve
    url = await _listening(server, settings.host, settings.port)
    if url is None:
        return EXIT_FAILURE
    collector = Collector(lambda: server.service.idle, Clock())
    collector.start()
    stop = _stop_on_signals()
    if not settings.control_token and not _loopback(settings.host):
        print(
            f"mockgraph: warning: listening on {settings.host} with no --control-token: "
            "anyone who reaches it can seed, reset and read the journal",
            file=sys.stderr,
        )
    log.info("%d scenario(s) loaded: %s", len(library), ", ".join(library.names()))
    if settings.tls == "auto" and server.trust_file:
        print(
            f"mockgraph: https by a local certificate authority: {server.trust_file} (trust it "
            "with SSL_CERT_FILE, REQUESTS_CA_BUNDLE or NODE_EXTRA_CA_CERTS; also at "
            f"{url}/_mock/ca.pem)",
            file=sys.stderr,
            flush=True,
        )
    print(f"mockgraph: the inspector: {url}/_mock/ui/", file=sys.stderr, flush=True)
    print(f"mockgraph listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        collector.close()
        await server.close()
    return EXIT_OK


async def _listening(server: Lifecycle, host: str, port: int) -> str | None:
    """Its URL once it listens; None, said on stderr, when it cannot have the port."""
    try:
        return await server.start()
    except OSError as error:
        reason = "address already in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(f"mockgraph: cannot listen on {host}:{port}: {reason or error}", file=sys.stderr)
        return None


def _stop_on_signals() -> asyncio.Event:
    """Set by SIGTERM or Ctrl-C."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "import":
        return import_traces(args.traces, args.name, args.operation, args.out)
    if args.command == "record":
        try:
            return asyncio.run(record(args))
        except KeyboardInterrupt:
            return EXIT_OK
    if args.command == "schema":
        print(json.dumps(scenario_schema(), indent=2))
        return EXIT_OK
    try:  # only serve reads the MOCKGRAPH_* settings: a bad one stops no other command
        settings = from_arguments(args)
    except ValueError as error:
        print(f"mockgraph: {error}", file=sys.stderr)
        return EXIT_USAGE
    # The cyclic collector is off while the server starts: its imports, scenario library and
    # routes allocate objects that all live on, and the passes over them took 45 of a start's
    # 400 ms (BENCHMARKS.md, issue 24). serve's Collector turns it on once listening; a start
    # that fails turns it on here.
    gc.disable()
    try:
        return _serve(settings)
    finally:
        gc.enable()


def _serve(settings: Settings) -> int:
    # Only here: the server and its HTTP stack are most of a start (0.4 of 0.6 s), which
    # validate, schema, import and a refused flag do without.
    from mockgraph.delivery.tokens import KeyFileError
    from mockgraph.http.listening import TlsError

    try:
        return asyncio.run(serve(settings))
    except KeyFileError as error:
        print(f"mockgraph: --signing-key: {error}", file=sys.stderr)
        return EXIT_USAGE
    except TlsError as error:
        print(f"mockgraph: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("mockgraph: not started: fix the scenario files above", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
