"""A bot's own credentials against the local identity platform, with the real libraries and no
change but the authority and the base URL: MSAL, azure-identity (secret and certificate), and
msgraph-sdk's own authentication provider. mockgraph runs as a separate process over https, as
CI runs it, trusted the way the README says (SSL_CERT_FILE, REQUESTS_CA_BUNDLE).

Expectations: MSAL serves a token from its cache until less than 300 s are left
(graph-identity-facts.md §2.2); Entra's error codes for a wrong secret and an unknown app (§4);
a transfer's 202 (call-transfer.md)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from cryptography.hazmat.primitives import serialization
from msgraph import GraphServiceClient
from msgraph.generated.communications.calls.item.answer.answer_post_request_body import (
    AnswerPostRequestBody,
)
from msgraph.generated.communications.calls.item.transfer.transfer_post_request_body import (
    TransferPostRequestBody,
)
from msgraph.generated.models.identity import Identity
from msgraph.generated.models.identity_set import IdentitySet
from msgraph.generated.models.invitation_participant_info import InvitationParticipantInfo
from msgraph.generated.models.service_hosted_media_config import ServiceHostedMediaConfig

from mockgraph.testing import BotReceiver
from tests.docs import DOCS
from tests.test_cli import serving
from tests.test_identity import BOT_CERT, BOT_KEY

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "0a0a0a0a-1111-2222-3333-444444444444"
CERT_CLIENT = "0b0b0b0b-1111-2222-3333-444444444444"
SECRET = "s3cret-value"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The one variable per library that trusts mockgraph's certificate (README)."""
    cert, _ = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx (msgraph-sdk), ssl
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # requests (msal, azure-identity)
    yield


def apps(certificate_file: Path | None = None) -> list[str]:
    flags = ["--app", json.dumps({"clientId": CLIENT, "secret": SECRET, "displayName": "Bot"})]
    if certificate_file is not None:
        spec = {"clientId": CERT_CLIENT, "certificate": str(certificate_file)}
        flags += ["--app", json.dumps(spec)]
    return flags


@pytest.fixture
async def mockgraph(
    certificate: tuple[Path, Path], trusted: None, tmp_path: Path
) -> AsyncIterator[str]:
    cert, key = certificate
    public = tmp_path / "bot-cert.pem"
    public.write_text(BOT_CERT, encoding="ascii")
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--tenant-id", TENANT]
    # Strict: each Graph request below must carry the platform's token, with its permission.
    flags = ["--auth", "strict", "--time-scale", "0", *tls, *apps(public)]
    async with serving("--port", "0", *flags) as (_, url):
        yield url


async def test_msal_gets_a_token_then_serves_it_from_its_cache(mockgraph: str) -> None:
    app = msal.ConfidentialClientApplication(
        CLIENT,
        client_credential=SECRET,
        authority=f"{mockgraph}/{TENANT}",
        instance_discovery=False,
    )
    first = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    second = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert first["token_source"] == "identity_provider", first
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]
    claims = jwt.decode(first["access_token"], options={"verify_signature": False})
    assert (claims["appid"], claims["tid"], claims["aud"]) == (
        CLIENT,
        TENANT,
        "https://graph.microsoft.com",
    )


async def test_msal_can_ask_mockgraph_itself_for_instance_discovery(mockgraph: str) -> None:
    app = msal.ConfidentialClientApplication(
        CLIENT,
        client_credential=SECRET,
        authority=f"{mockgraph}/{TENANT}",
        instance_discovery=f"{mockgraph}/common/discovery/instance",
    )
    result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result


async def test_msal_gets_a_new_token_once_the_lifetime_has_run_down(
    certificate: tuple[Path, Path], trusted: None
) -> None:
    """MSAL treats a token with less than 300 s left as expired: a lifetime of 303 s lets the
    second request come from the cache and one 3.5 s later go to the platform again."""
    cert, key = certificate
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--token-lifetime", "303"]
    async with serving("--port", "0", *tls, *apps()) as (_, url):
        app = msal.ConfidentialClientApplication(
            CLIENT, client_credential=SECRET, authority=f"{url}/{TENANT}", instance_discovery=False
        )
        sources = []
        for pause in (0, 0, 3.5):
            await asyncio.sleep(pause)  # the lifetime is wall time, in MSAL and in the token
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
            sources.append(result["token_source"])
        assert sources == ["identity_provider", "cache", "identity_provider"]


async def seeded(url: str) -> str:
    # aiohttp makes its default TLS context when imported, before the test set SSL_CERT_FILE.
    trust = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    body = {"callbackUri": "http://127.0.0.1:9/"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/_mock/calls", json=body, ssl=trust) as response,
    ):
        assert response.status == 201
        return str((await response.json())["id"])


def transfer_body() -> TransferPostRequestBody:
    identity = IdentitySet(user=Identity(id="alice"))
    return TransferPostRequestBody(transfer_target=InvitationParticipantInfo(identity=identity))


@pytest.mark.parametrize("scopes", [[GRAPH_SCOPE], None])
async def test_msgraph_sdk_transfers_with_a_client_secret_credential(
    mockgraph: str, scopes: list[str] | None
) -> None:
    """With no scopes, Kiota asks for the request host's (https://127.0.0.1/.default)."""
    credential = ClientSecretCredential(
        TENANT, CLIENT, SECRET, authority=mockgraph, disable_instance_discovery=True
    )
    client = GraphServiceClient(credentials=credential, scopes=scopes)
    client.request_adapter.base_url = f"{mockgraph}/v1.0"
    call_id = await seeded(mockgraph)
    assert (
        await client.communications.calls.by_call_id(call_id).transfer.post(transfer_body()) is None
    )
    await close(client)


async def test_msgraph_sdk_transfers_with_a_certificate_credential(
    mockgraph: str, tmp_path: Path
) -> None:
    both = tmp_path / "bot.pem"
    private = BOT_KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    both.write_bytes(private + BOT_CERT.encode())
    credential = CertificateCredential(
        TENANT,
        CERT_CLIENT,
        certificate_path=str(both),
        authority=mockgraph,
        disable_instance_discovery=True,
    )
    token = await asyncio.to_thread(credential.get_token, GRAPH_SCOPE)
    assert jwt.decode(token.token, options={"verify_signature": False})["appidacr"] == "2"
    client = GraphServiceClient(credentials=credential, scopes=[GRAPH_SCOPE])
    client.request_adapter.base_url = f"{mockgraph}/v1.0"
    call_id = await seeded(mockgraph)
    assert (
        await client.communications.calls.by_call_id(call_id).transfer.post(transfer_body()) is None
    )
    await close(client)


@pytest.mark.parametrize(
    "client_id, secret, code",
    [
        (CLIENT, "wrong", "AADSTS7000215"),
        ("9f9f9f9f-0000-0000-0000-000000000000", SECRET, "AADSTS700016"),
    ],
)
async def test_azure_identity_reports_entras_error(
    mockgraph: str, client_id: str, secret: str, code: str
) -> None:
    credential = ClientSecretCredential(
        TENANT, client_id, secret, authority=mockgraph, disable_instance_discovery=True
    )
    with pytest.raises(ClientAuthenticationError, match=code):
        await asyncio.to_thread(credential.get_token, GRAPH_SCOPE)


@pytest.mark.parametrize(
    "data, content_type, error",
    [
        ("client_id=x&scope=y", "application/x-www-form-urlencoded", "invalid_request"),
        (
            "grant_type=password&client_id=x",
            "application/x-www-form-urlencoded",
            "unsupported_grant_type",
        ),
        ('{"grant_type": "client_credentials"}', "application/json", "invalid_request"),
        (
            "grant_type=client_credentials&client_id="
            + CLIENT
            + "&scope="
            + GRAPH_SCOPE
            + "&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            + "&client_assertion=%%%",
            "application/x-www-form-urlencoded",
            "invalid_client",
        ),
    ],
)
async def test_a_malformed_token_request_gets_entras_error_shape(
    mockgraph: str, certificate: tuple[Path, Path], data: str, content_type: str, error: str
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    url = f"{mockgraph}/{TENANT}/oauth2/v2.0/token"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=data, headers={"Content-Type": content_type}, ssl=trust) as response,
    ):
        body: dict[str, Any] = await response.json()
        assert response.status in (400, 401)
        assert response.headers["Cache-Control"] == "no-store, no-cache"
    assert body["error"] == error
    assert body["error_description"].startswith("AADSTS")
    assert {"error_codes", "timestamp", "trace_id", "correlation_id"} <= set(body)


async def close(client: GraphServiceClient) -> None:
    http = client.request_adapter._http_client
    await http.aclose()
    await http._transport.transport.aclose()


README = DOCS  # the README and the docs pages, where the examples live
[SNIPPET] = re.findall(
    r"<!-- runs in tests/test_identity_sdk.py -->\n```python\n(.*?)```", README, re.S
)


async def test_the_readmes_client_transfers_with_the_bots_own_secret(mockgraph: str) -> None:
    scope: dict[str, Any] = {}
    exec(SNIPPET, scope)
    client = scope["graph_client"](mockgraph, TENANT, CLIENT, SECRET)
    call_id = await seeded(mockgraph)
    await client.communications.calls.by_call_id(call_id).transfer.post(transfer_body())
    await close(client)


async def test_under_strict_auth_the_sdk_answers_and_transfers_with_its_own_credential(
    certificate: tuple[Path, Path], trusted: None, bot: BotReceiver
) -> None:
    cert, key = certificate
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--tenant-id", TENANT]
    async with serving("--port", "0", "--auth", "strict", "--time-scale", "0", *tls, *apps()) as (
        _,
        url,
    ):
        trust = ssl.create_default_context(cafile=str(cert))
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/_mock/calls/incoming", json={"callbackUri": bot.callback_url}, ssl=trust
            ) as response,
        ):
            call_id = str((await response.json())["id"])
        credential = ClientSecretCredential(
            TENANT, CLIENT, SECRET, authority=url, disable_instance_discovery=True
        )
        client = GraphServiceClient(credentials=credential, scopes=[GRAPH_SCOPE])
        client.request_adapter.base_url = f"{url}/v1.0"
        call = client.communications.calls.by_call_id(call_id)
        media = ServiceHostedMediaConfig()
        await call.answer.post(
            AnswerPostRequestBody(callback_uri=bot.callback_url, media_config=media)
        )
        await bot.wait_for(3)  # created, establishing, established
        assert await call.transfer.post(transfer_body()) is None
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{url}/_mock/journal?callId={call_id}", ssl=trust) as response,
        ):
            entries = (await response.json())["value"]
        requests = [e for e in entries if e["kind"] == "request"]
        assert [(e["status"], e["appId"]) for e in requests] == [(202, CLIENT), (202, CLIENT)]
        await close(client)


async def test_msal_trusts_tls_auto_by_the_authority_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "tls"
    flags = ["--tls", "auto", "--tls-dir", str(folder), *apps()]
    async with serving("--port", "0", *flags) as (_, url):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(folder / "ca.pem"))
        app = msal.ConfidentialClientApplication(
            CLIENT, client_credential=SECRET, authority=f"{url}/{TENANT}", instance_discovery=False
        )
        result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
        assert result["token_source"] == "identity_provider", result
