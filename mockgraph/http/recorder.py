"""``mockgraph record``: a proxy between a bot and real Graph that writes what it sees.

Graph side: every request is forwarded to the upstream as it came, ``Authorization``
included, and its answer returned as it came, except that the ``callbackUri`` of an
operation that sets one (create, answer, reject, redirect) points at the proxy's callback
endpoint. Callback side: each notification Graph POSTs there is forwarded to the bot's own
URL, and the bot's answer returned to Graph, so Graph's own retries are what a bot that is
down gets. Both directions go to ``journal.jsonl`` in the output folder, secrets redacted,
and each recorded operation to its scenario file (``mockgraph.recording``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web

from mockgraph.clock import iso
from mockgraph.errors import GraphError
from mockgraph.http.endpoints import error_response
from mockgraph.http.listening import AppServer
from mockgraph.ids import new_id
from mockgraph.recording import REDACTED, Capture, Pseudonyms, operation_of, redacted
from mockgraph.scenarios.loader import load_text

log = logging.getLogger("mockgraph.record")
CALLBACK_PATH = "/_record/callback"
FLUSH_PATH = "/_mock/record/flush"
# Headers that belong to one hop, not to the request or answer being passed on.
HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "content-encoding",
        "accept-encoding",
        "server",
        "date",
    }
)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class BadGateway(GraphError):
    """The other side could not be reached, or did not answer in time."""

    status = 502
    code = "BadGateway"


@dataclass(frozen=True)
class RecordSettings:
    upstream: str  # e.g. https://graph.microsoft.com
    bot: str  # the bot's notification URL
    out: Path
    public_url: str | None = None  # how Graph reaches the proxy; default: its own URL
    host: str = "127.0.0.1"
    port: int = 0
    pseudonymise: bool = False
    timeout: float = 30.0  # seconds for one forwarded request or notification


class Output:
    """The output folder: scenario files replaced whole (never half-written), the journal
    appended a line at a time."""

    def __init__(self, folder: Path, pseudonyms: Pseudonyms) -> None:
        self.folder = folder
        self.pseudonyms = pseudonyms
        self.files: set[str] = set()
        self.problems: list[str] = []
        self._journal: TextIO | None = None

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Line-buffered: each entry reaches the OS whole, so a kill -9 loses none.
        self._journal = open(self.folder / "journal.jsonl", "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, name: str, text: str) -> None:
        temporary = self.folder / f".{name}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.folder / name)
        self.files.add(name)

    def problem(self, message: str) -> None:
        log.warning("not a scenario: %s", message)
        self.problems.append(message)

    def journal(self, entry: Mapping[str, Any]) -> None:
        if self._journal is not None:
            self._journal.write(json.dumps(self.pseudonyms.apply(entry), default=str) + "\n")

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers to pass on."""
    return {key: value for key, value in headers.items() if key.lower() not in HOP_BY_HOP}


def _shown(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as the journal shows them: credentials redacted."""
    return {
        key: REDACTED if key.lower() in SECRET_HEADERS else value for key, value in headers.items()
    }


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", errors="replace")


class Recorder(AppServer):
    """The proxy. ``async with Recorder(settings) as recorder: recorder.url``; ``close()``
    (safe twice) writes what is left and closes the journal."""

    def __init__(self, settings: RecordSettings) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(CALLBACK_PATH, self._notification)
        app.router.add_post(CALLBACK_PATH + "/{index}", self._notification)
        app.router.add_post(FLUSH_PATH, self._flush)
        app.router.add_route("*", "/{tail:.*}", self._request)
        super().__init__(app, settings.host, settings.port)
        self.settings = settings
        self.upstream = settings.upstream.rstrip("/")
        pseudonyms = Pseudonyms(settings.pseudonymise)
        self.output = Output(settings.out, pseudonyms)
        self.recording = Capture(
            source=self.upstream,
            when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            write=self.output.write,
            problem=self.output.problem,
            pseudonyms=pseudonyms,
        )
        self._callbacks: list[str] = []  # the bot's own callbackUris, by index
        self._seen: set[bytes] = set()  # notification bodies recorded (Graph retries repeat them)
        self._session: aiohttp.ClientSession | None = None

    @property
    def public_url(self) -> str:
        return (self.settings.public_url or self.url).rstrip("/")

    @property
    def callback_url(self) -> str:
        """Where Graph's notifications reach the proxy; they go on to ``--bot``."""
        return self.public_url + CALLBACK_PATH

    @property
    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the recorder is not started")
        return self._session

    @property
    def written(self) -> list[str]:
        """The scenario files written so far."""
        return sorted(self.output.files)

    async def start(self) -> str:
        # The scenario checks compile on first use (~90 ms): not while a bot waits.
        load_text("name: warm-up\noperation: answer\nsteps: []\n", "<warm-up>")
        self.output.open()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
            auto_decompress=True,
        )
        try:
            return await super().start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop taking requests, write every scenario once more, close the journal."""
        await super().close()
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.recording.flush()
        self.output.close()

    # --- bot -> Graph ---------------------------------------------------------------------

    async def _request(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = _parsed(raw)
        self.recording.pseudonyms.learn(body)
        path = request.path_qs
        found = operation_of(request.method, request.path)
        if (
            found is not None
            and found[0].sets_callback
            and isinstance(body, dict)
            and isinstance(body.get("callbackUri"), str)
        ):
            rewritten = {**body, "callbackUri": self._callback_for(body["callbackUri"])}
            raw = json.dumps(rewritten).encode()

        def record(status: int, answer: Any) -> None:
            self.recording.pseudonyms.learn(answer)
            self.recording.request(request.method, path, body, status, answer, time.time())

        # Recorded before the bot hears the answer, so that no notification can come first.
        response = await self._pass_on(
            request, "bot to Graph", self.upstream + path, raw, body, self.upstream, record
        )
        self.recording.save_changed()
        return response

    def _callback_for(self, original: str) -> str:
        if original not in self._callbacks:
            self._callbacks.append(original)
        return f"{self.callback_url}/{self._callbacks.index(original)}"

    # --- Graph -> bot ---------------------------------------------------------------------

    async def _notification(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        received = time.time()
        index = request.match_info.get("index")
        target = self.settings.bot
        if index is not None and index.isdigit() and int(index) < len(self._callbacks):
            target = self._callbacks[int(index)]
        body = _parsed(raw)
        if raw not in self._seen:  # a retry repeats the body byte for byte
            self._seen.add(raw)
            self.recording.notification(body, received)
            # On disk before the bot sees it: whatever the bot was told survives a kill -9.
            self.recording.save_changed()
        return await self._pass_on(
            request, "Graph to bot", target, raw, body, f"the bot at {target}"
        )

    # --- both ways ------------------------------------------------------------------------

    async def _pass_on(
        self,
        request: web.Request,
        direction: str,
        url: str,
        raw: bytes,
        body: Any,
        other_side: str,
        before_answer: Callable[[int, Any], None] | None = None,
    ) -> web.StreamResponse:
        """Send ``raw`` on to ``url`` and its answer back, journaled: ``502`` in Graph's error
        shape when ``other_side`` cannot be reached."""
        began = time.time()
        entry: dict[str, Any] = {
            "time": iso(began),
            "direction": direction,
            "method": request.method,
            "url": url,
            "headers": _shown(request.headers),
            "body": redacted(body),
        }
        try:
            async with self._client.request(
                request.method, url, headers=_headers(request.headers), data=raw or None
            ) as answer:
                answer_raw = await answer.read()
                status, headers = answer.status, _headers(answer.headers)
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = str(error) or type(error).__name__
            self.output.journal({**entry, "status": 502, "error": reason, **_took(began)})
            request_id = new_id()
            return error_response(
                BadGateway(f"mockgraph record could not reach {other_side}: {reason}"),
                request_id,
                request.headers.get("client-request-id", request_id),
            )
        answer_body = _parsed(answer_raw)
        if before_answer is not None:
            before_answer(status, answer_body)
        response = await _answered(
            request, web.Response(status=status, headers=headers, body=answer_raw)
        )
        self.output.journal(
            {**entry, "status": status, "answer": redacted(answer_body), **_took(began)}
        )
        return response

    # --- control --------------------------------------------------------------------------

    async def _flush(self, request: web.Request) -> web.Response:
        self.recording.flush()
        return web.json_response({"files": self.written, "problems": self.output.problems})


async def _answered(request: web.Request, response: web.Response) -> web.Response:
    """``response`` sent now, so that what the handler does next does not delay it."""
    await response.prepare(request)
    await response.write_eof()
    return response


def _took(began: float) -> dict[str, float]:
    return {"durationMs": round((time.time() - began) * 1000, 3)}
