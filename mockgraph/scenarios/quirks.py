"""Other spellings of a notification, on request: what real Graph sends is the default.

Each quirk gives the form of Microsoft's doc examples where they differ from real traffic
(README, "Where real Graph differs from its docs"):

* ``subCode``: ``resultInfo.subcode`` written ``subCode``, as every failure example in the
  transfer docs does (Graph's SDKs only read ``subcode``);
* ``code200``: a successful ``resultInfo.code`` of 0 written as 200, as the call-end table does;
* ``capitalChangeType``: ``Created``/``Updated``/``Deleted``, as one real payload had;
* ``noResource``: no legacy ``resource`` key beside ``resourceUrl``, as the answer and create
  pages show them (every captured notification has it);
* ``docsExamples``: ``noResource``, and the rest as the doc examples show it: call
  notifications without ``callChainId``, ``meetingCapability`` and ``coOrganizers``,
  ``resultInfo`` untyped, operation notifications with
  ``@odata.id`` and without the request's ``prompts``, participants with ``metadata: null``
  and without what only captures show (``endpointId``, ``languageId``, ``publishedStates``,
  ``meetingRole``, ``isIdentityAnonymized``);
* ``legacyResource``: the ``resource`` key, which every notification now has; accepted so that
  files written before it was the default still load.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockgraph.config import QUIRKS

__all__ = ["AFTER_SET_UP", "QUIRKS", "apply_quirks"]

# What real Graph adds to every call notification once the call is set up, but key presses
# (sambetts/graph-calling-bots captures). No Graph type of the call declares either; SDKs keep
# them as additional data.
AFTER_SET_UP: dict[str, Any] = {
    "meetingCapability": {"@odata.type": "#microsoft.graph.meetingCapability"},
    "coOrganizers": [],
}
CAPTURE_ONLY_PARTICIPANT = ("publishedStates", "meetingRole", "isIdentityAnonymized")
CAPTURE_ONLY_INFO = ("endpointId", "languageId")


def apply_quirks(body: dict[str, Any], quirks: Iterable[str]) -> dict[str, Any]:
    """``body`` (a commsNotifications envelope) respelled in place; returned for chaining."""
    wanted = set(quirks)
    if not wanted:
        return body
    docs = "docsExamples" in wanted
    for item in body.get("value", []):
        if "noResource" in wanted or docs:
            item.pop("resource", None)
        if "capitalChangeType" in wanted and isinstance(item.get("changeType"), str):
            item["changeType"] = item["changeType"][:1].upper() + item["changeType"][1:]
        data = item.get("resourceData")
        if docs:
            _as_documented(item, data)
        result = data.get("resultInfo") if isinstance(data, dict) else None
        if isinstance(result, dict):
            if "subCode" in wanted and "subcode" in result:
                result["subCode"] = result.pop("subcode")
            if "code200" in wanted and result.get("code") == 0:
                result["code"] = 200
    return body


def _as_documented(item: dict[str, Any], data: Any) -> None:
    if isinstance(data, list):  # a roster
        for participant in data:
            if isinstance(participant, dict):
                for key in CAPTURE_ONLY_PARTICIPANT:
                    participant.pop(key, None)
                for key in CAPTURE_ONLY_INFO:
                    participant.get("info", {}).pop(key, None)
                participant["metadata"] = None
        return
    if not isinstance(data, dict):
        return
    if isinstance(data.get("resultInfo"), dict):
        data["resultInfo"].pop("@odata.type", None)
    if "/operations/" in str(item.get("resourceUrl", "")):
        data["@odata.id"] = item["resourceUrl"]
        data.pop("prompts", None)
    elif data.get("@odata.type") == "#microsoft.graph.call":
        for key in ("callChainId", *AFTER_SET_UP):
            data.pop(key, None)
