"""The signing service: the key that signs notification tokens, made once per process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from mockgraph.delivery.tokens import SigningKey, TokenIssuer


class SigningService:
    """Tokens for notifications, and the JWKS a bot checks them against.

    A new RSA key takes a few tenths of a second in plain Python: it is made in a daemon
    thread (stopping never waits for a key nobody will use), started once the server listens
    so that it does not slow start-up; the first token waits for it (once per process).
    """

    def __init__(
        self, *, key_file: str | None, issuer: str, audience: str, default_tenant: str
    ) -> None:
        self._key_file = key_file
        self._issuer_name = issuer
        self._audience = audience
        self._default_tenant = default_tenant
        self._issuer: asyncio.Future[TokenIssuer] | None = None

    def prepare(self) -> None:
        """Start making the key, if not yet started."""
        if self._issuer is not None:
            return
        loop = asyncio.get_running_loop()
        self._issuer = future = loop.create_future()

        def make() -> None:
            issuer, failure = None, None
            try:
                issuer = self._make_issuer()
            except Exception as error:  # e.g. an unreadable --signing-key file
                failure = error
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, issuer, failure)

        threading.Thread(target=make, name="mockgraph-signing-key", daemon=True).start()

    def _make_issuer(self) -> TokenIssuer:
        path = self._key_file
        key = SigningKey.load_or_create(Path(path)) if path else SigningKey.for_process()
        return TokenIssuer(key, issuer=self._issuer_name, audience=self._audience)

    async def issuer(self) -> TokenIssuer:
        self.prepare()
        assert self._issuer is not None
        return await self._issuer

    def token_now(self, tenant_id: str) -> str | None:
        """The token without waiting, once the key exists; else None."""
        issuer = self._issuer
        if issuer is None or not issuer.done() or issuer.exception() is not None:
            return None
        return issuer.result().token(tenant_id or self._default_tenant)

    async def token(self, tenant_id: str) -> str:
        """The bearer token of a notification about a call in ``tenant_id``."""
        return (await self.issuer()).token(tenant_id or self._default_tenant)

    def openid_configuration(self, origin: str) -> dict[str, object]:
        """What a bot's token validation reads first, for a server at ``origin``."""
        return {
            "issuer": self._issuer_name,
            "jwks_uri": f"{origin}/_mock/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    async def jwks(self) -> dict[str, object]:
        """The public key that signs the tokens, as a JWKS."""
        jwks: dict[str, object] = (await self.issuer()).jwks()
        return jwks

    def close(self) -> None:
        if self._issuer is not None and not self._issuer.done():
            self._issuer.cancel()


def _settle(
    future: asyncio.Future[TokenIssuer], issuer: TokenIssuer | None, error: Exception | None
) -> None:
    if future.done():  # cancelled: the server stopped first
        return
    if error is not None:
        future.set_exception(error)
    elif issuer is not None:
        future.set_result(issuer)
