"""Signing keys from files: PEM (PKCS#1 and PKCS#8) and JWK load and sign tokens that verify
against the served JWKS; a file with no usable key stops the start with exit 2 and one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND
from tests.test_cli import run

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, form: str, password: bytes = b""
) -> bytes:
    formats = {
        "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,  # BEGIN RSA PRIVATE KEY
        "pkcs8": serialization.PrivateFormat.PKCS8,  # BEGIN PRIVATE KEY
    }
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, formats[form], encryption)


def jwk_file(key: rsa.RSAPrivateKey) -> bytes:
    return json.dumps(RSAAlgorithm.to_jwk(key, as_dict=True)).encode()


@pytest.mark.parametrize("form", ["pkcs1", "pkcs8", "jwk"])
async def test_a_key_file_signs_tokens_the_served_jwks_verifies(tmp_path: Path, form: str) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(jwk_file(RSA_KEY) if form == "jwk" else pem(RSA_KEY, form))
    async with BotReceiver() as bot, MockGraph(signing_key=str(key_file), time_scale=0) as graph:
        call = await graph.seed_call(callback_uri=bot.callback_url)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{graph.url}/_mock/keys") as response:
                assert response.status == 200
                [served] = (await response.json())["keys"]
            url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
            async with http.post(url, json=BLIND, headers=AUTH) as response:
                assert response.status == 202
        await bot.wait_for(3)
    assert served["n"] == RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)["n"]
    for received in bot.received:
        token = received.headers["Authorization"].removeprefix("Bearer ")
        assert jwt.get_unverified_header(token)["kid"] == served["kid"]
        claims = jwt.decode(
            token, jwt.PyJWK(served).key, algorithms=["RS256"], options={"verify_aud": False}
        )
        assert claims["tid"]
    assert key_file.read_bytes() == (jwk_file(RSA_KEY) if form == "jwk" else pem(RSA_KEY, form))


PUBLIC_JWK = json.dumps(RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)).encode()
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# A JWK whose d is another key's: every member well formed, the parts disagree (RFC 8017, 3.2).
MISMATCHED_JWK = json.dumps(
    {
        **RSAAlgorithm.to_jwk(RSA_KEY, as_dict=True),
        "d": RSAAlgorithm.to_jwk(OTHER_KEY, as_dict=True)["d"],
    }
).encode()


def mismatched_pem() -> bytes:
    """PKCS#8 of a key whose CRT coefficient is off by one (qi * q mod p is not 1)."""
    good = RSA_KEY.private_numbers()
    bad = rsa.RSAPrivateNumbers(
        good.p, good.q, good.d, good.dmp1, good.dmq1, good.iqmp + 1, good.public_numbers
    )
    return pem(bad.private_key(unsafe_skip_rsa_key_validation=True), "pkcs8")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"not a key at all", "neither PEM"),
        (b"", "neither PEM"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "no PEM private key"),
        (pem(RSA_KEY, "pkcs8", password=b"secret"), "encrypted"),
        (pem(ec.generate_private_key(ec.SECP256R1()), "pkcs8"), "RS256 needs an RSA key"),
        (PUBLIC_JWK, "public JWK"),
        (b'{"kty": "EC", "crv": "P-256"}', "no RSA JWK"),
        (b'{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}', "no usable RSA JWK"),
        (b"[1, 2]", "no RSA JWK"),
        (MISMATCHED_JWK, "parts disagree"),
        (mismatched_pem(), "parts disagree"),
    ],
    ids=[
        "text",
        "empty",
        "bad-pem",
        "encrypted",
        "ec",
        "public",
        "ec-jwk",
        "broken-jwk",
        "list",
        "mismatched-jwk",
        "mismatched-pem",
    ],
)
async def test_a_file_with_no_usable_key_stops_the_start(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(content)
    code, out, err = await run("serve", "--port", "0", "--signing-key", str(key_file))
    assert (code, out) == (2, "")
    lines = [line for line in err.splitlines() if line.startswith("mockgraph:")]
    assert len(lines) == 1 and fragment in lines[0] and str(key_file) in lines[0], err
    assert "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="file modes")
async def test_an_unreadable_key_file_stops_the_start(tmp_path: Path) -> None:
    folder = tmp_path / "key.pem"
    folder.mkdir()  # a folder where a key file should be: it cannot be read
    code, _, err = await run("serve", "--port", "0", "--signing-key", str(folder))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


async def test_the_key_exists_before_the_first_request_is_served() -> None:
    """Issue 12, defect 4: the first notification of a process waited for its key."""
    async with MockGraph() as graph:
        await graph.health()  # the first request: served after the key is made
        assert graph.backend.signing.ready
