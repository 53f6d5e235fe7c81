"""Change-notification subscriptions as Graph keeps them (graph-beyond-calls-facts.md §3).

A subscription watches one resource mockgraph serves: the call records
(``communications/callRecords``) or people's presence (``communications/presences/{id}``, or
``communications/presences?$filter=id in ('…','…')``). It is made only once its
``notificationUrl`` (and its ``lifecycleNotificationUrl``, if any) passed Graph's validation
handshake; it lives until its ``expirationDateTime`` (at most the resource's maximum from
now), which a ``PATCH`` renews. Before it ends, a subscription with a lifecycle URL is told
``reauthorizationRequired``; when it ends, it is gone, as Graph deletes it.

The checking order of a create or an update: the body's schema (in the declaration), then
the resource, the caller's permission for it, the change types, the expiration, the
clientState, the URLs, and the handshake last, as it is the only step that leaves mockgraph.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

from mockgraph.calling.shapes import checked
from mockgraph.clock import Clock, Timer, iso
from mockgraph.errors import BadRequest, Forbidden, GraphError
from mockgraph.identity.permissions import CALL_RECORDS_READ, PRESENCE_READ, check_permitted
from mockgraph.ids import new_id
from mockgraph.schema.validation import Shape
from mockgraph.subscriptions.encryption import BadCertificate, EncryptionCertificate

MINUTE = 60.0
SLACK = 1.0  # seconds past a resource's longest life still allowed: a clock's skew
MOST_USERS = 650  # ids in one presence subscription's filter, at most
MOST_CLIENT_STATE = 128  # characters
# When a subscription with a lifecycle URL is told to reauthorize: this long before it ends
# (Graph says only "before"; see the docs' "Where Graph is silent").
REAUTHORIZE_BEFORE = 10 * MINUTE
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
TLS_VERSIONS = ("v1_0", "v1_1", "v1_2", "v1_3")
PRESENCE_FILTER = re.compile(r"^id\s+in\s*\((?P<ids>.*)\)$", re.IGNORECASE)
QUOTED = re.compile(r"^'([^']+)'$")

Kind = Literal["callRecords", "presence"]
LifecycleEvent = Literal["reauthorizationRequired", "subscriptionRemoved", "missed"]


LIFECYCLE = Shape(
    {
        "title": "a lifecycle notification",
        "type": "object",
        "required": ["lifecycleEvent"],
        "properties": {"lifecycleEvent": {"enum": list(LIFECYCLE_EVENTS)}},
        "additionalProperties": False,
    }
)


class SubscriptionNotFound(GraphError):
    """A subscription id mockgraph does not have (never made, deleted, or expired)."""

    status = 404
    code = "ResourceNotFound"


class InvalidSubscription(BadRequest):
    """A create or update Graph refuses; Graph's subscription errors carry this code (its
    validation failures read ``{"code": "InvalidRequest", ...}`` in real answers)."""

    code = "InvalidRequest"


@dataclass(frozen=True)
class ResourceKind:
    """What Graph allows a subscription to one kind of resource."""

    name: Kind
    most_minutes: int  # the longest a subscription lives
    change_types: frozenset[str]
    permissions: frozenset[str]
    application: bool  # application permissions may subscribe (presence: delegated only)


KINDS = {
    "callRecords": ResourceKind(
        "callRecords", 4230, frozenset({"created", "updated"}), CALL_RECORDS_READ, True
    ),
    "presence": ResourceKind("presence", 60, frozenset({"updated"}), PRESENCE_READ, False),
}
SERVED_FORMS = (
    "communications/callRecords, communications/presences/{id} and "
    "communications/presences?$filter=id in ('{id}','{id}')"
)


@dataclass(frozen=True)
class Watched:
    """The resource a subscription watches: the call records, or some people's presence."""

    kind: ResourceKind
    users: tuple[str, ...] = ()

    @classmethod
    def of(cls, resource: str) -> Watched:
        """The resource string as Graph reads it (a leading slash or none; the presence
        filter's quotes and spaces), or the 400 naming the forms served."""
        path, _, query = resource.strip().lstrip("/").partition("?")
        if path.lower() == "communications/callrecords" and not query:
            return cls(KINDS["callRecords"])
        if path.lower().startswith("communications/presences/") and not query:
            user = path.split("/", 2)[2]
            if user and "/" not in user:
                return cls(KINDS["presence"], (unquote(user),))
        if path.lower() == "communications/presences" and query:
            return cls(KINDS["presence"], _filtered_users(query))
        raise InvalidSubscription(
            f"Resource '{resource}' is not supported for subscriptions. mockgraph serves "
            f"subscriptions to {SERVED_FORMS}."
        )

    def covers(self, user_id: str) -> bool:
        return user_id in self.users


def _filtered_users(query: str) -> tuple[str, ...]:
    name, _, value = unquote(query).partition("=")
    match = PRESENCE_FILTER.match(value.strip()) if name == "$filter" else None
    quoted = [QUOTED.match(item.strip()) for item in match["ids"].split(",")] if match else []
    if not quoted or not all(quoted):
        raise InvalidSubscription(
            f"The presence filter '{query}' is not supported: give "
            "$filter=id in ('{id}','{id}') with each user's id in single quotes."
        )
    users = tuple(dict.fromkeys(item[1] for item in quoted if item))
    if len(users) > MOST_USERS:
        raise InvalidSubscription(
            f"A presence subscription watches at most {MOST_USERS} users, not {len(users)}."
        )
    return users


@dataclass(frozen=True)
class Asked:
    """What a request asks of the subscriptions: the one its path names (or ""), its body,
    and who asks (``roles`` None: mockgraph does not check tokens, ``--auth stub``)."""

    subscription_id: str = ""
    body: Mapping[str, Any] = field(default_factory=dict)
    app_id: str = ""
    roles: AbstractSet[str] | None = None


@dataclass
class Subscription:
    id: str
    resource: str  # as the app gave it
    watched: Watched
    change_types: tuple[str, ...]
    notification_url: str
    lifecycle_url: str | None
    expires: float  # wall-clock seconds
    client_state: str | None
    application_id: str
    creator_id: str
    encryption_certificate: str | None
    encryption_certificate_id: str | None
    latest_tls: str
    certificate: EncryptionCertificate | None = None  # with includeResourceData
    needs_reauthorization: bool = False
    notifications: int = 0  # change notifications posted to it

    @property
    def include_resource_data(self) -> bool:
        return self.certificate is not None

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": ",".join(self.change_types),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": iso(self.expires),
            "creatorId": self.creator_id,
            "includeResourceData": self.include_resource_data,
            "latestSupportedTlsVersion": self.latest_tls,
            "encryptionCertificate": self.encryption_certificate,
            "encryptionCertificateId": self.encryption_certificate_id,
            "notificationUrlAppId": None,
        }

    def notification(self, change_type: str, resource: str, data: dict[str, Any]) -> dict[str, Any]:
        """One change notification of Graph's envelope (the webhooks pages' examples)."""
        return {
            "subscriptionId": self.id,
            "clientState": self.client_state,
            "changeType": change_type,
            "resource": resource,
            "subscriptionExpirationDateTime": _offset_form(self.expires),
            "resourceData": data,
        }

    def lifecycle(self, event: LifecycleEvent) -> dict[str, Any]:
        """A lifecycle notification: no resource, no resource data."""
        return {
            "subscriptionId": self.id,
            "subscriptionExpirationDateTime": _offset_form(self.expires),
            "clientState": self.client_state,
            "lifecycleEvent": event,
        }


def _offset_form(moment: float) -> str:
    """``2023-02-28T00:00:00.000+00:00``: how the notifications' examples write times."""
    return iso(moment).removesuffix("Z") + "+00:00"


class UsersWatch(Protocol):
    """What tells presence subscriptions of changes (``PresenceFeed``): told who is watched."""

    def watch(self, users: AbstractSet[str]) -> None: ...


# What delivers: POST ``body`` to ``url`` for a subscription (``lifecycle``: the event it
# tells, None for a change notification); journaled, retried, never raising.
Post = Callable[[str, str, dict[str, Any], str | None], None]
# The validation handshake with ``url``: None when it echoed the token, else why not.
Validate = Callable[[str], Awaitable[str | None]]


class Subscriptions:
    """Every subscription, with Graph's rules; ``post`` delivers what they are told and
    ``validate`` shakes hands with a URL before it is used."""

    def __init__(
        self,
        clock: Clock,
        *,
        validate: Validate,
        post: Post,
        tenant_id: str,
        app_id: str,
        allow_http: bool = False,
        token: Callable[[str], str] = lambda tenant_id: "",
    ) -> None:
        """``token``: a token signed by mockgraph's identity key, for a rich notification's
        ``validationTokens``."""
        self._clock = clock
        self._validate = validate
        self._post = post
        self._tenant_id = tenant_id
        self._app_id = app_id
        self._allow_http = allow_http
        self._token = token
        self._subscriptions: dict[str, Subscription] = {}
        self._timers: dict[str, list[Timer]] = {}
        self._presence: UsersWatch | None = None

    def feed_presence(self, feed: UsersWatch) -> None:
        self._presence = feed

    # --- Graph's operations ----------------------------------------------------------------

    async def create(self, asked: Asked) -> dict[str, Any]:
        body = asked.body
        resource = _text(body, "resource")
        watched = Watched.of(resource)
        _check_caller(watched.kind, asked.roles)
        change_types = _change_types(body, watched.kind)
        if body.get("expirationDateTime") is None:
            raise InvalidSubscription(
                "expirationDateTime is a required property for subscription creation."
            )
        expires = self._expiration(body["expirationDateTime"], watched.kind)
        client_state = _client_state(body)
        url = self._url(_text(body, "notificationUrl"), "notificationUrl")
        lifecycle = body.get("lifecycleNotificationUrl")
        if lifecycle is not None:
            lifecycle = self._url(str(lifecycle), "lifecycleNotificationUrl")
        tls = _tls_version(body)
        encrypt_for = _encryption(body)
        for where in (url, lifecycle):
            if where is not None:
                await self._handshake(where)
        subscription = Subscription(
            id=new_id(),
            resource=resource,
            watched=watched,
            change_types=change_types,
            notification_url=url,
            lifecycle_url=lifecycle,
            expires=expires,
            client_state=client_state,
            application_id=asked.app_id or self._app_id,
            creator_id=asked.app_id or self._app_id,
            encryption_certificate=body.get("encryptionCertificate"),
            encryption_certificate_id=body.get("encryptionCertificateId"),
            latest_tls=tls,
            certificate=encrypt_for,
        )
        self._subscriptions[subscription.id] = subscription
        self._plan(subscription)
        self._watch_users()
        return subscription.to_graph()

    def find(self, asked: Asked) -> list[dict[str, Any]]:
        """The caller's subscriptions (every one, when tokens are not checked)."""
        return [
            subscription.to_graph()
            for subscription in self._subscriptions.values()
            if asked.roles is None or subscription.application_id == asked.app_id
        ]

    def get(self, asked: Asked) -> dict[str, Any]:
        return self._find(asked.subscription_id).to_graph()

    async def update(self, asked: Asked) -> dict[str, Any]:
        """Renew (``expirationDateTime``) or move (``notificationUrl``, shaken hands with
        first); nothing else of a subscription changes."""
        subscription = self._find(asked.subscription_id)
        body = asked.body
        fixed = sorted(set(body) - {"expirationDateTime", "notificationUrl", "@odata.type"})
        if fixed:
            raise InvalidSubscription(
                f"Only expirationDateTime and notificationUrl of a subscription can be "
                f"updated, not {', '.join(fixed)}"
                + (
                    " (a lifecycleNotificationUrl is given when the subscription is created)."
                    if "lifecycleNotificationUrl" in fixed
                    else "."
                )
            )
        given = body.get("expirationDateTime")
        expires = None if given is None else self._expiration(given, subscription.watched.kind)
        url = None
        if "notificationUrl" in body:
            url = self._url(_text(body, "notificationUrl"), "notificationUrl")
            if url != subscription.notification_url:
                await self._handshake(url)
        if expires is not None:
            subscription.expires = expires
            subscription.needs_reauthorization = False
            self._plan(subscription)
        if url is not None:
            subscription.notification_url = url
        return subscription.to_graph()

    def delete(self, asked: Asked) -> None:
        self._end(self._find(asked.subscription_id).id)

    def reauthorize(self, asked: Asked) -> None:
        self._find(asked.subscription_id).needs_reauthorization = False

    # --- what tests and the inspector do -------------------------------------------------

    def known(self) -> list[dict[str, Any]]:
        """The control plane's view: every subscription, with what it was told."""
        return [
            {
                **subscription.to_graph(),
                "needsReauthorization": subscription.needs_reauthorization,
                "notifications": subscription.notifications,
            }
            for subscription in self._subscriptions.values()
        ]

    def tell(self, subscription_id: str, body: Mapping[str, Any]) -> None:
        """Send a lifecycle notification now, as a test asks (``{"lifecycleEvent": …}``;
        ``subscriptionRemoved`` also removes the subscription, as it does on Graph)."""
        event = checked(LIFECYCLE, body)["lifecycleEvent"]
        subscription = self._find(subscription_id)
        if subscription.lifecycle_url is None:
            raise BadRequest(
                f"Subscription '{subscription_id}' has no lifecycleNotificationUrl: Graph "
                "sends lifecycle notifications only to one given when it was created."
            )
        self._tell(subscription, event)
        if event == "subscriptionRemoved":
            self._end(subscription_id)

    def clear(self) -> None:
        for subscription_id in list(self._subscriptions):
            self._end(subscription_id)

    # --- what the resources tell them ------------------------------------------------------

    @property
    def watching_records(self) -> bool:
        return any(s.watched.kind.name == "callRecords" for s in self._subscriptions.values())

    def record_filed(self, record_id: str, version: int) -> None:
        """A call record became readable: ``created`` the first time, ``updated`` after."""
        change = "created" if version == 1 else "updated"
        resource = f"communications/callRecords/{record_id}"
        data = {
            # Spelled as the call-record notification's example spells it.
            "@odata.type": "#Microsoft.Graph.callrecord",
            "@odata.id": resource,
            "id": record_id,
        }
        for subscription in list(self._subscriptions.values()):
            if subscription.watched.kind.name == "callRecords" and change in (
                subscription.change_types
            ):
                self._change(subscription, change, resource, data)

    def presence_changed(self, user_id: str, availability: str, activity: str) -> None:
        """A watched user's presence shows something new: ``updated``, with the resource
        data (encrypted) to subscriptions that asked for it."""
        resource = f"communications/presences/{user_id}"
        data = {
            "@odata.id": f"users/{user_id}/presence",
            "@odata.type": "#microsoft.graph.presence",
            "id": user_id,
        }
        for subscription in list(self._subscriptions.values()):
            if not subscription.watched.covers(user_id):
                continue
            item = {
                **subscription.notification("updated", resource, data),
                "tenantId": self._tenant_id,
                "organizationId": self._tenant_id,  # the presence page's example has it
            }
            body: dict[str, Any] = {"value": [item]}
            if subscription.certificate is not None:
                full = {**data, "availability": availability, "activity": activity}
                item["encryptedContent"] = subscription.certificate.encrypt(full)
                body["validationTokens"] = [self._token(self._tenant_id)]
            subscription.notifications += 1
            self._post(subscription.id, subscription.notification_url, body, None)

    # --- the rules -----------------------------------------------------------------------

    def _find(self, subscription_id: str) -> Subscription:
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(
                f"Subscription '{subscription_id}' was not found: it was never made, was "
                "deleted, or expired."
            )
        return found

    def _expiration(self, given: Any, kind: ResourceKind) -> float:
        """When a subscription asked to end at ``given`` ends, by the resource's maximum."""
        try:
            moment = datetime.fromisoformat(str(given).replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InvalidSubscription(
                f"expirationDateTime must be an ISO 8601 time with its offset, such as "
                f"2026-12-04T16:00:00Z, not {given!r}."
            )
        expires = moment.timestamp()
        now = self._clock.wall()
        if expires <= now:
            raise InvalidSubscription(
                f"Subscription expiration must be in the future: {given} has passed."
            )
        if expires > now + kind.most_minutes * MINUTE + SLACK:
            raise InvalidSubscription(
                f"Subscription expiration can only be {kind.most_minutes} minutes in the "
                f"future for {kind.name} ({given} is later)."
            )
        return expires

    def _url(self, url: str, name: str) -> str:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return url
        if parts.scheme == "http" and parts.hostname and self._allow_http:
            return url
        raise InvalidSubscription(
            f"{name} must be an absolute https URL, not '{url}'. Graph sends change "
            "notifications over https only: serve the receiver with mockgraph's local "
            "authority (docs: how-to/subscriptions), or start mockgraph with "
            "--allow-http-webhooks."
        )

    async def _handshake(self, url: str) -> None:
        problem = await self._validate(url)
        if problem is not None:
            raise InvalidSubscription(problem)

    def _plan(self, subscription: Subscription) -> None:
        """Its timers: told to reauthorize before it ends (with a lifecycle URL), and gone
        when it ends."""
        for timer in self._timers.pop(subscription.id, ()):
            timer.cancel()
        left = subscription.expires - self._clock.wall()
        timers = [self._clock.call_later(left, lambda: self._expire(subscription.id))]
        if subscription.lifecycle_url is not None:
            timers.append(
                self._clock.call_later(
                    max(0.0, left - REAUTHORIZE_BEFORE),
                    lambda: self._remind(subscription.id),
                )
            )
        self._timers[subscription.id] = timers

    def _remind(self, subscription_id: str) -> None:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is not None:
            self._tell(subscription, "reauthorizationRequired")

    def _expire(self, subscription_id: str) -> None:
        subscription = self._subscriptions.get(subscription_id)
        # A renewal moves the end: the old timer may fire late on a loaded loop.
        if subscription is not None and subscription.expires <= self._clock.wall() + 0.001:
            self._end(subscription_id)

    def _end(self, subscription_id: str) -> None:
        ended = self._subscriptions.pop(subscription_id, None)
        for timer in self._timers.pop(subscription_id, ()):
            timer.cancel()
        if ended is not None and ended.watched.users:
            self._watch_users()

    def _watch_users(self) -> None:
        if self._presence is not None:
            watched = {user for s in self._subscriptions.values() for user in s.watched.users}
            self._presence.watch(watched)

    def _tell(self, subscription: Subscription, event: LifecycleEvent) -> None:
        if event == "reauthorizationRequired":
            subscription.needs_reauthorization = True
        if subscription.lifecycle_url is not None:
            item = {**subscription.lifecycle(event), "tenantId": self._tenant_id}
            self._post(subscription.id, subscription.lifecycle_url, {"value": [item]}, event)

    def _change(
        self, subscription: Subscription, change: str, resource: str, data: dict[str, Any]
    ) -> None:
        item = {**subscription.notification(change, resource, data), "tenantId": self._tenant_id}
        subscription.notifications += 1
        self._post(subscription.id, subscription.notification_url, {"value": [item]}, None)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise InvalidSubscription(f"{name} is a required property for subscription creation.")
    return str(value)


def _client_state(body: Mapping[str, Any]) -> str | None:
    given = body.get("clientState")
    if given is not None and len(str(given)) > MOST_CLIENT_STATE:
        raise InvalidSubscription(
            f"clientState is at most {MOST_CLIENT_STATE} characters, not {len(str(given))}."
        )
    return None if given is None else str(given)


def _tls_version(body: Mapping[str, Any]) -> str:
    given = body.get("latestSupportedTlsVersion") or "v1_2"
    if given not in TLS_VERSIONS:
        raise InvalidSubscription(
            f"latestSupportedTlsVersion must be one of {', '.join(TLS_VERSIONS)}, not {given!r}."
        )
    return str(given)


def _encryption(body: Mapping[str, Any]) -> EncryptionCertificate | None:
    """The certificate resource data is encrypted for, with ``includeResourceData``."""
    if not body.get("includeResourceData"):
        return None
    certificate, certificate_id = (
        body.get("encryptionCertificate"),
        body.get("encryptionCertificateId"),
    )
    if not (certificate and certificate_id):
        raise InvalidSubscription(
            "A subscription that includes resource data must give encryptionCertificate "
            "and encryptionCertificateId."
        )
    try:
        return EncryptionCertificate.parse(str(certificate), str(certificate_id))
    except BadCertificate as error:
        raise InvalidSubscription(str(error)) from None


def _change_types(body: Mapping[str, Any], kind: ResourceKind) -> tuple[str, ...]:
    given = [part.strip() for part in _text(body, "changeType").split(",")]
    wrong = [part for part in given if part not in kind.change_types]
    if wrong or not given:
        allowed = ", ".join(sorted(kind.change_types))
        raise InvalidSubscription(
            f"changeType '{','.join(wrong or given)}' is not supported for {kind.name}; "
            f"it supports {allowed}."
        )
    return tuple(dict.fromkeys(given))


def _check_caller(kind: ResourceKind, roles: AbstractSet[str] | None) -> None:
    """The resource's permission (``--auth strict``). Presence takes delegated permissions
    only, and every token mockgraph issues is an application's."""
    if roles is None:
        return
    if not kind.application:
        raise Forbidden(
            f"Subscriptions to {kind.name} take delegated permissions only "
            "(Presence.Read.All); application permissions are not supported."
        )
    check_permitted(f"a subscription to {kind.name}", kind.permissions, roles)
