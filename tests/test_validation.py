"""The compiled fast path and jsonschema agree; without the extra, jsonschema alone decides."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def compiled_accepts(version: str, definition: str, value: Any) -> bool:
    """The compiled check's own verdict (``is_valid`` would ask jsonschema again on a no)."""
    compiled = validation._compiled(version, definition)
    assert compiled is not None, "the dev extra is in"
    try:
        compiled(value)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize(
    "body", VALID + [body for body, _ in SCHEMA_BREAKING_BODIES], ids=lambda b: str(b)[:40]
)
def test_fast_path_agrees_with_jsonschema(version: str, body: dict[str, Any]) -> None:
    """The compiled check on its own, accepted or not, against jsonschema (is_valid would
    ask jsonschema again for whatever the compiled check rejects)."""
    fast = compiled_accepts(version, "action.transfer", body)
    expected = validator_for(version, "action.transfer").is_valid(body)
    assert fast is expected
    assert is_valid(version, "action.transfer", body) is expected


def request_types() -> list[tuple[str, frozenset[str]]]:
    """Every Graph type a request body is checked against, with what it leaves optional."""
    from mockgraph.calling.operations import OPERATIONS
    from mockgraph.meetings.operations import MEETING_OPERATIONS
    from mockgraph.presence.operations import PRESENCE_OPERATIONS
    from mockgraph.subscriptions.operations import SUBSCRIPTION_OPERATIONS

    found = {(op.request.type, op.request.optional) for op in OPERATIONS if op.request}
    for operations in (MEETING_OPERATIONS, PRESENCE_OPERATIONS, SUBSCRIPTION_OPERATIONS):
        found |= {(op.request, frozenset()) for op in operations if op.request}
    return sorted(found, key=lambda pair: pair[0])


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("request_type", request_types(), ids=lambda pair: pair[0])
def test_every_request_type_compiles_and_agrees_on_an_empty_body(
    version: str, request_type: tuple[str, frozenset[str]]
) -> None:
    """Compiled as mockgraph compiles them (no detailed exceptions, which fastjsonschema
    cannot generate for every keyword), every request type of both versions: a schema that
    did not compile would fail each request of its operation."""
    definition, optional = request_type
    compiled = validation._compiled(version, definition, optional)
    assert compiled is not None, "the dev extra is in"
    try:
        compiled({})
        fast = True
    except Exception:
        fast = False
    assert fast is validator_for(version, definition, optional).is_valid({})


def test_without_the_extra_jsonschema_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "_compiled", lambda *definition: None)
    assert is_valid("v1.0", "action.transfer", VALID[0])
    assert not is_valid("v1.0", "action.transfer", {"transferTarget": {"identity": {}}})


# What a bot may put in an identity set: typed or not, by a type Graph declares, one it does
# not, or a value that is not a string; ids, names, an endpoint type, and the odd wrong value.
ODATA_TYPES = st.sampled_from(
    [
        "#microsoft.graph.identity",
        "#microsoft.graph.identitySet",
        "#microsoft.graph.communicationsIdentitySet",
        "#microsoft.graph.communicationsUserIdentity",
        "#microsoft.graph.communicationsPhoneIdentity",
        "#microsoft.graph.communicationsApplicationInstanceIdentity",
        "#microsoft.graph.azureCommunicationServicesUserIdentity",
        "#microsoft.graph.notAType",
        None,
        7,
    ]
)
NAMES = st.sampled_from(["default", "voicemail", "bogus", ""])
ODD = st.integers() | st.none() | st.booleans()


def typed(fields: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """An object of ``fields`` with or without an ``@odata.type``; now and then not one."""
    with_type = st.tuples(fields, ODATA_TYPES).map(lambda pair: {**pair[0], "@odata.type": pair[1]})
    return st.one_of(fields, with_type, ODD)


IDENTITY = typed(st.dictionaries(st.sampled_from(["id", "displayName", "tenantId"]), NAMES | ODD))
IDENTITY_SET = typed(
    st.dictionaries(
        st.sampled_from(["user", "application", "phone", "guest", "nope"]), IDENTITY, max_size=3
    ).flatmap(
        lambda identities: st.fixed_dictionaries({}, optional={"endpointType": NAMES | ODD}).map(
            lambda extra: {**identities, **extra}
        )
    )
)


@settings(max_examples=400, deadline=None)
@given(
    version=st.sampled_from(API_VERSIONS),
    checked=st.sampled_from(
        [("microsoft.graph.identitySet", IDENTITY_SET), ("microsoft.graph.identity", IDENTITY)]
    ).flatmap(lambda pair: st.tuples(st.just(pair[0]), pair[1])),
)
def test_fast_path_agrees_on_typed_and_untyped_identities(
    version: str, checked: tuple[str, Any]
) -> None:
    """The schemas' dispatch on ``@odata.type`` (an ``if`` that holds for untyped values, so
    that fastjsonschema raises nothing for them) reads the same to the compiled check as to
    jsonschema: a fast path that accepted more would let a bad body through."""
    definition, value = checked
    fast = compiled_accepts(version, definition, value)
    assert fast is validator_for(version, definition).is_valid(value)
