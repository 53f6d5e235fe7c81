"""https without ceremony (``--tls auto``): a local certificate authority, made once and kept in
a folder, and a certificate it signs for the loopback names, so that a bot trusts mockgraph
with one environment variable naming the authority's file.

Made with ``cryptography`` (a runtime dependency already): EC P-256 keys, which take
milliseconds to make. A folder that holds a usable authority keeps it, so the trust a user set
up once still holds; the server certificate is made again when it nears its end or does not
name the host mockgraph listens on.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

AUTHORITY_YEARS = 10
SERVER_DAYS = 365
RENEW_WITHIN = datetime.timedelta(days=7)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class LocalTlsError(ValueError):
    """A folder the local authority cannot be kept in, said in one line."""


@dataclass(frozen=True)
class TlsFiles:
    """What https is served with, and the file a client trusts it by."""

    cert: str
    key: str
    trust: str  # the authority's certificate (--tls auto), or the certificate itself


def default_folder() -> Path:
    """Where the authority is kept: $XDG_CACHE_HOME/mockgraph/tls, else ~/.cache/..."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "mockgraph" / "tls"


def local_tls(folder: Path, host: str) -> TlsFiles:
    """The authority in ``folder`` (made if it has none), and a server certificate it signed
    for the loopback names and ``host``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):
            authority, authority_key = _authority(folder)
            cert, key = folder / "server.pem", folder / "server-key.pem"
            names = (*LOOPBACK, host) if host not in ("0.0.0.0", "::", "") else LOOPBACK
            if not _serves(cert, key, names, authority):
                _write_server(cert, key, names, authority, authority_key)
    except OSError as error:
        raise LocalTlsError(
            f"cannot keep the local certificate authority in {str(folder)!r}: "
            f"{error.strerror or error} (--tls-dir names another folder)"
        ) from None
    return TlsFiles(str(cert), str(key), str(folder / "ca.pem"))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """The folder to this process alone while it reads or makes the files: several mockgraphs
    (pytest-xdist's workers) may start at once on one folder, and one must not read a key of
    one authority with the certificate of another. Where there is no ``fcntl`` (Windows),
    unlocked."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _authority(folder: Path) -> tuple[x509.Certificate, EllipticCurvePrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert, key = folder / "ca.pem", folder / "ca-key.pem"
    if cert.exists() and key.exists():
        try:
            loaded = x509.load_pem_x509_certificate(cert.read_bytes())
            private = serialization.load_pem_private_key(key.read_bytes(), password=None)
            if isinstance(private, ec.EllipticCurvePrivateKey) and (
                loaded.not_valid_after_utc - RENEW_WITHIN > _now()
            ):
                return loaded, private
        except ValueError:
            pass  # unreadable: make a new one
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockgraph local authority")])
    public = private.public_key()
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=365 * AUTHORITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(private, hashes.SHA256())
    )
    _write_key(key, private)
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").unlink(missing_ok=True)  # signed by the old authority
    return made, private


def _serves(cert: Path, key: Path, names: tuple[str, ...], authority: x509.Certificate) -> bool:
    """Whether the server certificate there is the authority's, names ``names``, and lasts."""
    from cryptography import x509

    if not (cert.exists() and key.exists()):
        return False
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
        alternatives = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return False
    named = {str(n) for n in alternatives.value.get_values_for_type(x509.DNSName)}
    named |= {str(n) for n in alternatives.value.get_values_for_type(x509.IPAddress)}
    return (
        loaded.issuer == authority.subject
        and set(names) <= named
        and loaded.not_valid_after_utc - RENEW_WITHIN > _now()
    )


def _write_server(
    cert: Path,
    key: Path,
    names: tuple[str, ...],
    authority: x509.Certificate,
    authority_key: EllipticCurvePrivateKey,
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    public = private.public_key()
    made = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockgraph")]))
        .issuer_name(authority.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    _write_key(key, private)
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))


def _write_key(path: Path, key: EllipticCurvePrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def tls_files(
    auto: bool, cert: str | None, key: str | None, folder: str | None, host: str
) -> TlsFiles | None:
    """What https is served with: the local authority's (``auto``), the certificate given,
    or nothing (http). ``LocalTlsError`` says why not."""
    if auto:
        if cert or key:
            raise LocalTlsError(
                "--tls auto makes its own certificate: give it, or --tls-cert and --tls-key, "
                "not both"
            )
        return local_tls(Path(folder) if folder else default_folder(), host)
    if cert and key:
        return TlsFiles(cert, key, trust=cert)
    return None
