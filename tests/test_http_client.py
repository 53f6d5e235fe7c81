"""The notification client against real sockets: servers that answer in every framing HTTP/1.1
allows, close connections, stall, or do not speak HTTP at all."""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from mockgraph.config import Settings
from mockgraph.delivery.http_client import (
    ConnectError,
    HttpClient,
    ProtocolError,
    ReplyHead,
    ReplyParser,
    parse_url,
)
from mockgraph.http.listening import AppServer

HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer t"}
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


class ScriptedServer:
    """A TCP server that reads each request (head and Content-Length body) and answers with
    the bytes ``reply(n)`` gives for the n-th request (0-based), written in ``pieces`` so
    replies arrive split; ``close_after`` closes the connection after that many replies."""

    def __init__(
        self,
        reply: Callable[[int], bytes],
        *,
        pieces: int = 1,
        close_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self.reply, self.pieces, self.close_after, self.delay = reply, pieces, close_after, delay
        self.requests: list[bytes] = []
        self.connections = 0
        self.concurrent = 0
        self.most_concurrent = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/calls"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                self.requests.append(head + await reader.readexactly(length))
                self.concurrent += 1
                self.most_concurrent = max(self.most_concurrent, self.concurrent)
                await asyncio.sleep(self.delay)
                self.concurrent -= 1
                data = self.reply(len(self.requests) - 1)
                step = max(1, -(-len(data) // self.pieces))
                for start in range(0, len(data), step):
                    writer.write(data[start : start + step])
                    await writer.drain()
                answered += 1
                if self.close_after is not None and answered >= self.close_after:
                    return
        except asyncio.CancelledError:
            pass  # the test is over
        finally:
            writer.close()
            self._handlers.discard(task)


@asynccontextmanager
async def client(**options: Any) -> AsyncIterator[HttpClient]:
    http = HttpClient(**{"limit": Settings().connections, **options})
    try:
        yield http
    finally:
        await http.close()


async def test_request_as_the_bot_reads_it() -> None:
    async with ScriptedServer(lambda n: ACCEPTED) as server, client() as http:
        url = server.url.replace("/api/calls", "/api/my calls?tenant=a b")
        port = server.url.split(":")[2].split("/")[0]
        reply = await http.post(url, b'{"value": []}', HEADERS, timeout=5)
    assert reply.status == 202
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/my%20calls?tenant=a%20b HTTP/1.1"
    assert lines[1] == f"Host: 127.0.0.1:{port}"
    assert "Authorization: Bearer t" in lines
    assert "Content-Length: 13" in lines
    assert body == b'{"value": []}'


async def test_against_aiohttp_server_every_framing() -> None:
    """A real aiohttp bot answering with a length, chunked, and after a redirect."""

    async def fixed(request: web.Request) -> web.Response:
        return web.json_response({"ok": await request.json()}, status=202)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"a" * 10, b"b" * 5000, b"c"):
            await response.write(part)
        await response.write_eof()
        return response

    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    app = web.Application()
    app.router.add_post("/fixed", fixed)
    app.router.add_post("/chunked", chunked)
    app.router.add_post("/moved", moved)
    async with AppServer(app) as bot, client() as http:
        base = bot.url
        for _ in range(3):  # over the same kept-alive connection
            assert (await http.post(f"{base}/fixed", b"1", HEADERS, timeout=5)).status == 202
            assert (await http.post(f"{base}/chunked", b"", HEADERS, timeout=5)).status == 200
            moved_reply = await http.post(f"{base}/moved", b"", HEADERS, timeout=5)
            assert moved_reply.status == 302
            assert moved_reply.headers["location"] == "/elsewhere"
        assert http.open_connections == 1


@pytest.mark.parametrize("pieces", [1, 7, 1000])
@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 202 Accepted\nContent-Length: 3\n\nabc",
    ],
    ids=["length", "chunked", "100-continue", "204", "bare-lf"],
)
async def test_framings_keep_the_connection(reply: bytes, pieces: int) -> None:
    async with ScriptedServer(lambda n: reply, pieces=pieces) as server, client() as http:
        statuses = [(await http.post(server.url, b"{}", HEADERS, timeout=5)).status for _ in "abc"]
    assert statuses == [int(reply.rsplit(b"HTTP/1.1 ", 1)[1][:3])] * 3
    assert server.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_replies_that_end_the_connection(reply: bytes) -> None:
    # The server would go on reading: the client closes because the reply says so.
    async with ScriptedServer(lambda n: reply) as server, client() as http:
        for _ in range(3):
            assert (await http.post(server.url, b"{}", HEADERS, timeout=5)).status == 202
    assert server.connections == 3


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\n\r\nno length, so the end of the connection ends it",
        # RFC 9112, 6.3 (4): a response whose last transfer coding is not chunked is read to
        # the end of the connection ("chunked" is in the header: a substring test got it wrong).
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\nmore",
    ],
    ids=["no-length", "chunked-not-last"],
)
async def test_body_until_the_connection_closes(reply: bytes) -> None:
    async with ScriptedServer(lambda n: reply, close_after=1) as server, client() as http:
        for _ in range(2):
            assert (await http.post(server.url, b"{}", HEADERS, timeout=5)).status == 200
    assert server.connections == 2


async def test_idle_connection_closed_by_the_bot_is_not_reused() -> None:
    async with ScriptedServer(lambda n: ACCEPTED, close_after=1) as server, client() as http:
        # The server closes after each reply without saying so: the client sees the close
        # while the connection is idle and opens a new one instead of failing.
        for _ in range(3):
            assert (await http.post(server.url, b"{}", HEADERS, timeout=5)).status == 202
            await asyncio.sleep(0.05)
    assert server.connections == 3


async def test_connections_idle_too_long_are_replaced() -> None:
    async with ScriptedServer(lambda n: ACCEPTED) as server, client(idle_timeout=0.05) as http:
        await http.post(server.url, b"{}", HEADERS, timeout=5)
        await http.post(server.url, b"{}", HEADERS, timeout=5)
        await asyncio.sleep(0.1)
        await http.post(server.url, b"{}", HEADERS, timeout=5)
    assert server.connections == 2


@pytest.mark.parametrize(
    "reply, error",
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "Bad status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "Invalid header token"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", "Invalid character in Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "Invalid character in chunk size",
        ),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "Expected LF after chunk data",
        ),
    ],
)
async def test_not_http_is_a_protocol_error(reply: bytes, error: str) -> None:
    async with ScriptedServer(lambda n: reply) as server, client() as http:
        with pytest.raises(ProtocolError, match=error):
            await http.post(server.url, b"{}", HEADERS, timeout=5)
        assert http.open_connections == 0  # the connection is not kept


@pytest.mark.parametrize(
    "reply, error",
    [
        (  # RFC 9112, 6.3 (5): differing lengths are an error, not the last one read
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nokabc",
            "Duplicate Content-Length",
        ),
        (  # 6.3 (3): both framings at once may be response splitting: an error
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\n",
            "Content-Length can't be present with Transfer-Encoding",
        ),
    ],
    ids=["two-lengths", "length-and-chunked"],
)
async def test_framing_by_rfc_9112(reply: bytes, error: str) -> None:
    async with ScriptedServer(lambda n: reply) as server, client() as http:
        with pytest.raises(ProtocolError, match=error):
            await http.post(server.url, b"{}", HEADERS, timeout=5)


async def test_closed_before_a_full_reply() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"
    async with ScriptedServer(lambda n: reply, close_after=1) as server, client() as http:
        with pytest.raises(ConnectionResetError, match="before a full reply"):
            await http.post(server.url, b"{}", HEADERS, timeout=5)


async def test_no_answer_in_time_is_a_timeout_and_the_connection_is_dropped() -> None:
    async with ScriptedServer(lambda n: ACCEPTED, delay=0.3) as server, client() as http:
        with pytest.raises(TimeoutError):
            await http.post(server.url, b"{}", HEADERS, timeout=0.05)
        assert http.open_connections == 0
        assert (await http.post(server.url, b"{}", HEADERS, timeout=5)).status == 202
    assert server.connections == 2


async def test_nobody_listening_is_a_connect_error() -> None:
    async with ScriptedServer(lambda n: ACCEPTED) as server:
        url = server.url
    async with client() as http:
        with pytest.raises(ConnectError, match=r"cannot connect to 127\.0\.0\.1"):
            await http.post(url, b"{}", HEADERS, timeout=5)


async def test_at_most_limit_connections() -> None:
    async with (
        ScriptedServer(lambda n: ACCEPTED, delay=0.05) as server,
        client(limit=3) as http,
    ):
        replies = await asyncio.gather(
            *(http.post(server.url, b"{}", HEADERS, timeout=5) for _ in range(12))
        )
        assert {reply.status for reply in replies} == {202}
        assert server.most_concurrent == 3
        assert server.connections == 3
        assert http.open_connections == 3


async def test_limit_holds_across_bots() -> None:
    """Past the limit, an idle connection to another bot is closed to make room."""
    async with (
        ScriptedServer(lambda n: ACCEPTED) as first,
        ScriptedServer(lambda n: ACCEPTED) as second,
        client(limit=1) as http,
    ):
        for server in (first, second, first):
            assert (await http.post(server.url, b"{}", HEADERS, timeout=5)).status == 202
            assert http.open_connections == 1
    assert (first.connections, second.connections) == (2, 1)


async def test_https_with_a_verified_certificate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=202, text=request.scheme)

    app = web.Application()
    app.router.add_post("/api/calls", answer)
    async with AppServer(app, ssl_context=server_context) as bot:
        # The certificate names localhost, not 127.0.0.1.
        url = bot.url.replace("127.0.0.1", "localhost") + "/api/calls"
        async with client(ssl_context=client_context) as http:
            assert (await http.post(url, b"{}", HEADERS, timeout=5)).status == 202
        async with client() as http:  # the system's CAs do not know this one
            with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.post(url, b"{}", HEADERS, timeout=5)
        # What the README tells users of self-signed certificates to do.
        authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        async with client() as http:
            assert (await http.post(url, b"{}", HEADERS, timeout=5)).status == 202


@pytest.mark.parametrize(
    "url, problem",
    [
        ("ftp://bot.example/api", "http or https only"),
        ("/api/calls", "http or https only"),
        ("http:///api/calls", "no host"),
        ("http://bot.example:99999/api", "out of range"),
    ],
)
async def test_bad_urls(url: str, problem: str) -> None:
    async with client() as http:
        with pytest.raises(ValueError, match=problem):
            await http.post(url, b"{}", HEADERS, timeout=5)


async def test_line_breaks_in_headers_are_refused() -> None:
    async with ScriptedServer(lambda n: ACCEPTED) as server, client() as http:
        with pytest.raises(ValueError, match="line break"):
            await http.post(server.url, b"{}", {"Scenario-Id": "a\r\nX-Evil: 1"}, timeout=5)
    assert server.requests == []


def test_host_header_and_target() -> None:
    assert parse_url("https://bot.example/api").host_header == "bot.example"
    assert parse_url("http://bot.example:8080").path == "/"
    assert parse_url("http://[::1]:8080/x").host_header == "[::1]:8080"
    assert parse_url("http://bot.example/a%20b").path == "/a%20b"  # not encoded twice


async def test_close_twice_and_post_after_close() -> None:
    http = HttpClient(limit=1)
    await http.close()
    await http.close()
    with pytest.raises(RuntimeError, match="closed"):
        await http.post("http://127.0.0.1:9/x", b"", HEADERS, timeout=1)


# --- the reply parser, whatever the packets --------------------------------------------------

TOKENS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)


@st.composite
def replies(draw: st.DrawFn) -> tuple[bytes, int, dict[str, str]]:
    """One HTTP/1.1 reply in any framing, with what the parser should make of it."""
    status = draw(st.sampled_from([100, 200, 202, 204, 302, 403, 429, 500, 503]))
    headers = {
        name.lower(): value
        for name, value in draw(st.dictionaries(TOKENS.map(lambda t: "x-" + t), TOKENS)).items()
    }
    body = draw(st.binary(max_size=300)) if status != 204 else b""
    framing = "none" if status == 204 else draw(st.sampled_from(["length", "chunked"]))
    eol = draw(st.sampled_from(["\r\n", "\n"]))  # CRLF, or the bare LF of hand-written stubs
    interim = f"HTTP/1.1 100 Continue{eol}{eol}".encode() if status == 100 else b""
    status = 202 if status == 100 else status
    if framing == "length":
        headers["content-length"] = str(len(body))
        payload = body
    elif framing == "chunked":
        headers["transfer-encoding"] = "chunked"
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in itertools.pairwise([0, *cuts, len(body)])]
        end = b"\r\n"  # RFC 9112, 7.1: a chunk's lines end in CRLF (a bare LF only in the head)
        payload = b"".join(b"%x%s%s%s" % (len(p), end, p, end) for p in pieces if p)
        payload += b"0" + end + end
    else:
        payload = b""
    fields = "".join(f"{name}: {value}{eol}" for name, value in headers.items())
    head = f"HTTP/1.1 {status} Whatever{eol}{fields}"
    return interim + (head + eol).encode() + payload, status, headers


@given(reply=replies(), cuts=st.lists(st.integers(0, 2000), max_size=8))
@settings(max_examples=300, deadline=None)
def test_any_split_of_a_reply_parses_the_same(
    reply: tuple[bytes, int, dict[str, str]], cuts: list[int]
) -> None:
    data, status, headers = reply
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    loop = asyncio.new_event_loop()
    try:
        parser = ReplyParser(loop)
        results = [parser.feed(data[a:b]) for a, b in itertools.pairwise(points)]
    finally:
        loop.close()
    complete = [r for r in results if r is not None]
    assert complete == [ReplyHead(status, headers)]
    assert results[-1] is not None  # complete exactly when the last byte arrives
    assert parser.keep_alive
