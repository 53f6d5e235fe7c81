"""Microsoft's own example spellings, on request: the schema's form is the default.

* ``subCode``: ``resultInfo.subcode`` written ``subCode``, as every failure example in the
  transfer docs does (Graph's SDKs only read ``subcode``);
* ``code200``: a successful ``resultInfo.code`` of 0 written as 200, as the call-end table does;
* ``legacyResource``: the legacy ``resource`` key (``/app/calls/{id}``) beside ``resourceUrl``,
  as real payloads in the wild carry;
* ``capitalChangeType``: ``Created``/``Updated``/``Deleted``, as one real payload had.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockgraph.config import QUIRKS

__all__ = ["QUIRKS", "apply_quirks"]


def apply_quirks(body: dict[str, Any], quirks: Iterable[str]) -> dict[str, Any]:
    """``body`` (a commsNotifications envelope) respelled in place; returned for chaining."""
    wanted = set(quirks)
    if not wanted:
        return body
    for item in body.get("value", []):
        if "legacyResource" in wanted:
            item["resource"] = str(item.get("resourceUrl", "")).replace(
                "/communications/calls/", "/app/calls/", 1
            )
        if "capitalChangeType" in wanted and isinstance(item.get("changeType"), str):
            item["changeType"] = item["changeType"][:1].upper() + item["changeType"][1:]
        data = item.get("resourceData")
        result = data.get("resultInfo") if isinstance(data, dict) else None
        if isinstance(result, dict):
            if "subCode" in wanted and "subcode" in result:
                result["subCode"] = result.pop("subcode")
            if "code200" in wanted and result.get("code") == 0:
                result["code"] = 200
    return body
