"""Signed notification tokens: RS256 JWTs, the key that signs them, and its JWKS.

RSA here is plain modular arithmetic on Python integers (PKCS#1 v1.5 signatures with
SHA-256), so the core needs no crypto dependency. It is a test double's key: never use it
for anything that needs real secrecy. Tokens are cached per audience and tenant until near
their expiry, as a real service would, so signing is rare.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLIC_EXPONENT = 65537
# DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]
TOKEN_LIFETIME = 3600  # seconds
TOKEN_REFRESH_MARGIN = 300  # re-sign when less than this is left


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_to_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64_to_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


# FIPS 186-4, appendix C.3, table C.2: 5 Miller-Rabin rounds give an error below 2^-100 for
# random 1024-bit candidates (the primes of a 2048-bit key); adversarial inputs need more.
MILLER_RABIN_ROUNDS = 5


def _is_probable_prime(candidate: int, rounds: int = MILLER_RABIN_ROUNDS) -> bool:
    if candidate < 2:
        return False
    for prime in SMALL_PRIMES:
        if candidate % prime == 0:
            return candidate == prime
    odd, twos = candidate - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for _ in range(rounds):
        witness = pow(secrets.randbelow(candidate - 3) + 2, odd, candidate)
        if witness in (1, candidate - 1):
            continue
        for _ in range(twos - 1):
            witness = pow(witness, 2, candidate)
            if witness == candidate - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        # top two bits set so that p*q has exactly 2*bits bits; odd
        candidate = secrets.randbits(bits) | (0b11 << (bits - 2)) | 1
        if candidate % PUBLIC_EXPONENT != 1 and _is_probable_prime(candidate):
            return candidate


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key with the CRT values that make signing fast."""

    n: int
    e: int
    d: int
    p: int
    q: int

    @classmethod
    def generate(cls, bits: int = 2048) -> SigningKey:
        while True:
            p, q = _prime(bits // 2), _prime(bits // 2)
            if p == q:
                continue
            totient = math.lcm(p - 1, q - 1)
            if math.gcd(PUBLIC_EXPONENT, totient) == 1:
                d = pow(PUBLIC_EXPONENT, -1, totient)
                return cls(n=p * q, e=PUBLIC_EXPONENT, d=d, p=p, q=q)

    @classmethod
    def for_process(cls) -> SigningKey:
        """One key made on first use and kept for the life of the process, so servers
        started one after another (a test suite's) do not each pay for a new key."""
        global _process_key
        with _process_key_lock:
            if _process_key is None:
                _process_key = cls.generate()
            return _process_key

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> SigningKey:
        """A key from a private JWK (``kty: RSA`` with ``n, e, d, p, q``)."""
        missing = [name for name in ("n", "e", "d", "p", "q") if name not in jwk]
        if jwk.get("kty") != "RSA" or missing:
            raise ValueError(f"not a private RSA JWK (missing: {', '.join(missing) or 'kty'})")
        key = cls(*(_b64_to_int(jwk[name]) for name in ("n", "e", "d", "p", "q")))
        if key.p * key.q != key.n or pow(pow(2, key.e, key.n), key.d, key.n) != 2:
            raise ValueError("the JWK's numbers do not make an RSA key")
        return key

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key in ``path`` (a private JWK); a new one written there if it does not exist."""
        if path.exists():
            return cls.from_jwk(json.loads(path.read_text(encoding="utf-8")))
        key = cls.generate()
        path.write_text(json.dumps(key.private_jwk(), indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)
        return key

    @property
    def kid(self) -> str:
        """A key id derived from the public key (the RFC 7638 thumbprint)."""
        members = json.dumps(
            {"e": _int_to_b64(self.e), "kty": "RSA", "n": _int_to_b64(self.n)},
            separators=(",", ":"),
        )
        return b64url(hashlib.sha256(members.encode()).digest())

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _int_to_b64(self.n),
            "e": _int_to_b64(self.e),
        }

    def private_jwk(self) -> dict[str, str]:
        return {
            **self.public_jwk(),
            **{name: _int_to_b64(getattr(self, name)) for name in ("d", "p", "q")},
        }

    def sign(self, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256."""
        size = (self.n.bit_length() + 7) // 8
        digest_info = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        encoded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        m = int.from_bytes(encoded, "big")
        # Chinese remainder theorem: two half-size exponentiations instead of one full one.
        s_p = pow(m, self.d % (self.p - 1), self.p)
        s_q = pow(m, self.d % (self.q - 1), self.q)
        h = (pow(self.q, -1, self.p) * (s_p - s_q)) % self.p
        return (s_q + h * self.q).to_bytes(size, "big")


_process_key: SigningKey | None = None
_process_key_lock = threading.Lock()


def encode_jwt(claims: dict[str, Any], key: SigningKey) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


class TokenIssuer:
    """Makes the bearer tokens notifications carry; caches one per (audience, tenant)."""

    def __init__(self, key: SigningKey, *, issuer: str, audience: str) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self._cache: dict[str, tuple[str, float]] = {}

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
        token = encode_jwt(claims, self.key)
        self._cache[tenant_id] = (token, issued + TOKEN_LIFETIME)
        return token

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}
