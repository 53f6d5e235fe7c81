"""Resource data in change notifications, encrypted as Graph encrypts it for the app's
certificate (``changeNotificationEncryptedContent``, and "Set up change notifications that
include resource data"):

* a new 32-byte key for each notification; the data, the resource as JSON, encrypted with it
  by AES/CBC/PKCS5Padding, the first 16 bytes of the key as the initialization vector;
* ``dataKey``: that key encrypted with the certificate's public key,
  RSA/ECB/OAEPWithSHA1AndMGF1Padding;
* ``dataSignature``: HMAC-SHA256 of the encrypted bytes, keyed with the same key;
* ``encryptionCertificateThumbprint``: the certificate's SHA-1 thumbprint in hexadecimal.

Each value is base64. The primitives are ``cryptography``'s: nothing here is hand-made.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from dataclasses import dataclass
from hashlib import sha256
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

KEY_BYTES = 32
IV_BYTES = 16


class BadCertificate(ValueError):
    """An ``encryptionCertificate`` that is not an X.509 certificate with an RSA key."""


@dataclass(frozen=True)
class EncryptionCertificate:
    """The certificate an app gave to have resource data encrypted for it."""

    id: str  # encryptionCertificateId, as the app gave it
    thumbprint: str
    public_key: RSAPublicKey

    @classmethod
    def parse(cls, text: str, certificate_id: str) -> EncryptionCertificate:
        """The base64 of a DER certificate (what Graph's pages ask for), or PEM text."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

        try:
            if "-----BEGIN" in text:
                certificate = x509.load_pem_x509_certificate(text.encode())
            else:
                certificate = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
        except (ValueError, binascii.Error) as error:
            raise BadCertificate(
                f"encryptionCertificate must be the base64 of an X.509 certificate (DER): {error}"
            ) from None
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise BadCertificate("encryptionCertificate must hold an RSA public key.")
        thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()
        return cls(certificate_id, thumbprint, key)

    def encrypt(self, resource: dict[str, Any]) -> dict[str, str]:
        """``encryptedContent`` for ``resource``."""
        from cryptography.hazmat.primitives import hashes, padding
        from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        key = os.urandom(KEY_BYTES)
        padder = padding.PKCS7(algorithms.AES.block_size).padder()
        plain = padder.update(json.dumps(resource).encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:IV_BYTES])).encryptor()
        data = encryptor.update(plain) + encryptor.finalize()
        data_key = self.public_key.encrypt(
            key,
            asymmetric.OAEP(
                mgf=asymmetric.MGF1(algorithm=hashes.SHA1()),
                algorithm=hashes.SHA1(),
                label=None,
            ),
        )
        signature = hmac.new(key, data, sha256).digest()
        return {
            "data": base64.b64encode(data).decode(),
            "dataKey": base64.b64encode(data_key).decode(),
            "dataSignature": base64.b64encode(signature).decode(),
            "encryptionCertificateId": self.id,
            "encryptionCertificateThumbprint": self.thumbprint,
        }
