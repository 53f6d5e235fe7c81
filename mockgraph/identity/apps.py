"""The applications the local identity platform knows: each with its secrets, the certificates
whose keys sign its client assertions, and the application permissions (app roles) it was
granted. With none registered, any client is welcome and gets every permission mockgraph
checks (calling, presence, call records, online meetings)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgraph.errors import BadRequest, ResourceNotFound
from mockgraph.identity.permissions import EVERY
from mockgraph.schema.validation import Shape

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

# An app's service principal object id, derived from its client id so that it is stable.
OBJECT_IDS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")

APP = Shape(
    {
        "title": "an app",
        "type": "object",
        "properties": {
            "clientId": {"type": "string", "minLength": 1, "pattern": "^[^/\\s]+$"},
            "displayName": {"type": "string"},
            "secret": {"type": "string", "minLength": 1},
            "certificate": {"type": "string", "minLength": 1},
            "roles": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
        "additionalProperties": False,
    }
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Certificate:
    """A registered certificate: what a client assertion's header names it by, and its key."""

    pem: str
    public_key: PublicKeyTypes
    x5t: str  # base64url SHA-1 of the DER
    x5t_s256: str  # base64url SHA-256 of the DER

    @classmethod
    def from_pem(cls, pem: str) -> Certificate:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise BadRequest(
                "'certificate' must be a PEM certificate (-----BEGIN CERTIFICATE-----), the "
                "public one registered for the app, not its private key."
            ) from None
        der = certificate.public_bytes(Encoding.DER)
        return cls(
            pem=pem,
            public_key=certificate.public_key(),
            x5t=_b64url(hashlib.sha1(der).digest()),
            x5t_s256=_b64url(hashlib.sha256(der).digest()),
        )

    def named_by(self, header: Mapping[str, Any]) -> bool:
        """Whether a JWT header names this certificate (``x5t#S256`` or ``x5t``; MSAL pads
        them with ``=``, RFC 7515 does not)."""
        s256, sha1 = header.get("x5t#S256"), header.get("x5t")
        return (isinstance(s256, str) and s256.rstrip("=") == self.x5t_s256) or (
            isinstance(sha1, str) and sha1.rstrip("=") == self.x5t
        )


@dataclass(frozen=True)
class App:
    """An application registration with its service principal in the tenant."""

    client_id: str
    display_name: str = ""
    secrets: tuple[str, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    # With no app registered, or none named for an app, a token carries every permission.
    roles: tuple[str, ...] = EVERY
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)  # as it was given

    @property
    def object_id(self) -> str:
        return str(uuid.uuid5(OBJECT_IDS, self.client_id))

    @property
    def has_credentials(self) -> bool:
        return bool(self.secrets or self.certificates)

    def to_json(self) -> dict[str, Any]:
        """As listed: the spec less its secret (a listing is not where secrets are read)."""
        shown = {key: value for key, value in self.spec.items() if key != "secret"}
        return {
            **shown,
            "clientId": self.client_id,
            "roles": list(self.roles),
            "hasSecret": bool(self.secrets),
        }


def app_from_spec(spec: Mapping[str, Any], client_id: str | None = None) -> App:
    """An app from its JSON form (``--app``, ``PUT /_mock/apps/{clientId}``); a 400 naming the
    field if it is wrong. ``certificate``: PEM text, or the path of a PEM file."""
    wrong = APP.problem(spec)
    if wrong is not None:
        raise BadRequest(f"{wrong}.")
    given = spec.get("clientId")
    if client_id is not None and given is not None and given != client_id:
        raise BadRequest(
            f"'clientId' {given!r} is not the path's {client_id!r}: the path names the app; "
            "leave 'clientId' out, or send the same."
        )
    client_id = client_id or given
    if not client_id:
        raise BadRequest("'clientId' is required: the app's application (client) id.")
    certificates: tuple[Certificate, ...] = ()
    if "certificate" in spec:
        certificates = (Certificate.from_pem(_pem_text(str(spec["certificate"]))),)
    return App(
        client_id=client_id,
        display_name=str(spec.get("displayName", "")),
        secrets=(str(spec["secret"]),) if "secret" in spec else (),
        certificates=certificates,
        roles=tuple(spec.get("roles", EVERY)),
        spec=dict(spec),
    )


def _pem_text(value: str) -> str:
    if "-----BEGIN" in value:
        return value
    try:
        return Path(value).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise BadRequest(
            f"'certificate': {value!r} is neither PEM text nor a readable PEM file ({reason})."
        ) from None


def app_option(value: Any) -> Mapping[str, Any]:
    """An app for ``--app`` (decoded JSON), checked as the control plane checks it."""
    if not isinstance(value, dict):
        raise ValueError(f"an app is a JSON object, not {json.dumps(value)}")
    try:
        app_from_spec(value)
    except BadRequest as error:
        raise ValueError(error.message) from None
    return value


class Apps:
    """The registered apps, by client id; ``start``: those of ``--app``, which a reset sets
    again."""

    def __init__(self, start: Iterable[Mapping[str, Any]] = ()) -> None:
        self._start = [app_from_spec(spec) for spec in start]
        self._apps: dict[str, App] = {}
        self.reset()

    @property
    def open(self) -> bool:
        """No app registered: any client gets a token with every permission (``EVERY``)."""
        return not self._apps

    def register(self, app: App) -> App:
        self._apps[app.client_id] = app
        return app

    def get(self, client_id: str) -> App | None:
        """The app, if registered; with none registered, any client id is an app with every
        calling permission and no credentials to check."""
        if self.open:
            return App(client_id)
        return self._apps.get(client_id)

    def remove(self, client_id: str) -> None:
        if self._apps.pop(client_id, None) is None:
            raise ResourceNotFound(f"No app '{client_id}' is registered.")

    def __iter__(self) -> Iterator[App]:
        return iter(list(self._apps.values()))

    def reset(self) -> None:
        """The start-up apps only."""
        self._apps = {app.client_id: app for app in self._start}
