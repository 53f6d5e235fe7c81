"""An aiohttp application listening on TCP, as an async context manager.

Port 0 picks a free port and ``url`` tells the real one; ``close()`` is safe to call twice.
"""

from __future__ import annotations

import ssl
from types import TracebackType
from typing import Self

from aiohttp import web


class TlsError(ValueError):
    """A certificate and key that cannot serve https, said in one line."""


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """The server side of https for a PEM certificate (chain) and its key; None for http."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if cert else ("--tls-key", "--tls-cert")
        raise TlsError(f"{given} needs {missing} too")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as error:
        raise TlsError(
            f"{cert!r} and {key!r} are not a PEM certificate and its unencrypted key "
            f"({error.reason or error})"
        ) from None
    except OSError as error:
        raise TlsError(f"cannot read {error.filename!r}: {error.strerror or error}") from None
    return context


class Lifecycle:
    """``async with thing:`` for anything with ``start()`` and a ``close()`` safe to repeat."""

    async def start(self) -> str:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AppServer(Lifecycle):
    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.ssl_context = ssl_context  # https when given
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Listen; raise ``OSError`` if the port is taken. Returns the URL."""
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.ssl_context else "http"
        self.url = f"{scheme}://{host}:{port}"
        return self.url

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
