"""The signing service: the key that signs notification tokens, and what a bot checks them with."""

from __future__ import annotations

from pathlib import Path

from mockgraph.delivery.tokens import SigningKey, TokenIssuer


class SigningService:
    """Tokens for notifications, and the JWKS a bot checks them against.

    A ``--signing-key`` file is read when the service is made, so that a file with no usable
    key stops the start. Without one, the process's key is made by ``prepare``, which the
    server calls once it listens: making it (about 60 ms, importing ``cryptography`` and
    PyJWT included) then slows neither start-up nor the first notification.
    """

    def __init__(
        self, *, key_file: str | None, issuer: str, audience: str, default_tenant: str
    ) -> None:
        self._issuer_name = issuer
        self._audience = audience
        self._default_tenant = default_tenant
        self._issuer: TokenIssuer | None = None
        if key_file:
            self._issuer = self._issuing(SigningKey.load_or_create(Path(key_file)))

    def _issuing(self, key: SigningKey) -> TokenIssuer:
        return TokenIssuer(key, issuer=self._issuer_name, audience=self._audience)

    @property
    def ready(self) -> bool:
        """Whether the key exists (and no token will wait for it)."""
        return self._issuer is not None

    def prepare(self) -> None:
        """Make the key now, if there is none yet."""
        if self._issuer is None:
            self._issuer = self._issuing(SigningKey.for_process())

    @property
    def issuer(self) -> TokenIssuer:
        self.prepare()
        assert self._issuer is not None
        return self._issuer

    def token(self, tenant_id: str) -> str:
        """The bearer token of a notification about a call in ``tenant_id``."""
        return self.issuer.token(tenant_id or self._default_tenant)

    def openid_configuration(self, origin: str) -> dict[str, object]:
        """What a bot's token validation reads first, for a server at ``origin``."""
        return {
            "issuer": self._issuer_name,
            "jwks_uri": f"{origin}/_mock/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def jwks(self) -> dict[str, object]:
        """The public key that signs the tokens, as a JWKS."""
        jwks: dict[str, object] = self.issuer.jwks()
        return jwks
