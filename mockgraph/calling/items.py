"""Graph's notification items, made as real Graph sends them, and what each changes in the call
or operation it is about as it goes out. Pure functions of a call and a step: no event loop,
no delivery (tests/test_items.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockgraph.calling.calls import Call, CommsOperation
from mockgraph.scenarios.quirks import AFTER_SET_UP


def app_resource(resource_url: str) -> str:
    """The legacy ``resource`` twin of a ``resourceUrl`` (``/app/calls/{id}/…``), which every
    notification captured from real Graph carries beside it."""
    return resource_url.replace("/communications/calls/", "/app/calls/", 1)


def _item(
    change_type: str, resource_url: str, resource_data: Any, rest: Mapping[str, Any]
) -> dict[str, Any]:
    item = {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change_type,
        "resource": app_resource(resource_url),
        "resourceUrl": resource_url,
        "resourceData": resource_data,
    }
    if rest:  # anything else the step sets overrides the envelope
        item.update(rest)
    return item


def _typed_result(resource_data: dict[str, Any]) -> None:
    """``resultInfo`` typed, as every captured one is (a new dict: the step's is shared)."""
    result = resource_data.get("resultInfo")
    if isinstance(result, dict) and "@odata.type" not in result:
        resource_data["resultInfo"] = {"@odata.type": "#microsoft.graph.resultInfo", **result}


def notification_item(
    target: Call, notify: Mapping[str, Any], cause: str, *, key_press: bool = False
) -> dict[str, Any]:
    """One commsNotification about ``target`` from a step's ``notify`` (changeType,
    resourceData, overrides), applied to the call as it goes out. As real Graph sends it:
    ``callChainId`` on all but a key press, ``direction`` on the one that establishes the
    call, ``meetingCapability`` and ``coOrganizers`` on those after it is set up,
    ``resultInfo`` typed."""
    rest = dict(notify)
    change_type = rest.pop("changeType")
    resource_data = {"@odata.type": "#microsoft.graph.call", **rest.pop("resourceData")}
    state = resource_data.get("state")
    before = target.state
    target.apply(resource_data, cause, change_type)
    properties = target.properties
    if "resultInfo" in resource_data:
        _typed_result(resource_data)
    # establishing may repeat the state a created call answered with; established only once
    if state == "establishing" or (state == "established" and before != "established"):
        if state == "established" and "direction" in properties:
            resource_data.setdefault("direction", properties["direction"])
    elif not key_press and change_type != "created":
        for key, value in AFTER_SET_UP.items():  # shared: quirks work on a copy
            if key not in resource_data:
                resource_data[key] = value
    if not key_press and "callChainId" in properties and "callChainId" not in resource_data:
        resource_data["callChainId"] = properties["callChainId"]
    return _item(change_type, target.resource_url, resource_data, rest)


def operation_item(operation: CommsOperation, notify: Mapping[str, Any]) -> dict[str, Any]:
    """One commsNotification about ``operation``, applied to it as it goes out: Graph's
    ``deleted`` one ends it."""
    rest = dict(notify)
    change_type = rest.pop("changeType")
    resource_data = {**operation.to_graph(), **rest.pop("resourceData")}
    operation.apply(resource_data, change_type)
    _typed_result(resource_data)
    return _item(change_type, operation.resource_url, resource_data, rest)


def tone_item(call: Call, tone_info: Mapping[str, Any]) -> dict[str, Any]:
    """The ``updated`` call notification of one key press."""
    resource_data = {"state": call.state, "toneInfo": dict(tone_info)}
    notify = {"changeType": "updated", "resourceData": resource_data}
    return notification_item(call, notify, "tone", key_press=True)


def roster_item(call: Call) -> dict[str, Any]:
    """The ``updated`` roster notification: every participant, as an array."""
    return _item("updated", call.roster_url, call.roster(), {})


def invitees_join(call: Call, request: Mapping[str, Any]) -> None:
    """An invite's participants join the call; with ``replacesCallId``, Graph reads only the
    first."""
    invitees = list(request.get("participants") or [])
    if invitees and invitees[0].get("replacesCallId"):
        invitees = invitees[:1]
    for invitee in invitees:
        call.admit(invitee.get("identity") or {})


def envelope(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.commsNotifications", "value": items}
