"""An HTTP/1.1 client for one job: POSTing notifications to bots, many per second.

Why not aiohttp's ClientSession: in the end-to-end benchmark its general machinery (cookies,
tracing, the payload registry, request and response objects) cost ~100 µs of CPU per POST,
half of what mockgraph spent per notification; this client costs ~40 µs (BENCHMARKS.md). It
does what delivery needs and nothing else:

* http and https (certificates checked against the system's CAs, as aiohttp does);
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
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, urlsplit

MAX_HEAD = 64 * 1024  # bytes of status line and headers in a reply, at most
NO_BODY = (204, 304)
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
class Reply:
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
    """Reads one reply from the bytes of a connection, fed as they arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = "head"
        self._remaining = 0  # body bytes still to come (length, chunk data)
        self.started = False  # a byte of the reply has come
        self._reply: Reply | None = None
        self.keep_alive = True

    def feed(self, data: bytes) -> Reply | None:
        """The reply once it is complete, else None. ProtocolError if it is not HTTP."""
        self.started = self.started or bool(data)
        self._buffer += data
        while True:
            if self._state == "head":
                head = self._head()
                if head is None:
                    return None
                self._start(head)
            elif self._state in ("length", "chunk data"):
                taken = min(self._remaining, len(self._buffer))
                del self._buffer[:taken]
                self._remaining -= taken
                if self._remaining:
                    return None
                self._state = "chunk end" if self._state == "chunk data" else "done"
            elif self._state == "until close":
                self._buffer.clear()
                return None
            else:  # chunk size, chunk end, trailers: a line each
                line = self._line()
                if line is None:
                    return None
                self._chunk_line(line)
            if self._state == "done":
                if self._buffer:  # bytes nobody asked for: do not trust this connection again
                    self.keep_alive = False
                return self._reply

    def eof(self) -> Reply | None:
        """The connection ended: the reply if that completes it (a body read to the end)."""
        if self._state == "until close":
            return self._reply
        return None

    def _head(self) -> bytes | None:
        """The status line and headers, once their closing empty line is here. Lines end in
        CRLF; a bare LF is accepted too (RFC 9112, 2.2), for hand-written bot stubs."""
        crlf, lf = self._buffer.find(b"\r\n\r\n"), self._buffer.find(b"\n\n")
        if lf >= 0 and (crlf < 0 or lf < crlf):
            end, skip = lf, 2
        elif crlf >= 0:
            end, skip = crlf, 4
        else:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolError(f"reply head longer than {MAX_HEAD} bytes")
            return None
        head = bytes(self._buffer[:end])
        del self._buffer[: end + skip]
        return head

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolError(f"line longer than {MAX_HEAD} bytes")
            return None
        line = bytes(self._buffer[:end]).removesuffix(b"\r")
        del self._buffer[: end + 1]
        return line

    def _chunk_line(self, line: bytes) -> None:
        if self._state == "chunk end":  # what ends a chunk's data
            if line:
                raise ProtocolError("chunk longer than its size")
            self._state = "chunk size"
        elif self._state == "trailers":
            self._state = "trailers" if line else "done"
        else:
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {line[:40]!r}") from None
            if size < 0:
                raise ProtocolError(f"bad chunk size {line[:40]!r}")
            self._state, self._remaining = ("chunk data", size) if size else ("trailers", 0)

    def _start(self, head: bytes) -> None:
        lines = [line.removesuffix("\r") for line in head.decode("latin-1").split("\n")]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit() or rest[3:4] not in ("", " "):
            raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"bad header line {line[:80]!r}")
            headers[name.lower()] = value.strip()
        if 100 <= status < 200:
            if status == 101:
                raise ProtocolError("101: the bot switched protocols")
            return  # an interim reply (100 Continue, 103 Early Hints): the real one follows
        connection = headers.get("connection", "").lower()
        self.keep_alive = version == "HTTP/1.1" and "close" not in connection
        self._reply = Reply(status, headers)
        if status in NO_BODY:
            self._state = "done"
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = "chunk size"
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length {length[:40]!r}")
            self._state, self._remaining = "length", int(length)
        else:
            self._state, self.keep_alive = "until close", False


class Connection(asyncio.Protocol):
    """One connection to a bot; one request at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.closed = False
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._parser = ReplyParser()
        self._waiter: asyncio.Future[Reply] | None = None

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

    async def exchange(self, request: bytes) -> Reply:
        assert self._transport is not None
        self._parser = ReplyParser()
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
    ) -> None:
        self.limit = limit
        self.idle_timeout = idle_timeout
        self._slots = asyncio.Semaphore(limit)  # requests in flight, each on its own connection
        self._idle: dict[Origin, list[Connection]] = {}
        self._idle_count = 0
        self._busy = 0
        self._ssl = ssl_context  # None: the system's CAs (SSL_CERT_FILE can name others)
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._busy + self._idle_count

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float
    ) -> Reply:
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
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl


def _request_bytes(target: Target, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} has a line break")
        lines.append(f"{name}: {value}\r\n")
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "".join(lines).encode() + body
