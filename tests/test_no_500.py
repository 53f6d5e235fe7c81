"""Whatever a client sends, mockgraph answers with a Graph-shaped error or success, never a 500.
Hypothesis generates the bodies, biased towards Graph's own keys so they reach deep code."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgraph.testing import MockGraphSyncClient

KEYS = [
    "transferTarget",
    "transferee",
    "identity",
    "user",
    "phone",
    "application",
    "id",
    "replacesCallId",
    "clientContext",
    "@odata.type",
    "callbackUri",
    "targets",
    "mediaConfig",
    "reason",
    "timeout",
    "acceptedModalities",
    "endpointType",
    "state",
    "tenantId",
    "name",
    "scale",
    "step",
    "steps",
    "source",
    "meetingInfo",
    "chatInfo",
    "applicationInstance",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["+12345678901", "default", "busy", "#microsoft.graph.identity", "c-1"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
ROUTES = [
    ("POST", "/v1.0/communications/calls/{id}/transfer"),
    ("POST", "/beta/communications/calls/{id}/answer"),
    ("POST", "/v1.0/communications/calls/{id}/reject"),
    ("POST", "/v1.0/communications/calls/{id}/redirect"),
    ("POST", "/v1.0/communications/calls"),
    ("POST", "/_mock/calls"),
    ("POST", "/_mock/calls/incoming"),
    ("PUT", "/_mock/calls/{id}/scenario"),
    ("PUT", "/_mock/time"),
    ("POST", "/_mock/calls/{id}/advance"),
    ("PUT", "/_mock/bots/someone"),
]


def send(url: str, method: str, body: bytes) -> tuple[int, Any]:
    headers = {"Authorization": "Bearer fuzz", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(ROUTES),
    body=JSON,
    state=st.sampled_from(["incoming", "established", "terminated"]),
)
def test_no_body_makes_a_500(
    mockgraph_server: str, route: tuple[str, str], body: Any, state: str
) -> None:
    # The session's server (the plugin's), shared by every example: calls pile up, as in CI.
    call = MockGraphSyncClient(mockgraph_server).seed_call(
        callback_uri="http://127.0.0.1:9/", state=state
    )
    method, path = route
    status, answer = send(
        mockgraph_server + path.format(id=call["id"]), method, json.dumps(body).encode()
    )
    assert status < 500, (route, body, answer)
    if status >= 400:
        assert set(answer["error"]) >= {"code", "message", "innerError"}


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=64))
def test_no_bytes_make_a_500(mockgraph_server: str, raw: bytes) -> None:
    status, _ = send(mockgraph_server + "/v1.0/communications/calls/x/transfer", "POST", raw)
    assert status < 500


# A seeded or rung call's Graph properties have the JSON types of Graph's call (CSDL: targets a
# collection of invitationParticipantInfo, source a participantInfo, requestedModalities of the
# modality enum); the short fuzz in CI found `targets: true` made a 500.
@pytest.mark.parametrize("path", ["/_mock/calls", "/_mock/calls/incoming"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("targets", True),
        ("targets", [1]),
        ("source", 5),
        ("meetingInfo", "m"),
        ("requestedModalities", ["smell"]),
        ("subject", 3),
    ],
)
def test_a_seeded_call_of_the_wrong_json_type_is_a_400(
    mockgraph_server: str, path: str, key: str, value: Any
) -> None:
    body = {"callbackUri": "http://127.0.0.1:9/", key: value}
    status, answer = send(mockgraph_server + path, "POST", json.dumps(body).encode())
    assert status == 400, answer
    assert answer["error"]["code"] == "BadRequest"
    assert key in answer["error"]["message"]
