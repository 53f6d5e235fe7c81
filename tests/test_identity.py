"""The local identity platform, in the domain (no HTTP): the client-credentials grant and its
errors. Expectations come from graph-identity-facts.md: the token's claims (§3), Entra's error
codes and statuses (§4), the client assertion's rules (§5)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mockgraph.calling.operations import RECORD_RESPONSE, REJECT, TRANSFER
from mockgraph.clock import ManualClock
from mockgraph.delivery.tokens import SigningKey, b64url
from mockgraph.errors import BadRequest, Forbidden, Unauthenticated
from mockgraph.identity.apps import Apps, app_from_spec
from mockgraph.identity.platform import EntraError, IdentityPlatform

TENANT = "11111111-2222-3333-4444-555555555555"
ORIGIN = "https://127.0.0.1:8443"
ENDPOINT = f"{ORIGIN}/{TENANT}/oauth2/v2.0/token"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CLIENT = "0a0a0a0a-1111-2222-3333-444444444444"
KEY = SigningKey.generate()


def platform(*apps: dict[str, Any], lifetime: float = 3600) -> IdentityPlatform:
    return IdentityPlatform(
        Apps(apps), lambda: KEY, ManualClock(), tenant_id=TENANT, lifetime=lifetime
    )


def secret_form(**extra: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT,
        "client_secret": "s3cret",
        "scope": GRAPH_SCOPE,
    }
    return {**form, **extra}


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        token,
        KEY.private.public_key(),
        algorithms=["RS256"],
        audience=None,
        options={"verify_aud": False},
    )
    return decoded


def refused(identity: IdentityPlatform, form: dict[str, str], tenant: str = TENANT) -> EntraError:
    with pytest.raises(EntraError) as raised:
        identity.token(tenant, form, endpoint=ENDPOINT, origin=ORIGIN)
    return raised.value


def test_an_app_token_for_graph_has_the_claims_entra_gives_one() -> None:
    identity = platform({"clientId": CLIENT, "secret": "s3cret", "displayName": "Bot"})
    granted = identity.token(TENANT, secret_form(), endpoint=ENDPOINT, origin=ORIGIN)
    answer = granted
    assert (answer["token_type"], answer["expires_in"], answer["ext_expires_in"]) == (
        "Bearer",
        3600,
        3600,
    )
    token = claims(answer["access_token"])
    assert token["aud"] == "https://graph.microsoft.com"
    assert token["iss"] == token["idp"] == f"https://sts.windows.net/{TENANT}/"
    assert (token["tid"], token["appid"], token["appidacr"]) == (TENANT, CLIENT, "1")
    assert (token["idtyp"], token["ver"], token["app_displayname"]) == ("app", "1.0", "Bot")
    assert token["oid"] == token["sub"] and uuid.UUID(token["oid"])
    assert token["exp"] - token["iat"] == 3600 and token["nbf"] == token["iat"]
    assert set(token["roles"]) >= {"Calls.Initiate.All", "Calls.AccessMedia.All"}
    assert jwt.get_unverified_header(answer["access_token"])["alg"] == "RS256"


def test_with_no_app_registered_any_client_gets_every_permission_mockgraph_checks() -> None:
    granted = platform().token(
        TENANT, secret_form(client_secret="x"), endpoint=ENDPOINT, origin=ORIGIN
    )
    roles = claims(granted["access_token"])["roles"]
    assert set(roles) == {
        "Calls.AccessMedia.All",
        "Calls.Initiate.All",
        "Calls.InitiateGroupCall.All",
        "Calls.JoinGroupCall.All",
        "Calls.JoinGroupCallAsGuest.All",
        "Presence.Read.All",
        "Presence.ReadWrite.All",
        "CallRecords.Read.All",
        "OnlineMeetings.Read.All",
        "OnlineMeetings.ReadWrite.All",
        "OnlineMeetingArtifact.Read.All",
    }


def test_a_registered_apps_roles_are_what_its_token_carries() -> None:
    identity = platform({"clientId": CLIENT, "secret": "s3cret", "roles": ["Calls.Initiate.All"]})
    granted = identity.token(TENANT, secret_form(), endpoint=ENDPOINT, origin=ORIGIN)
    assert claims(granted["access_token"])["roles"] == ["Calls.Initiate.All"]


@pytest.mark.parametrize(
    "scope, audience",
    [
        ("https://graph.microsoft.com/.default", "https://graph.microsoft.com"),
        ("00000003-0000-0000-c000-000000000000/.default", "https://graph.microsoft.com"),
        # Kiota derives the scope from the request's host when the bot gives none.
        ("https://127.0.0.1/.default", "https://graph.microsoft.com"),
        ("https://api.botframework.com/.default", "https://api.botframework.com"),
    ],
)
def test_the_scope_names_the_tokens_audience(scope: str, audience: str) -> None:
    granted = platform().token(TENANT, secret_form(scope=scope), endpoint=ENDPOINT, origin=ORIGIN)
    token = claims(granted["access_token"])
    assert token["aud"] == audience
    assert ("roles" in token) == (audience == "https://graph.microsoft.com")


def test_a_domain_tenant_stands_for_the_one_tenant() -> None:
    granted = platform().token(
        "contoso.onmicrosoft.com", secret_form(), endpoint=ENDPOINT, origin=ORIGIN
    )
    assert claims(granted["access_token"])["tid"] == TENANT


@pytest.mark.parametrize(
    "form, status, error, code",
    [
        ({"grant_type": ""}, 400, "invalid_request", 900144),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type", 70003),
        ({"client_id": ""}, 400, "invalid_request", 900144),
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_id": "9f9f9f9f-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"scope": ""}, 400, "invalid_request", 900144),
        ({"scope": "   "}, 400, "invalid_request", 900144),  # blank: as absent, not a crash
        ({"scope": "https://example.com/.default"}, 400, "invalid_scope", 70011),
        ({"scope": "https://graph.microsoft.com/User.Read"}, 400, "invalid_scope", 1002012),
        (
            {"scope": "https://graph.microsoft.com/.default https://api.botframework.com/.default"},
            400,
            "invalid_scope",
            700022,
        ),
    ],
)
def test_each_bad_request_gets_entras_error(
    form: dict[str, str], status: int, error: str, code: int
) -> None:
    identity = platform({"clientId": CLIENT, "secret": "s3cret"})
    problem = refused(identity, secret_form(**form))
    assert (problem.status, problem.error, problem.code) == (status, error, code)
    body = problem.body("corr")
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert body["correlation_id"] == "corr" and uuid.UUID(body["trace_id"])
    assert "Trace ID: " in body["error_description"]


@pytest.mark.parametrize("basic", ["not base64!", "é", base64.b64encode(b"\xff:\xfe").decode()])
def test_basic_credentials_that_are_not_base64_of_utf8_are_invalid_client(basic: str) -> None:
    identity = platform({"clientId": CLIENT, "secret": "s3cret"})
    with pytest.raises(EntraError) as refused:
        identity.token(TENANT, secret_form(), endpoint=ENDPOINT, origin=ORIGIN, basic=basic)
    problem = refused.value
    assert (problem.status, problem.error, problem.code) == (401, "invalid_client", 7000215)


def test_no_secret_and_no_assertion_is_invalid_client() -> None:
    form = secret_form()
    del form["client_secret"]
    problem = refused(platform(), form)
    assert (problem.status, problem.error, problem.code) == (401, "invalid_client", 7000216)


def test_the_shared_tenants_refuse_the_client_credentials_grant() -> None:
    problem = refused(platform(), secret_form(), tenant="common")
    assert problem.code == 9001023


def test_the_token_lifetime_is_configurable() -> None:
    granted = platform(lifetime=400).token(TENANT, secret_form(), endpoint=ENDPOINT, origin=ORIGIN)
    token = claims(granted["access_token"])
    assert granted["expires_in"] == 400 and token["exp"] - token["iat"] == 400


# --- client assertions (a certificate's signed JWT) ---------------------------------------------


def make_certificate() -> tuple[rsa.RSAPrivateKey, str, bytes]:
    """An RSA key, and its self-signed certificate as PEM text and DER bytes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot")])
    now = datetime.datetime.now(datetime.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return (
        key,
        made.public_bytes(serialization.Encoding.PEM).decode(),
        made.public_bytes(serialization.Encoding.DER),
    )


BOT_KEY, BOT_CERT, BOT_DER = make_certificate()
OTHER_KEY, OTHER_CERT, OTHER_DER = make_certificate()


def assertion(
    key: rsa.RSAPrivateKey = BOT_KEY,
    der: bytes = BOT_DER,
    *,
    algorithm: str = "PS256",
    **changes: Any,
) -> dict[str, str]:
    """The form MSAL sends: a JWT whose header names the certificate by its SHA-256 thumbprint
    (x5t#S256 with PS256, as MSAL Python 1.39 does; x5t with RS256 on its fallback)."""
    now = int(time.time())
    claims_ = {
        "aud": ENDPOINT,
        "iss": CLIENT,
        "sub": CLIENT,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        **changes,
    }
    if algorithm == "PS256":
        header = {"x5t#S256": b64url(hashlib.sha256(der).digest())}
    else:
        header = {"x5t": b64url(hashlib.sha1(der).digest())}
    signed = jwt.encode(claims_, key, algorithm=algorithm, headers=header)
    form = secret_form(
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=signed,
    )
    del form["client_secret"]
    return form


@pytest.mark.parametrize("algorithm", ["PS256", "RS256"])
def test_a_certificate_assertion_gets_a_token_marked_as_one(algorithm: str) -> None:
    identity = platform({"clientId": CLIENT, "certificate": BOT_CERT})
    granted = identity.token(
        TENANT, assertion(algorithm=algorithm), endpoint=ENDPOINT, origin=ORIGIN
    )
    assert claims(granted["access_token"])["appidacr"] == "2"


@pytest.mark.parametrize(
    "form, code",
    [
        (assertion(OTHER_KEY), 700027),  # the right thumbprint, the wrong key's signature
        (assertion(OTHER_KEY, OTHER_DER), 700027),  # a certificate the app does not have
        (assertion(iss="someone-else"), 700021),
        (assertion(aud="https://login.microsoftonline.com/x/oauth2/v2.0/authorize"), 700023),
        (assertion(exp=int(time.time()) - 3600), 700024),
    ],
)
def test_a_bad_assertion_is_refused_with_entras_code(form: dict[str, str], code: int) -> None:
    identity = platform({"clientId": CLIENT, "certificate": BOT_CERT})
    assert refused(identity, form).code == code


def test_a_malformed_assertion_is_entras_error_not_a_crash() -> None:
    form = assertion()
    form["client_assertion"] = "not.a.jwt"
    assert refused(platform({"clientId": CLIENT, "certificate": BOT_CERT}), form).code == 50027


# --- registrations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, named",
    [
        ({"clientId": CLIENT, "secret": ""}, "'secret'"),
        ({"clientId": CLIENT, "roles": "Calls.Initiate.All"}, "'roles'"),
        ({"clientId": CLIENT, "certificate": "-----BEGIN CERTIFICATE-----\nxx\n"}, "PEM"),
        ({"clientId": CLIENT, "certificate": "/no/such/file.pem"}, "'certificate'"),
        ({"clientId": CLIENT, "sekret": "x"}, "'sekret'"),
        ({}, "'clientId'"),
    ],
)
def test_a_bad_app_is_a_400_naming_the_field(spec: dict[str, Any], named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        app_from_spec(spec)


def test_a_reset_restores_the_start_up_apps() -> None:
    apps = Apps([{"clientId": "a", "secret": "x"}])
    apps.register(app_from_spec({"secret": "y"}, "b"))
    assert [app.client_id for app in apps] == ["a", "b"]
    apps.reset()
    assert [app.client_id for app in apps] == ["a"]
    assert apps.get("b") is None


# --- the tokens Graph requests carry, under --auth strict (graph-identity-facts.md §6) ----------


def token_for(identity: IdentityPlatform, **form: str) -> str:
    granted = identity.token(TENANT, secret_form(**form), endpoint=ENDPOINT, origin=ORIGIN)
    return str(granted["access_token"])


def test_a_graph_token_speaks_for_its_app_with_its_roles() -> None:
    identity = platform({"clientId": CLIENT, "secret": "s3cret", "roles": ["Calls.Initiate.All"]})
    caller = identity.graph_caller(token_for(identity))
    assert (caller.app_id, caller.roles) == (CLIENT, frozenset({"Calls.Initiate.All"}))


async def test_an_expired_token_is_graphs_401_with_its_message() -> None:
    clock = ManualClock()
    identity = IdentityPlatform(Apps(), lambda: KEY, clock, tenant_id=TENANT, lifetime=60)
    token = token_for(identity)
    identity.graph_caller(token)
    await clock.advance(61)
    with pytest.raises(Unauthenticated, match="Lifetime validation failed, the token is expired"):
        identity.graph_caller(token)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda identity: "any-token", "CompactToken parsing failed"),
        (
            lambda identity: token_for(identity, scope="https://api.botframework.com/.default"),
            "Invalid audience",
        ),
        (
            lambda identity: jwt.encode(
                {"aud": "https://graph.microsoft.com"}, OTHER_KEY, algorithm="RS256"
            ),
            "Invalid signature",
        ),
    ],
)
def test_a_token_graph_cannot_use_is_its_401(make: Any, message: str) -> None:
    identity = platform()
    with pytest.raises(Unauthenticated, match=message) as raised:
        identity.graph_caller(make(identity))
    assert raised.value.status == 401 and raised.value.code == "InvalidAuthenticationToken"
    assert "authorization_uri" in raised.value.headers["WWW-Authenticate"]


def test_an_operation_needs_one_of_its_permissions() -> None:
    """call-transfer.md: Calls.Initiate.All; recordResponse: Calls.AccessMedia.All; reject:
    none; Calls.InitiateGroupCall.All includes Calls.Initiate.All."""
    with pytest.raises(Forbidden) as raised:
        TRANSFER.check_permitted(frozenset({"Calls.AccessMedia.All"}))
    assert (raised.value.status, raised.value.code) == (403, "7504")
    assert "Calls.Initiate.All" in raised.value.message
    TRANSFER.check_permitted(frozenset({"Calls.Initiate.All"}))
    TRANSFER.check_permitted(frozenset({"Calls.InitiateGroupCall.All"}))
    RECORD_RESPONSE.check_permitted(frozenset({"Calls.AccessMedia.All"}))
    with pytest.raises(Forbidden):
        RECORD_RESPONSE.check_permitted(frozenset({"Calls.Initiate.All"}))
    REJECT.check_permitted(frozenset())


# --- any form: Entra's error or a token, never anything else -------------------------------------

FORM_KEYS = (
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "client_assertion",
    "client_assertion_type",
)
BASIC = base64.b64encode(f"{CLIENT}:s3cret".encode()).decode()
FORM_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "client_credentials",
            CLIENT,
            "s3cret",
            GRAPH_SCOPE,
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "a.b.c",
            "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    form=st.dictionaries(st.sampled_from(FORM_KEYS), FORM_VALUES),
    tenant=st.sampled_from([TENANT, "common", "contoso.onmicrosoft.com", "x"]),
    registered=st.booleans(),
    # An Authorization: Basic header's credentials: none, anything (not ASCII, not base64), or
    # the registered client's.
    basic=st.one_of(st.none(), st.text(max_size=20), st.just(BASIC)),
)
def test_any_token_request_gets_a_token_or_entras_error(
    form: dict[str, str], tenant: str, registered: bool, basic: str | None
) -> None:
    apps = (
        ({"clientId": CLIENT, "secret": "s3cret", "certificate": BOT_CERT},) if registered else ()
    )
    identity = platform(*apps)
    try:
        granted = identity.token(tenant, form, endpoint=ENDPOINT, origin=ORIGIN, basic=basic)
    except EntraError as error:
        body = error.body()
        assert error.status in (400, 401) and body["error_codes"] == [error.code]
        assert body["error_description"].startswith(f"AADSTS{error.code}: ")
        return
    client = CLIENT if basic == BASIC else form["client_id"]
    assert claims(granted["access_token"])["appid"] == client
