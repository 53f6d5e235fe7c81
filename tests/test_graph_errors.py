"""Every refused request gets a Graph-shaped error with the right status, and no notification."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from tests.conftest import AUTH, BLIND, Driver


def assert_graph_error(status: int, headers: dict[str, str], body: Any, expected: int) -> None:
    assert status == expected, body
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    inner = error["innerError"]
    assert inner["request-id"] == headers["request-id"]
    assert inner["client-request-id"] == headers["client-request-id"]
    assert len(inner["date"]) == len("2026-11-27T16:53:24")
    assert headers["Content-Type"].startswith("application/json")


async def assert_nothing_notified(driver: Driver, call_id: str) -> None:
    await driver.graph.backend.wait_idle()
    journal = await driver.get(f"/_mock/journal?callId={call_id}")
    assert [e for e in journal["value"] if e["kind"] == "notification"] == []
    assert driver.bot.for_call(call_id) == []


@pytest.mark.parametrize(
    "headers, fragment",
    [
        ({"Content-Type": "application/json"}, "Access token is empty"),
        ({**AUTH, "Authorization": "Basic dXNlcjpwYXNz"}, "Bearer <token>"),
        ({**AUTH, "Authorization": "Bearer"}, "Bearer <token>"),
        ({**AUTH, "Authorization": "Bearer a b"}, "Bearer <token>"),
    ],
)
async def test_missing_or_malformed_token_is_401(driver: Driver, headers, fragment) -> None:
    call = await driver.seed()
    status, response_headers, body = await driver.transfer(call["id"], headers=headers)
    assert_graph_error(status, response_headers, body, 401)
    assert body["error"]["code"] == "InvalidAuthenticationToken"
    assert fragment in body["error"]["message"]
    assert "WWW-Authenticate" not in response_headers
    await assert_nothing_notified(driver, call["id"])


@pytest.mark.parametrize(
    "content_type, expected",
    [(None, "Content-Type is missing"), ("text/plain", "not 'text/plain'")],
)
async def test_wrong_content_type_is_415(driver: Driver, content_type, expected) -> None:
    call = await driver.seed()
    headers = {"Authorization": AUTH["Authorization"]}
    if content_type:
        headers["Content-Type"] = content_type
    url = f"{driver.graph.url}/v1.0/communications/calls/{call['id']}/transfer"
    async with driver.http.post(
        url, data=json.dumps(BLIND).encode(), headers=headers, skip_auto_headers=["Content-Type"]
    ) as response:
        body = await response.json()
        assert_graph_error(response.status, dict(response.headers), body, 415)
    assert expected in body["error"]["message"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", "body is empty"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_body_that_is_not_a_json_object_is_400(driver: Driver, raw, expected) -> None:
    call = await driver.seed()
    status, headers, body = await driver.transfer(call["id"], raw)
    assert_graph_error(status, headers, body, 400)
    assert expected in body["error"]["message"]
    await assert_nothing_notified(driver, call["id"])


SCHEMA_BREAKING_BODIES = [
    ({}, "'transferTarget' is required"),
    ({"transferTarget": None}, "'transferTarget' must be an object"),
    ({"transferTarget": {}}, "'transferTarget.identity' is required"),
    (
        {"transferTarget": {"identity": {}}},
        "'transferTarget.identity' must name at least one identity",
    ),
    (
        {"transferTarget": {"identity": {"@odata.type": "#microsoft.graph.identitySet"}}},
        "'transferTarget.identity' must name at least one identity",
    ),
    (
        {"transferTarget": {"identity": {"user": "bob"}}},
        "'transferTarget.identity.user' must be an object",
    ),
    (
        {"transferTarget": {"identity": {"user": {"id": 7}}}},
        "'transferTarget.identity.user.id' must be a string",
    ),
    (
        {"transferTarget": {"identity": {"user": {"id": "u"}}, "hidden": "yes"}},
        "'transferTarget.hidden' must be a boolean",
    ),
    ({**BLIND, "clientContext": "x" * 257}, "'clientContext' is longer than 256"),
    ({**BLIND, "clientContext": 5}, "'clientContext' must be a string"),
    ({**BLIND, "transferee": {}}, "'transferee.identity' is required"),
    (
        {**BLIND, "transferee": {"identity": {"user": {"id": "u"}}, "endpointType": "phone"}},
        "'transferee.endpointType': \"phone\" is not one of: default, voicemail",
    ),
    (
        {**BLIND, "transferee": {"identity": {"user": {"id": "u"}}, "color": "red"}},
        "participantInfo has no property 'color'",
    ),
]


@pytest.mark.parametrize("request_body, expected", SCHEMA_BREAKING_BODIES)
async def test_body_that_breaks_the_schema_is_400_naming_the_field(
    driver: Driver, request_body, expected
) -> None:
    call = await driver.seed()
    status, headers, body = await driver.transfer(call["id"], request_body)
    assert_graph_error(status, headers, body, 400)
    assert body["error"]["code"] == "BadRequest"
    assert expected in body["error"]["message"]
    await assert_nothing_notified(driver, call["id"])


async def test_open_types_accept_what_graphs_examples_send(driver: Driver) -> None:
    """Doc examples 3 and 5: phone identity typed as #microsoft.graph.identity, languageId,
    region and clientContext; a group-call transferee with tenantId on its user."""
    call = await driver.seed()
    body = {
        "transferTarget": {
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "endpointType": "default",
            "identity": {
                "@odata.type": "#microsoft.graph.identitySet",
                "phone": {"@odata.type": "#microsoft.graph.identity", "id": "+12345678901"},
            },
            "languageId": "en-us",
            "region": "amer",
        },
        "transferee": {
            "identity": {"user": {"id": "550fae72", "tenantId": "72f988bf"}},
            "participantId": "differentId",
        },
        "clientContext": "9e90d1c1-f61e-43e7-9f75-d420159aae08",
    }
    status, _, _ = await driver.transfer(call["id"], body, version="v1.0")
    assert status == 202


async def test_unknown_call_is_404(driver: Driver) -> None:
    status, headers, body = await driver.transfer("no-such-call")
    assert_graph_error(status, headers, body, 404)
    assert body["error"]["message"].startswith("Call not found.")


async def test_ended_call_is_404_as_graph_forgets_it(driver: Driver) -> None:
    call = await driver.seed(state="terminated")
    status, headers, body = await driver.transfer(call["id"])
    assert_graph_error(status, headers, body, 404)
    assert "has ended" in body["error"]["message"]


@pytest.mark.parametrize("state", ["incoming", "establishing", "hold"])
async def test_call_that_is_not_established_is_409(driver: Driver, state) -> None:
    call = await driver.seed(state=state)
    status, headers, body = await driver.transfer(call["id"])
    assert_graph_error(status, headers, body, 409)
    assert f"it is {state}" in body["error"]["message"]
    await assert_nothing_notified(driver, call["id"])


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_second_transfer_while_one_runs_is_409_and_sends_nothing_more(driver) -> None:
    call = await driver.seed()
    first, _, _ = await driver.transfer(call["id"])
    second, headers, body = await driver.transfer(call["id"])
    assert first == 202
    assert_graph_error(second, headers, body, 409)
    assert "already has a transfer in progress" in body["error"]["message"]
    await driver.notifications(call["id"], 3)
    assert len(driver.bot.for_call(call["id"])) == 3


@pytest.mark.parametrize(
    "method, path, expected",
    [
        ("GET", "/v1.0/me", 404),
        ("POST", "/v2.0/communications/calls/c/transfer", 404),
        ("GET", "/v1.0/communications/calls/c/transfer", 405),
        ("DELETE", "/_mock/journal", 405),
    ],
)
async def test_paths_and_methods_not_served_get_graph_errors(driver, method, path, expected):
    async with driver.http.request(method, driver.graph.url + path, headers=AUTH) as response:
        body = await response.json()
        assert_graph_error(response.status, dict(response.headers), body, expected)
        assert path in body["error"]["message"] or method in body["error"]["message"]
        if expected == 405:  # the methods the path does have (transfer is POST; journal GET)
            assert body["error"]["message"].endswith(
                "allowed: POST." if "transfer" in path else "allowed: GET."
            )


async def test_a_path_no_route_takes_is_journaled_as_graph_answered_it(driver: Driver) -> None:
    async with driver.http.get(driver.graph.url + "/v1.0/me", headers=AUTH) as response:
        assert response.status == 404
    journal = await driver.get("/_mock/journal")
    [entry] = [e for e in journal["value"] if e["path"] == "/v1.0/me"]
    assert (entry["method"], entry["status"], entry["callId"]) == ("GET", 404, None)


async def test_client_request_id_is_echoed_on_success_and_error(driver: Driver) -> None:
    call = await driver.seed()
    mine = str(uuid.uuid4())
    status, headers, _ = await driver.transfer(
        call["id"], headers={**AUTH, "client-request-id": mine}
    )
    assert status == 202
    assert headers["client-request-id"] == mine
    assert headers["request-id"] != mine
    status, headers, body = await driver.transfer(
        "nope", headers={**AUTH, "client-request-id": mine}
    )
    assert body["error"]["innerError"]["client-request-id"] == mine


async def test_refused_requests_are_journaled_with_their_status(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"], headers={"Content-Type": "application/json"})
    journal = await driver.get(f"/_mock/journal?callId={call['id']}")
    [entry] = journal["value"]
    assert (entry["kind"], entry["method"], entry["status"]) == ("request", "POST", 401)
    assert entry["body"] == BLIND


async def test_oversized_body_is_413_not_500(driver: Driver) -> None:
    call = await driver.seed()
    huge = io.BytesIO(json.dumps({**BLIND, "padding": "x" * (3 * 1024 * 1024)}).encode())
    url = f"{driver.graph.url}/v1.0/communications/calls/{call['id']}/transfer"
    async with driver.http.post(url, data=huge, headers=AUTH) as response:
        body = await response.json()
        assert_graph_error(response.status, dict(response.headers), body, 413)
