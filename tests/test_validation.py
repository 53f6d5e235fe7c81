"""The compiled fast path and jsonschema agree; without the extra, jsonschema alone decides."""

from __future__ import annotations

from typing import Any

import pytest

from mockgraph.schema import validation
from mockgraph.schema.validation import API_VERSIONS, is_valid, validator_for
from tests.test_graph_errors import SCHEMA_BREAKING_BODIES

VALID = [
    {"transferTarget": {"identity": {"user": {"id": "u"}}}},
    {
        "transferTarget": {
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "endpointType": "default",
            "identity": {
                "@odata.type": "#microsoft.graph.communicationsIdentitySet",
                "phone": {"@odata.type": "#microsoft.graph.identity", "id": "+12345678901"},
            },
            "languageId": "en-us",
            "region": "amer",
            "replacesCallId": "c-2",
        },
        "transferee": {"identity": {"user": {"id": "t", "tenantId": "x"}}, "participantId": "p"},
        "clientContext": "ctx",
    },
]


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize(
    "body", VALID + [body for body, _ in SCHEMA_BREAKING_BODIES], ids=lambda b: str(b)[:40]
)
def test_fast_path_agrees_with_jsonschema(version: str, body: dict[str, Any]) -> None:
    """The compiled check on its own, accepted or not, against jsonschema (is_valid would
    ask jsonschema again for whatever the compiled check rejects)."""
    compiled = validation._compiled(version, "action.transfer")
    assert compiled is not None, "the dev extra is in"
    try:
        compiled(body)
        fast = True
    except Exception:
        fast = False
    expected = validator_for(version, "action.transfer").is_valid(body)
    assert fast is expected
    assert is_valid(version, "action.transfer", body) is expected


def test_without_the_extra_jsonschema_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "_compiled", lambda *definition: None)
    assert is_valid("v1.0", "action.transfer", VALID[0])
    assert not is_valid("v1.0", "action.transfer", {"transferTarget": {"identity": {}}})
