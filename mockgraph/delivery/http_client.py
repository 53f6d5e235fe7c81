"""An HTTP/1.1 client for one job: POSTing notifications to bots, many per second.

Why not aiohttp's ClientSession: in the end-to-end benchmark its general machinery (cookies,
tracing, the payload registry, request and response objects) cost ~100 µs of CPU per POST,
half of what mockgraph spent per notification; this client costs ~40 µs (BENCHMARKS.md). It
does what delivery needs and nothing else:

* http and https (certificates checked against the system's CAs, as aiohttp does, and
  mockgraph's local authority);
* keep-alive connections pooled per origin, at most ``limit`` open in all; an idle one is
  closed after ``idle_timeout`` or when the bot closes it;
* replies framed by Content-Length, chunked, or the end of the connection; interim 1xx
  replies skipped; bodies read and discarded;
* one time-out per request, covering connect, send and reply.

Not supported: cookies, proxies, compression, redirects (the Notifier follows them itself,
as Graph does), HTTP/2.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpProcessingError, HttpResponseParser
from aiohttp.streams import StreamReader

MAX_HEAD = 64 * 1024  # bytes of status line and headers in a reply, at most
# A connection idle this long is not reused: shorter than the keep-alive of the servers bots
# run on (Node, uvicorn, Apache: 5 s; gunicorn's was 2 s for years), so a bot never closes a
# connection just as a POST goes out on it. A new connection costs well under 1 ms locally.
IDLE_TIMEOUT = 1.5
# What may stay as it is in a request target; anything else (spaces, non-ASCII) is
# percent-encoded, as aiohttp's yarl does.
TARGET_SAFE = "/%:@!$&'()*+,;=-._~?"


class ProtocolError(Exception):
    """The other side did not answer in HTTP/1.1."""


class StaleConnection(ConnectionResetError):
    """The connection ended before a byte of the reply came: on a kept-alive connection, the
    bot most likely closed it as it was taken from the pool, before the request reached it."""


class ConnectError(OSError):
    """No connection to the bot (refused, unreachable, no such host, TLS failed)."""


@dataclass(frozen=True, slots=True)
class ReplyHead:
    """What delivery reads of a bot's reply: its status and headers (the body is dropped)."""

    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


class Target(NamedTuple):
    origin: Origin
    path: str  # the request target: path and query
    host_header: str


@functools.lru_cache(maxsize=4096)
def parse_url(url: str) -> Target:
    """Split a callback URL into where to connect and what to ask for; ValueError if it
    is not an absolute http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL {url!r}: http or https only")
    host = parts.hostname
    if not host:
        raise ValueError(f"unsupported URL {url!r}: no host")
    default = 443 if scheme == "https" else 80
    port = parts.port or default  # ValueError for a port out of range
    path = quote(parts.path or "/", safe=TARGET_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=TARGET_SAFE)
    name = f"[{host}]" if ":" in host else host
    host_header = name if port == default else f"{name}:{port}"
    return Target(Origin(scheme, host, port), path, host_header)


class ReplyParser:
    """Reads the replies on one connection from its bytes, fed as they arrive; ``expect``
    before each request.

    The parsing is aiohttp's own response parser (llhttp, the parser Node.js uses, in C),
    which follows RFC 9112's framing rules: Transfer-Encoding before Content-Length, chunk
    sizes and extensions, trailers, interim replies. What is left here is what delivery
    needs from it: the status, the headers, whether the connection may be kept."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._parser = HttpResponseParser(
            _Dropping(loop),
            loop,
            MAX_HEAD,
            max_line_size=MAX_HEAD,
            max_field_size=MAX_HEAD,
            read_until_eof=True,
            auto_decompress=False,
        )
        self.keep_alive = True
        self.expect()

    def expect(self) -> None:
        """A request went out: the next bytes begin its reply."""
        self.started = False  # a byte of the reply has come
        self._reply: ReplyHead | None = None
        self._body: StreamReader | None = None

    def feed(self, data: bytes) -> ReplyHead | None:
        """The reply once it is complete, else None. ProtocolError if it is not HTTP."""
        self.started = self.started or bool(data)
        try:
            messages, _, _ = self._parser.feed_data(data)
        except HttpProcessingError as error:
            raise ProtocolError(_reason(error)) from None
        for message, body in messages:
            if message.code == 101:
                raise ProtocolError("101: the bot switched protocols")
            if message.code < 200:
                continue  # an interim reply (100 Continue, 103 Early Hints): the real one follows
            if self._reply is not None:  # a second reply nobody asked for: do not trust this
                self.keep_alive = False  # connection again
                continue
            self._reply = ReplyHead(
                message.code, {k.lower(): v for k, v in message.headers.items()}
            )
            self.keep_alive = not message.should_close
            self._body = body
        return self._complete()

    def eof(self) -> ReplyHead | None:
        """The connection ended: the reply if that completes it (a body read to the end)."""
        try:
            self._parser.feed_eof()
        except HttpProcessingError:
            return None
        self.keep_alive = False
        return self._complete()

    def _complete(self) -> ReplyHead | None:
        body = self._body
        if body is None:
            return None
        body.read_nowait()  # nobody reads a bot's body: drop what came of it
        return self._reply if body.is_eof() else None


class _Dropping(BaseProtocol):
    """What aiohttp's parser hands a body's bytes to expects a protocol it can ask to pause
    reading when they pile up. Nobody reads a bot's body: it is dropped after each feed, so
    nothing piles up and there is nothing to pause."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


def _reason(error: HttpProcessingError) -> str:
    """llhttp's reason on one line, with the bytes it stopped at."""
    return " ".join(str(error.message).split())


class Connection(asyncio.Protocol):
    """One connection to a bot; one request at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.closed = False
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._parser = ReplyParser(asyncio.get_running_loop())
        self._waiter: asyncio.Future[ReplyHead] | None = None

    @property
    def reusable(self) -> bool:
        return not self.closed and self._parser.keep_alive

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.close()  # a reply nobody asked for
            return
        try:
            reply = self._parser.feed(data)
        except ProtocolError as error:
            waiter.set_exception(error)
            self.close()
            return
        if reply is not None:
            waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            reply = self._parser.eof()
            if reply is not None:
                waiter.set_result(reply)
            elif not self._parser.started:
                waiter.set_exception(
                    StaleConnection("the bot closed the connection before any reply")
                )
            else:
                waiter.set_exception(
                    ConnectionResetError("the bot closed the connection before a full reply")
                )

    async def exchange(self, request: bytes) -> ReplyHead:
        assert self._transport is not None
        self._parser.expect()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            self._transport.write(request)
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()


class HttpClient:
    """POSTs over pooled keep-alive connections. ``close`` is safe to call twice."""

    def __init__(
        self,
        *,
        limit: int,
        idle_timeout: float = IDLE_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        also_trust: str | None = None,
    ) -> None:
        self.limit = limit
        self.idle_timeout = idle_timeout
        self._slots = asyncio.Semaphore(limit)  # requests in flight, each on its own connection
        self._idle: dict[Origin, list[Connection]] = {}
        self._idle_count = 0
        self._busy = 0
        self._ssl = ssl_context  # None: client_context(also_trust), at each new connection
        self._also_trust = also_trust
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._busy + self._idle_count

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float
    ) -> ReplyHead:
        """POST ``body`` with ``headers`` (Host and Content-Length are added); the reply's
        status and headers. Raises ConnectError, another OSError (the connection broke),
        TimeoutError, ValueError (a bad URL or header) or ProtocolError."""
        if self._closed:
            raise RuntimeError("HttpClient is closed")
        target = parse_url(url)
        request = _request_bytes(target, headers, body)
        async with self._slots:
            self._busy += 1
            connection: Connection | None = None
            try:
                async with asyncio.timeout(timeout):
                    connection, reused = await self._connection(target.origin)
                    try:
                        reply = await connection.exchange(request)
                    except StaleConnection:
                        if not reused:
                            raise
                        # Once, on a new connection, as HTTP clients do with a pooled one
                        # (RFC 9112, 9.3.1): the bot never saw this request.
                        connection.abort()
                        connection = await self._new_connection(target.origin)
                        reply = await connection.exchange(request)
            except BaseException:
                if connection is not None:
                    connection.abort()  # in an unknown state: never reused
                raise
            finally:
                self._busy -= 1
            self._release(connection)
            return reply

    async def close(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        self._idle_count = 0

    async def _connection(self, origin: Origin) -> tuple[Connection, bool]:
        """A connection to ``origin``, and whether it was kept alive from an earlier request."""
        loop = asyncio.get_running_loop()
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be stale
            self._idle_count -= 1
            if not idle:
                del self._idle[origin]
            if connection.reusable and loop.time() - connection.idle_since < self.idle_timeout:
                return connection, True
            connection.close()
        return await self._new_connection(origin), False

    async def _new_connection(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        if self.open_connections > self.limit:
            self._evict_one()
        context = self._ssl_context() if origin.scheme == "https" else None
        try:
            _, connection = await loop.create_connection(
                lambda: Connection(origin),
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=origin.host if context else None,
            )
        except OSError as error:  # ssl.SSLError is one too
            reason = error.strerror or str(error) or type(error).__name__
            raise ConnectError(
                f"cannot connect to {origin.host}:{origin.port}: {reason}"
            ) from error
        return connection

    def _release(self, connection: Connection) -> None:
        if self._closed or not connection.reusable:
            connection.close()
            return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._idle_count += 1

    def _evict_one(self) -> None:
        """Close an idle connection to make room under ``limit``: requests in flight are
        fewer than ``limit``, so past it there is one (lists in ``_idle`` are never empty)."""
        origin, connections = next(iter(self._idle.items()))
        connections.pop(0).close()  # the oldest of the longest-known bot
        self._idle_count -= 1
        if not connections:
            del self._idle[origin]

    def _ssl_context(self) -> ssl.SSLContext:
        return self._ssl if self._ssl is not None else client_context(self._also_trust)


def client_context(also_trust: str | None) -> ssl.SSLContext:
    """What mockgraph trusts as a client: the system's CAs (``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` can name others), and the PEM file ``also_trust`` if it exists
    (``--tls auto``'s local authority, so a receiver served with its certificates is trusted
    with no set-up).

    One context for every client that asks (the calls' notifications, the webhooks, their
    handshakes), made when first needed, as loading the system's CAs takes milliseconds;
    made again when what it is made from changes: ``also_trust`` appears or changes (a test
    may make the authority after mockgraph started), or the environment names other CAs."""
    try:
        stamp: int | None = os.stat(also_trust).st_mtime_ns if also_trust else None
    except OSError:
        stamp = None
    system = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _context(also_trust, stamp, system)


@functools.lru_cache(maxsize=4)
def _context(
    also_trust: str | None, stamp: int | None, system: tuple[str | None, str | None]
) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if also_trust is not None and stamp is not None:
        context.load_verify_locations(also_trust)
    return context


def _request_bytes(target: Target, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} has a line break")
        lines.append(f"{name}: {value}\r\n")
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "".join(lines).encode() + body
