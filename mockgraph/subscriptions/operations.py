"""Every Graph subscription operation mockgraph serves, declared once: its path (under
``/v1.0`` and ``/beta``; reauthorize also by its qualified name), the Graph type its body is
checked against, its status and what it does (a ``Subscriptions`` method). The router, the
OpenAPI description and the docs' table read these.

The checking order is the calls': authentication, route and method, content type and size,
then in ``perform_checked``: the schema (400), then the operation (the subscription's 404,
the resource's permission (403), its rules' 400, the handshake's 400).

No permission is declared: a subscription needs its resource's, which only its body names
(``Subscriptions`` checks it, and Graph's pages list each resource's).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from mockgraph.calling.operations import Form
from mockgraph.resources import check_body, versioned_forms
from mockgraph.subscriptions.subscriptions import Asked, Subscriptions

SUBSCRIPTIONS = "/subscriptions"
SUBSCRIPTION = f"{SUBSCRIPTIONS}/{{subscriptionId}}"
SUBSCRIPTION_TYPE = "microsoft.graph.subscription"


@dataclass(frozen=True)
class SubscriptionOperation:
    name: str
    method: str
    path: str  # below the version
    perform: Callable[[Subscriptions, Asked], Any]  # a value, or an awaitable of one
    context: str  # the answer's @odata.context after $metadata#
    status: int = 200
    request: str | None = None  # the Graph type its body is checked against; None: no body
    collection: bool = False
    action: bool = False
    returns: str | None = SUBSCRIPTION_TYPE

    def forms(self) -> tuple[Form, ...]:
        return versioned_forms(self.method, (self.path,), action=self.action)

    def check_permitted(self, roles: AbstractSet[str]) -> None:
        pass  # the resource's permission, checked by Subscriptions once the body is read

    async def perform_checked(
        self,
        subscriptions: Subscriptions,
        version: str,
        asked: Asked,
        body: Mapping[str, Any] | None,
    ) -> Any:
        """The schema (400), then the operation."""
        check_body(version, self.request, body)
        result = self.perform(subscriptions, asked)
        return await result if inspect.isawaitable(result) else result


SUBSCRIPTION_OPERATIONS = (
    SubscriptionOperation(
        "createSubscription",
        "POST",
        SUBSCRIPTIONS,
        Subscriptions.create,
        "subscriptions/$entity",
        status=201,
        request=SUBSCRIPTION_TYPE,
    ),
    SubscriptionOperation(
        "listSubscriptions",
        "GET",
        SUBSCRIPTIONS,
        Subscriptions.find,
        "subscriptions",
        collection=True,
    ),
    SubscriptionOperation(
        "getSubscription", "GET", SUBSCRIPTION, Subscriptions.get, "subscriptions/$entity"
    ),
    SubscriptionOperation(
        "updateSubscription",
        "PATCH",
        SUBSCRIPTION,
        Subscriptions.update,
        "subscriptions/$entity",
        request=SUBSCRIPTION_TYPE,
    ),
    SubscriptionOperation(
        "deleteSubscription", "DELETE", SUBSCRIPTION, Subscriptions.delete, "", status=204
    ),
    SubscriptionOperation(
        "reauthorizeSubscription",
        "POST",
        f"{SUBSCRIPTION}/reauthorize",
        Subscriptions.reauthorize,
        "",
        status=204,
        action=True,
        returns=None,
    ),
)
