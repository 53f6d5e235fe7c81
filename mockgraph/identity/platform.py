"""A local Microsoft identity platform, for the client-credentials flow a calling bot uses: the
OpenID configuration and instance discovery MSAL reads, the token endpoint, and the keys.

A token is an app-only access token as Entra issues one for Graph (graph-identity-facts.md §3):
an RS256 JWT, v1.0 claims (``iss`` ``https://sts.windows.net/{tid}/``, ``appid``,
``appidacr``, ``idtyp: app``, ``oid``, ``roles``), signed with the key the notifications are
signed with. Errors are Entra's (§4): ``error``, ``error_description`` starting ``AADSTS…``,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mockgraph.clock import Clock
from mockgraph.delivery.tokens import SigningKey
from mockgraph.errors import Unauthenticated
from mockgraph.identity.apps import App, Apps, Certificate
from mockgraph.ids import new_id

CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
BOT_FRAMEWORK = "https://api.botframework.com"
# Resources a client-credentials scope may name (``{resource}/.default``), and the audience
# each token then has. mockgraph's own origin stands for Graph: Kiota's authentication provider
# derives the scope from the request's host (https://127.0.0.1/.default) when a bot gives none.
RESOURCES = {GRAPH: GRAPH, GRAPH_APP_ID: GRAPH, BOT_FRAMEWORK: BOT_FRAMEWORK}
GRAPH_AUDIENCES = frozenset({GRAPH, GRAPH_APP_ID, f"{GRAPH}/"})
# Tenants a client-credentials grant cannot use (AADSTS9001023): it needs the app's own.
SHARED_TENANTS = frozenset({"common", "consumers"})
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
ASSERTION_LEEWAY = 300  # seconds of clock skew a client assertion's times are allowed


class EntraError(Exception):
    """An error the token endpoint answers, in Entra's shape."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def body(self, correlation_id: str | None = None) -> dict[str, Any]:
        trace_id, correlation_id = new_id(), correlation_id or new_id()
        timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description} Trace ID: {trace_id} Correlation ID: "
                f"{correlation_id} Timestamp: {timestamp}"
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


def _missing(name: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


@dataclass(frozen=True)
class Caller:
    """Who made a Graph request, as its verified token says."""

    app_id: str
    roles: frozenset[str]
    expires: float  # the token's exp


# Graph's 401 for a token it cannot use carries where to get one (graph-identity-facts.md §6).
CHALLENGE = {
    "WWW-Authenticate": (
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
        f'authorize", client_id="{GRAPH_APP_ID}"'
    )
}
VERIFIED_KEPT = 1024  # verified tokens remembered, so that a bot's next request skips RSA


def invalid_token(message: str) -> Unauthenticated:
    error = Unauthenticated(message)
    error.headers = CHALLENGE
    return error


class IdentityPlatform:
    """Tokens for registered apps (``apps``), signed by ``key()``; ``tenant_id``: the tenant a
    domain name (``contoso.onmicrosoft.com``) stands for; ``lifetime``: seconds a token lasts."""

    def __init__(
        self,
        apps: Apps,
        key: Callable[[], SigningKey],
        clock: Clock,
        *,
        tenant_id: str,
        lifetime: float,
    ) -> None:
        self.apps = apps
        self._key = key
        self._clock = clock
        self._tenant_id = tenant_id
        self.lifetime = lifetime
        self._verified: dict[str, Caller] = {}

    def tenant_id(self, tenant: str) -> str:
        """The tenant id a path's tenant stands for: itself if a GUID, else the one tenant."""
        return tenant.lower() if GUID.match(tenant) else self._tenant_id

    # --- discovery -----------------------------------------------------------------------------

    def openid_configuration(self, origin: str, tenant: str) -> dict[str, Any]:
        """The v2.0 OpenID configuration of ``tenant`` for a platform at ``origin``: the
        fields MSAL Python and Node read (both need ``authorization_endpoint`` and
        ``token_endpoint``; Node also ``issuer`` on the authority's host, and ``jwks_uri``)."""
        base = f"{origin}/{tenant}"
        tid = self.tenant_id(tenant)
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{origin}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }

    def instance_discovery(self, origin: str, authorization_endpoint: str) -> dict[str, Any]:
        """``/common/discovery/instance``: this platform vouches for itself, with the tenant
        the ``authorization_endpoint`` query names."""
        path = urlsplit(authorization_endpoint).path.strip("/")
        tenant = path.split("/")[0] if path else "common"
        host = urlsplit(origin).netloc
        return {
            "tenant_discovery_endpoint": (
                f"{origin}/{tenant}/v2.0/.well-known/openid-configuration"
            ),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }

    def keys(self) -> dict[str, Any]:
        return {"keys": [self._key().public_jwk()]}

    # --- the tokens Graph requests carry (--auth strict) ------------------------------------------

    def graph_caller(self, token: str) -> Caller:
        """The app a Graph request's bearer ``token`` speaks for: a token this platform
        issued, for Graph's audience, in its lifetime; else the 401 Graph answers, with its
        messages (graph-identity-facts.md §6)."""
        caller = self._verified.get(token)
        if caller is None:
            caller = self._verify(token)
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = caller
        if caller.expires <= self._clock.wall():
            raise invalid_token("Lifetime validation failed, the token is expired.")
        return caller

    def _verify(self, token: str) -> Caller:
        import jwt

        key = self._key()
        try:
            claims = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.InvalidSignatureError:
            raise invalid_token(
                "Access token validation failure. Invalid signature: the token was not issued "
                "by this identity platform (get one at its /{tenant}/oauth2/v2.0/token)."
            ) from None
        except jwt.PyJWTError:
            raise invalid_token("CompactToken parsing failed with error code: 80049217") from None
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise invalid_token("Access token validation failure. Invalid audience.")
        if not str(claims.get("iss", "")).startswith("https://sts.windows.net/"):
            raise invalid_token("Access token validation failure. Invalid issuer.")
        if float(claims.get("nbf", 0)) > self._clock.wall() + ASSERTION_LEEWAY:
            raise invalid_token("Access token has expired or is not yet valid.")
        roles = claims.get("roles") or []
        return Caller(str(claims.get("appid", "")), frozenset(roles), float(claims.get("exp", 0)))

    # --- the token endpoint --------------------------------------------------------------------

    def token(
        self,
        tenant: str,
        form: Mapping[str, str],
        *,
        endpoint: str,
        origin: str,
        basic: str | None = None,
    ) -> dict[str, Any]:
        """The token answer for a client-credentials request ``form`` on ``tenant``'s ``endpoint``
        (the URL a client assertion's ``aud`` names); ``basic``: an ``Authorization: Basic``
        header's credentials. Raises ``EntraError`` in the order Entra checks: the request's
        shape, the tenant, the client, its credentials, the scope."""
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant != CLIENT_CREDENTIALS:
            raise EntraError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'. This local identity "
                "platform serves 'client_credentials', the grant a calling bot uses.",
            )
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if basic is not None:
            client_id, secret = _basic(basic)
        if not client_id:
            raise _missing("client_id")
        if tenant.lower() in SHARED_TENANTS:
            raise EntraError(
                400,
                "invalid_request",
                9001023,
                f"The grant type '{grant}' is not supported over the /{tenant} endpoint. Use a "
                "tenant id or domain in the authority.",
            )
        tid = self.tenant_id(tenant)
        app = self.apps.get(client_id)
        if app is None:
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may "
                "have sent your authentication request to the wrong tenant.",
            )
        scope = form.get("scope", "")
        if not scope.split():  # absent, empty or blank
            raise _missing("scope")
        method = self._authenticate(app, form, secret, endpoint)
        audience = _audience(scope, origin)
        return self._issue(app, tid, audience, method)

    def _authenticate(
        self, app: App, form: Mapping[str, str], secret: str | None, endpoint: str
    ) -> str:
        """How the client proved itself: ``"1"`` a secret, ``"2"`` a certificate (Entra's
        ``appidacr``)."""
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise EntraError(
                    400,
                    "invalid_request",
                    90014,
                    "The required field 'client_assertion_type' is missing or is not "
                    f"'{JWT_BEARER}'.",
                )
            self._check_assertion(app, assertion, endpoint)
            return "2"
        if secret is None:
            raise EntraError(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        if app.has_credentials and secret not in app.secrets:
            raise EntraError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
            )
        return "1"

    def _check_assertion(self, app: App, assertion: str, endpoint: str) -> None:
        import jwt

        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise EntraError(
                400, "invalid_client", 50027, "JWT token is invalid or malformed."
            ) from None
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise EntraError(
                400,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        if urlsplit(str(claims.get("aud", ""))).path != urlsplit(endpoint).path:
            raise EntraError(
                400,
                "invalid_client",
                700023,
                f"Client assertion audience claim does not match Realm issuer: its 'aud' must "
                f"be the token endpoint, {endpoint}.",
            )
        now = self._clock.wall()
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires + ASSERTION_LEEWAY < now:
            raise EntraError(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )
        if not app.certificates:  # an app with no certificate: any well-formed assertion
            return
        certificate = next((c for c in app.certificates if c.named_by(header)), None)
        if certificate is None:
            named = header.get("x5t#S256") or header.get("x5t") or "none"
            raise EntraError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of "
                f"key used by client: '{named}']",
            )
        _check_signature(assertion, certificate)

    def _issue(self, app: App, tid: str, audience: str, method: str) -> dict[str, Any]:
        issued = int(self._clock.wall())
        lifetime = int(self.lifetime)
        issuer = f"https://sts.windows.net/{tid}/"
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "app_displayname": app.display_name or app.client_id,
            "appid": app.client_id,
            "appidacr": method,
            "idp": issuer,
            "idtyp": "app",
            "oid": app.object_id,
            "sub": app.object_id,
            "tid": tid,
            "uti": new_id(),
            "ver": "1.0",
        }
        if audience == GRAPH and app.roles:
            claims["roles"] = list(app.roles)
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._key().encode(claims),
        }


def _basic(header: str) -> tuple[str, str]:
    """The client id and secret of ``Authorization: Basic`` (client_secret_basic)."""
    try:
        decoded = base64.b64decode(header, validate=True).decode("utf-8")
    except ValueError:  # not base64, not ASCII, or not UTF-8 once decoded
        raise EntraError(
            401, "invalid_client", 7000215, "The Basic credentials are not base64 of id:secret."
        ) from None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _audience(scope: str, origin: str) -> str:
    """The one resource a client-credentials ``scope`` names: ``{resource}/.default``."""
    scopes = scope.split()
    resources = {s.rsplit("/", 1)[0] if s.endswith("/.default") else s for s in scopes}
    if len(resources) > 1:
        raise EntraError(
            400,
            "invalid_scope",
            700022,
            f"The provided value for the input parameter scope is not valid because it contains "
            f"more than one resource. The scope {scope} is not valid.",
        )
    [resource] = resources
    if not scopes[0].endswith("/.default"):
        raise EntraError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    audience = RESOURCES.get(resource.rstrip("/"))
    if audience is None and _same_host(resource, origin):
        audience = GRAPH  # mockgraph's own origin stands for Graph
    if audience is None:
        raise EntraError(
            400,
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"{scope} is not valid: this platform issues tokens for Graph "
            f"({GRAPH}/.default) and the Bot Framework ({BOT_FRAMEWORK}/.default).",
        )
    return audience


def _same_host(resource: str, origin: str) -> bool:
    """Whether ``resource`` names the host mockgraph serves (with or without its port)."""
    asked, served = urlsplit(resource), urlsplit(origin)
    return bool(asked.hostname) and asked.hostname == served.hostname


def _check_signature(assertion: str, certificate: Certificate) -> None:
    import jwt

    try:
        jwt.decode(
            assertion,
            certificate.public_key,  # type: ignore[arg-type]
            algorithms=["RS256", "PS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise EntraError(
            401, "invalid_client", 700027, "Client assertion failed signature validation."
        ) from None
