"""Subscriptions without HTTP: Graph's rules for a create and an update, the expiration
(graph-beyond-calls-facts.md §3.1-3.4, §3.7), the envelope of a call-record notification
(§3.5, the webhooks page's example) and lifecycle notifications, on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mockgraph.clock import ManualClock
from mockgraph.errors import BadRequest, Forbidden
from mockgraph.subscriptions.subscriptions import (
    Asked,
    SubscriptionNotFound,
    Subscriptions,
)

MINUTE = 60.0
URL = "https://bot.example/notify"
LIFECYCLE_URL = "https://bot.example/lifecycle"


class Wire:
    """What the subscriptions send and ask: handshakes, and POSTs."""

    def __init__(self) -> None:
        self.handshakes: list[str] = []
        self.posted: list[tuple[str, str, dict[str, Any], str | None]] = []
        self.refuse: str | None = None

    async def validate(self, url: str) -> str | None:
        self.handshakes.append(url)
        return self.refuse

    def post(self, subscription_id: str, url: str, body: dict[str, Any], event: str | None) -> None:
        self.posted.append((subscription_id, url, body, event))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1000.0)


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def subscriptions(clock: ManualClock, wire: Wire) -> Subscriptions:
    return Subscriptions(
        clock, validate=wire.validate, post=wire.post, tenant_id="tenant-1", app_id="app-1"
    )


def at(clock: ManualClock, minutes: float) -> str:
    moment = datetime.fromtimestamp(clock.wall() + minutes * MINUTE, UTC)
    return moment.isoformat().replace("+00:00", "Z")


def body(clock: ManualClock, **given: Any) -> dict[str, Any]:
    return {
        "changeType": "created",
        "notificationUrl": URL,
        "resource": "/communications/callRecords",
        "expirationDateTime": at(clock, 60),
        "clientState": "secretClientState",
        **given,
    }


async def test_a_subscription_is_made_after_its_urls_pass_the_handshake(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    made = await subscriptions.create(
        Asked(body=body(clock, lifecycleNotificationUrl=LIFECYCLE_URL))
    )
    assert wire.handshakes == [URL, LIFECYCLE_URL]  # both are validated (W-valid, W-life)
    assert made["resource"] == "/communications/callRecords"
    assert made["changeType"] == "created"
    assert made["clientState"] == "secretClientState"
    assert made["applicationId"] == "app-1"
    assert made["expirationDateTime"].endswith("Z")
    assert subscriptions.get(Asked(made["id"]))["id"] == made["id"]


async def test_a_failed_handshake_makes_nothing(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    wire.refuse = "Subscription validation request timed out."
    with pytest.raises(BadRequest, match="timed out") as refused:
        await subscriptions.create(Asked(body=body(clock)))
    assert refused.value.code == "InvalidRequest"
    assert subscriptions.find(Asked()) == []


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"resource": "/me/messages"}, "not supported for subscriptions"),
        ({"changeType": "deleted"}, "changeType 'deleted' is not supported for callRecords"),
        ({"expirationDateTime": None}, "expirationDateTime is a required property"),
        ({"expirationDateTime": "tomorrow"}, "ISO 8601"),
        ({"expirationDateTime": "2026-12-04T10:00:00"}, "with its offset"),
        ({"clientState": "x" * 129}, "at most 128 characters"),
        ({"notificationUrl": "http://bot.example/notify"}, "must be an absolute https URL"),
        ({"lifecycleNotificationUrl": "ftp://x"}, "lifecycleNotificationUrl must be"),
        ({"includeResourceData": True}, "encryptionCertificate"),
    ],
)
async def test_what_graph_refuses(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire, given: Any, said: str
) -> None:
    with pytest.raises(BadRequest, match=said):
        await subscriptions.create(Asked(body=body(clock, **given)))
    assert wire.handshakes == []  # refused before anything leaves mockgraph


@pytest.mark.parametrize(
    ("resource", "minutes", "allowed"),
    [
        ("communications/callRecords", 4230, True),  # W-cr: under 3 days
        ("communications/callRecords", 4231, False),
        ("/communications/presences/u1", 60, True),  # W-pres: an hour
        ("/communications/presences/u1", 61, False),
    ],
)
async def test_each_resource_has_its_longest_life(
    subscriptions: Subscriptions, clock: ManualClock, resource: str, minutes: int, allowed: bool
) -> None:
    change = "updated" if "presences" in resource else "created"
    asked = Asked(
        body=body(
            clock, resource=resource, changeType=change, expirationDateTime=at(clock, minutes)
        )
    )
    if allowed:
        await subscriptions.create(asked)
    else:
        with pytest.raises(
            BadRequest, match=f"{'60' if 'presences' in resource else '4230'} minutes"
        ):
            await subscriptions.create(asked)


async def test_an_expiration_in_the_past_is_refused(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    with pytest.raises(BadRequest, match="in the future"):
        await subscriptions.create(Asked(body=body(clock, expirationDateTime=at(clock, -1))))


async def test_the_presence_filter_form_and_its_limit(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    ids = ",".join(f"'u{n}'" for n in range(650))
    resource = f"/communications/presences?$filter=id in ({ids})"
    await subscriptions.create(Asked(body=body(clock, resource=resource, changeType="updated")))
    too_many = ",".join(f"'u{n}'" for n in range(651))
    with pytest.raises(BadRequest, match="at most 650"):
        await subscriptions.create(
            Asked(
                body=body(
                    clock,
                    resource=f"/communications/presences?$filter=id in ({too_many})",
                    changeType="updated",
                )
            )
        )


async def test_presence_takes_delegated_permissions_only(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    asked = Asked(
        body=body(clock, resource="/communications/presences/u1", changeType="updated"),
        app_id="app-1",
        roles=frozenset({"Presence.Read.All"}),
    )
    with pytest.raises(Forbidden, match="delegated"):  # W-pres: Application "Not supported"
        await subscriptions.create(asked)


async def test_call_records_need_their_permission(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    with pytest.raises(Forbidden, match=r"CallRecords\.Read\.All"):
        await subscriptions.create(Asked(body=body(clock), roles=frozenset({"Calls.Initiate.All"})))
    made = await subscriptions.create(
        Asked(body=body(clock), app_id="app-2", roles=frozenset({"CallRecords.Read.All"}))
    )
    assert made["applicationId"] == "app-2"


async def test_a_filed_record_is_told_in_graphs_envelope(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    made = await subscriptions.create(Asked(body=body(clock, changeType="created,updated")))
    subscriptions.record_filed("chain-1", 1)
    subscriptions.record_filed("chain-1", 2)
    [(sid, url, first, event), (_, _, second, _)] = wire.posted
    assert (sid, url, event) == (made["id"], URL, None)
    [item] = first["value"]
    # The call-record notification example of the webhooks page (W-cr), field by field.
    assert item == {
        "subscriptionId": made["id"],
        "clientState": "secretClientState",
        "changeType": "created",
        "resource": "communications/callRecords/chain-1",
        "subscriptionExpirationDateTime": item["subscriptionExpirationDateTime"],
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.callrecord",
            "@odata.id": "communications/callRecords/chain-1",
            "id": "chain-1",
        },
        "tenantId": "tenant-1",
    }
    assert item["subscriptionExpirationDateTime"].endswith("+00:00")
    assert second["value"][0]["changeType"] == "updated"


async def test_only_the_change_types_asked_for_are_told(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    await subscriptions.create(Asked(body=body(clock, changeType="updated")))
    subscriptions.record_filed("chain-1", 1)
    assert wire.posted == []
    assert subscriptions.watching_records  # it watches, but was not asked for created


async def test_renewal_moves_the_end_and_an_unrenewed_one_is_gone(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    made = await subscriptions.create(Asked(body=body(clock, expirationDateTime=at(clock, 30))))
    await clock.advance(20 * MINUTE)
    renewed = await subscriptions.update(
        Asked(made["id"], body={"expirationDateTime": at(clock, 30)})
    )
    assert renewed["expirationDateTime"] != made["expirationDateTime"]
    await clock.advance(20 * MINUTE)  # past the first end: still there
    assert subscriptions.get(Asked(made["id"]))
    await clock.advance(11 * MINUTE)  # past the renewed end: Graph deletes it
    with pytest.raises(SubscriptionNotFound):
        subscriptions.get(Asked(made["id"]))


async def test_reauthorization_is_asked_before_the_end(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    made = await subscriptions.create(
        Asked(body=body(clock, lifecycleNotificationUrl=LIFECYCLE_URL))
    )
    await clock.advance(49 * MINUTE)
    assert wire.posted == []
    await clock.advance(1 * MINUTE + 1)  # ten minutes before its end (and a second)
    [(sid, url, lifecycle, event)] = wire.posted
    assert (sid, url, event) == (made["id"], LIFECYCLE_URL, "reauthorizationRequired")
    # The lifecycle payload of W-life: no resource, no resource data.
    assert set(lifecycle["value"][0]) == {
        "subscriptionId",
        "subscriptionExpirationDateTime",
        "tenantId",
        "clientState",
        "lifecycleEvent",
    }
    assert subscriptions.known()[0]["needsReauthorization"] is True
    subscriptions.reauthorize(Asked(made["id"]))
    assert subscriptions.known()[0]["needsReauthorization"] is False


async def test_an_update_changes_only_what_graph_lets_it(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    made = await subscriptions.create(Asked(body=body(clock)))
    with pytest.raises(BadRequest, match="given when the subscription is created"):
        await subscriptions.update(
            Asked(made["id"], body={"lifecycleNotificationUrl": LIFECYCLE_URL})
        )
    with pytest.raises(BadRequest, match="4230 minutes"):
        await subscriptions.update(Asked(made["id"], body={"expirationDateTime": at(clock, 5000)}))
    moved = await subscriptions.update(
        Asked(made["id"], body={"notificationUrl": "https://elsewhere.example/n"})
    )
    assert moved["notificationUrl"] == "https://elsewhere.example/n"
    assert wire.handshakes[-1] == "https://elsewhere.example/n"  # the new URL shakes hands


async def test_a_lifecycle_event_on_demand(
    subscriptions: Subscriptions, clock: ManualClock, wire: Wire
) -> None:
    plain = await subscriptions.create(Asked(body=body(clock)))
    with pytest.raises(BadRequest, match="no lifecycleNotificationUrl"):
        subscriptions.tell(plain["id"], {"lifecycleEvent": "reauthorizationRequired"})
    made = await subscriptions.create(
        Asked(body=body(clock, lifecycleNotificationUrl=LIFECYCLE_URL))
    )
    with pytest.raises(BadRequest, match="lifecycleEvent"):
        subscriptions.tell(made["id"], {"lifecycleEvent": "reauthorisationRequired"})
    subscriptions.tell(made["id"], {"lifecycleEvent": "subscriptionRemoved"})
    assert wire.posted[-1][3] == "subscriptionRemoved"
    with pytest.raises(SubscriptionNotFound):
        subscriptions.get(Asked(made["id"]))


async def test_delete_and_an_unknown_id(subscriptions: Subscriptions, clock: ManualClock) -> None:
    made = await subscriptions.create(Asked(body=body(clock)))
    subscriptions.delete(Asked(made["id"]))
    with pytest.raises(SubscriptionNotFound):
        subscriptions.delete(Asked(made["id"]))


# --- presence ----------------------------------------------------------------------------


def rsa_certificate() -> tuple[Any, str]:
    """An app's key and the base64 of its self-signed certificate (DER), as the app gives it."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return key, base64.b64encode(der).decode()


def decrypted(key: Any, content: dict[str, str]) -> Any:
    """What an app does with encryptedContent, step by step as Graph's page on resource data
    says: the key by RSA-OAEP (SHA-1), the signature checked by HMAC-SHA256, then AES-CBC with
    the key's first 16 bytes as the IV, and PKCS7 unpadding."""
    import base64
    import hashlib
    import hmac
    import json

    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    oaep = asymmetric.OAEP(
        mgf=asymmetric.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None
    )
    symmetric = key.decrypt(base64.b64decode(content["dataKey"]), oaep)
    data = base64.b64decode(content["data"])
    signature = hmac.new(symmetric, data, hashlib.sha256).digest()
    assert base64.b64encode(signature).decode() == content["dataSignature"]
    decryptor = Cipher(algorithms.AES(symmetric), modes.CBC(symmetric[:16])).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())


@pytest.fixture
def presences(clock: ManualClock) -> Any:
    from mockgraph.presence.presences import CallPresence, Presences

    return Presences(clock, CallPresence(()))


@pytest.fixture
def feeding(subscriptions: Subscriptions, presences: Any, clock: ManualClock) -> Any:
    from mockgraph.calling.calls import CallRegistry
    from mockgraph.subscriptions.presence_feed import PresenceFeed

    feed = PresenceFeed(clock, presences, CallRegistry(100), subscriptions.presence_changed)
    subscriptions.feed_presence(feed)
    return feed


def presence_body(clock: ManualClock, resource: str = "/communications/presences/ann") -> Any:
    return body(clock, resource=resource, changeType="updated")


async def test_a_presence_change_is_told(
    subscriptions: Subscriptions, presences: Any, clock: ManualClock, wire: Wire, feeding: Any
) -> None:
    presences.add_user("ann")
    presences.add_user("bob")
    made = await subscriptions.create(Asked(body=presence_body(clock)))
    presences.set_presence(
        "bob", {"sessionId": "a1", "availability": "Busy", "activity": "InACall"}
    )
    assert wire.posted == []  # bob is not watched
    available = {"sessionId": "a1", "availability": "Available", "activity": "Available"}
    presences.set_presence("ann", available)
    presences.set_presence("ann", available)  # no change shown: nothing told
    [(sid, _, sent, _)] = wire.posted
    [item] = sent["value"]
    assert sid == made["id"]
    # The presence notification example (W-pres).
    assert item["resource"] == "communications/presences/ann"
    assert item["changeType"] == "updated"
    assert item["resourceData"] == {
        "@odata.id": "users/ann/presence",
        "@odata.type": "#microsoft.graph.presence",
        "id": "ann",
    }
    assert "encryptedContent" not in item and "validationTokens" not in sent
    await clock.advance(5 * MINUTE)  # the session's default PT5M ends: Offline again
    assert len(wire.posted) == 2


async def test_resource_data_is_encrypted_for_the_apps_certificate(
    subscriptions: Subscriptions, presences: Any, clock: ManualClock, wire: Wire, feeding: Any
) -> None:
    key, certificate = rsa_certificate()
    presences.add_user("ann")
    await subscriptions.create(
        Asked(
            body={
                **presence_body(clock, "/communications/presences?$filter=id in ('ann','bob')"),
                "includeResourceData": True,
                "encryptionCertificate": certificate,
                "encryptionCertificateId": "my-cert",
            }
        )
    )
    presences.set_presence(
        "ann", {"sessionId": "a1", "availability": "Busy", "activity": "InAConferenceCall"}
    )
    [(_, _, sent, _)] = wire.posted
    [item] = sent["value"]
    content = item["encryptedContent"]
    assert content["encryptionCertificateId"] == "my-cert"
    assert len(content["encryptionCertificateThumbprint"]) == 40  # SHA-1, in hexadecimal
    assert decrypted(key, content) == {
        "@odata.id": "users/ann/presence",
        "@odata.type": "#microsoft.graph.presence",
        "id": "ann",
        "availability": "Busy",
        "activity": "InAConferenceCall",
    }
    assert isinstance(sent["validationTokens"], list)


async def test_a_certificate_that_is_not_one_is_refused(
    subscriptions: Subscriptions, clock: ManualClock
) -> None:
    asked = Asked(
        body={
            **presence_body(clock),
            "includeResourceData": True,
            "encryptionCertificate": "bm90IGEgY2VydGlmaWNhdGU=",
            "encryptionCertificateId": "x",
        }
    )
    with pytest.raises(BadRequest, match=r"X\.509"):
        await subscriptions.create(asked)


async def test_the_feed_stops_watching_calls_when_no_one_is_watched(
    subscriptions: Subscriptions, clock: ManualClock, feeding: Any
) -> None:
    made = await subscriptions.create(Asked(body=presence_body(clock)))
    assert feeding.watching_calls
    subscriptions.delete(Asked(made["id"]))
    assert not feeding.watching_calls
