"""Signed notification tokens: RS256 JWTs (PyJWT), the RSA key that signs them
(``cryptography``), and its JWKS.

Both libraries are imported on first use, not at start-up: importing them takes longer than
the rest of ``mockgraph serve`` does to start (BENCHMARKS.md). Tokens are cached per tenant
until near their expiry, as a real service would, so signing is rare.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPrivateNumbers

TOKEN_LIFETIME = 3600  # seconds
TOKEN_REFRESH_MARGIN = 300  # re-sign when less than this is left
KEY_BITS = 2048


class KeyFileError(ValueError):
    """A ``--signing-key`` file that holds no usable key; the message is one line."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """The RSA private key that signs tokens."""

    private: RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS))

    @classmethod
    def for_process(cls) -> SigningKey:
        """One key made on first use and kept for the life of the process, so servers
        started one after another (a test suite's) share it."""
        global _process_key
        with _process_key_lock:
            if _process_key is None:
                _process_key = cls.generate()
            return _process_key

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """The private RSA key in ``path``: PEM (PKCS#1 ``BEGIN RSA PRIVATE KEY`` or PKCS#8
        ``BEGIN PRIVATE KEY``, unencrypted) or a private JWK. ``KeyFileError`` says why not."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise KeyFileError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
        if b"-----BEGIN" in data:
            return cls(_pem_key(data, path))
        return cls(_jwk_key(data, path))

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key in ``path``; a new one written there (as a private JWK) if there is none,
        so that a CI cache can keep one key."""
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        try:
            path.write_text(json.dumps(key.private_jwk(), indent=2) + "\n", encoding="utf-8")
            path.chmod(0o600)
        except OSError as error:
            raise KeyFileError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
        return key

    @cached_property
    def kid(self) -> str:
        """A key id derived from the public key: its RFC 7638 thumbprint (once: every token's
        header names it)."""
        public = self.public_numbers()
        members = json.dumps(
            {"e": public["e"], "kty": "RSA", "n": public["n"]}, separators=(",", ":")
        )
        return b64url(hashlib.sha256(members.encode()).digest())

    def public_numbers(self) -> dict[str, str]:
        from jwt.algorithms import RSAAlgorithm

        jwk: dict[str, str] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return jwk

    def public_jwk(self) -> dict[str, str]:
        public = self.public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": public["n"],
            "e": public["e"],
        }

    def private_jwk(self) -> dict[str, str]:
        from jwt.algorithms import RSAAlgorithm

        private: dict[str, str] = RSAAlgorithm.to_jwk(self.private, as_dict=True)
        return {**private, **self.public_jwk()}

    def encode(self, claims: dict[str, Any]) -> str:
        """``claims`` as an RS256 JWT whose header names this key."""
        import jwt

        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


def _pem_key(data: bytes, path: Path) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        # Checked below by _check_parts instead: see there.
        key = load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        raise KeyFileError(f"{str(path)!r} is an encrypted PEM key; give it unencrypted") from None
    except ValueError as error:
        reason = str(error).splitlines()[0] if str(error) else "unreadable"
        raise KeyFileError(
            f"{str(path)!r} holds no PEM private key mockgraph can read ({reason})"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{str(path)!r} holds a {type(key).__name__}; RS256 needs an RSA key")
    _check_parts(key.private_numbers(), path)
    return key


def _jwk_key(data: bytes, path: Path) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm
    from jwt.exceptions import InvalidKeyError

    try:
        jwk = json.loads(data)
    except ValueError:
        raise KeyFileError(
            f"{str(path)!r} is neither PEM (-----BEGIN ... PRIVATE KEY-----) nor a JSON JWK"
        ) from None
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
        raise KeyFileError(f"{str(path)!r} is no RSA JWK ('kty' must be 'RSA')")
    if "d" not in jwk:
        raise KeyFileError(f"{str(path)!r} is a public JWK; signing needs the private one ('d')")
    if all(isinstance(jwk.get(name), str) for name in FACTORED_JWK_MEMBERS):
        return _jwk_with_factors(jwk, path)
    try:  # no factors: PyJWT recovers them, and OpenSSL checks the key it makes
        key = RSAAlgorithm.from_jwk(jwk)
    except (InvalidKeyError, ValueError, TypeError) as error:
        raise KeyFileError(f"{str(path)!r} is no usable RSA JWK ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{str(path)!r} is a public JWK; signing needs the private one")
    return key


# A private RSA JWK that names its factors and CRT values (RFC 7518, 6.3.2).
FACTORED_JWK_MEMBERS = ("n", "e", "d", "p", "q", "dp", "dq", "qi")


def _jwk_with_factors(jwk: dict[str, Any], path: Path) -> RSAPrivateKey:
    """A private JWK that names its factors (as mockgraph writes them): the key, its parts
    checked by ``_check_parts``."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.utils import from_base64url_uint

    try:
        n, e, d, p, q, dp, dq, qi = (
            from_base64url_uint(jwk[name]) for name in FACTORED_JWK_MEMBERS
        )
    except (ValueError, TypeError) as error:  # binascii.Error is a ValueError
        raise KeyFileError(f"{str(path)!r} is no usable RSA JWK ({error})") from None
    numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n))
    _check_parts(numbers, path)
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _check_parts(numbers: RSAPrivateNumbers, path: Path) -> None:
    """A key file's RSA parts agree (RFC 8017, 3.2): n = pq, d inverts e modulo
    lcm(p - 1, q - 1), and the CRT exponents and coefficient derive from them. This stands in
    for OpenSSL's own check of a loaded key, whose primality tests of p and q took 36 of the
    37 ms a key file took to load, at the start of every plugin session (BENCHMARKS.md). A
    damaged or mismatched file fails here as it did there; only a key crafted with a
    composite factor would not."""
    public = numbers.public_numbers
    p, q, d, e = numbers.p, numbers.q, numbers.d, public.e
    agree = (
        p > 1
        and q > 1
        and p * q == public.n
        and 1 < e < public.n
        and d * e % math.lcm(p - 1, q - 1) == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and numbers.iqmp * q % p == 1
    )
    if not agree:
        raise KeyFileError(
            f"{str(path)!r} holds an RSA key whose parts disagree (n is not p*q, or d, dp, dq "
            "or qi is not derived from them)"
        )


_process_key: SigningKey | None = None
_process_key_lock = threading.Lock()


class TokenIssuer:
    """Makes the bearer tokens notifications carry; caches one per tenant."""

    def __init__(self, key: SigningKey, *, issuer: str, audience: str) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self._cache: dict[str, tuple[str, float]] = {}
        self._jwks = {"keys": [key.public_jwk()]}

    def token(self, tenant_id: str) -> str:
        now = time.time()
        cached = self._cache.get(tenant_id)
        if cached and cached[1] - now > TOKEN_REFRESH_MARGIN:
            return cached[0]
        issued = int(now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "tid": tenant_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME,
        }
        token = self.key.encode(claims)
        self._cache[tenant_id] = (token, issued + TOKEN_LIFETIME)
        return token

    def jwks(self) -> dict[str, Any]:
        return self._jwks
