"""The transfer endpoint plays each built-in scenario to a real bot receiver, exactly."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import BLIND, Driver

CALL = "#microsoft.graph.call"


def envelope_ok(driver: Driver, call_id: str) -> None:
    """Every POST is a commsNotifications batch of one commsNotification about ``call_id``."""
    for received in driver.bot.for_call(call_id):
        assert received.body["@odata.type"] == "#microsoft.graph.commsNotifications"
        assert received.headers["Content-Type"] == "application/json"
        assert received.path == "/api/calls"
        [item] = received.body["value"]
        assert item["@odata.type"] == "#microsoft.graph.commsNotification"
        assert item["resourceUrl"] == f"/communications/calls/{call_id}"
        assert item["resource"] == f"/app/calls/{call_id}"  # as every capture has it
        assert item["resourceData"]["@odata.type"] == CALL


@pytest.mark.parametrize(
    "version, path",
    [
        ("v1.0", None),
        ("beta", None),
        ("beta", "/beta/app/calls/{id}/transfer"),
    ],
)
async def test_blind_transfer_plays_transfer_success(driver: Driver, version, path) -> None:
    call = await driver.seed()
    status, headers, body = await driver.transfer(
        call["id"], version=version, path=path and path.format(id=call["id"])
    )
    assert (status, body) == (202, None)
    assert headers["Content-Length"] == "0"

    items = await driver.notifications(call["id"], 3)

    # As the transfer page's examples, with what every notification captured from real Graph
    # after a call is set up adds (sambetts/graph-calling-bots, P2PTest1Event3 and Event6).
    later = {
        "meetingCapability": {"@odata.type": "#microsoft.graph.meetingCapability"},
        "coOrganizers": [],
        "callChainId": call["callChainId"],
    }
    assert [(i["changeType"], i["resourceData"]) for i in items] == [
        ("updated", {"@odata.type": CALL, "state": "transferring", **later}),
        ("updated", {"@odata.type": CALL, "state": "transferAccepted", **later}),
        (
            "deleted",
            {
                "@odata.type": CALL,
                "state": "terminated",
                "resultInfo": {
                    "@odata.type": "#microsoft.graph.resultInfo",
                    "code": 0,
                    "subcode": 7015,
                    "message": "GracefulTransferCompleted",
                },
                **later,
            },
        ),
    ]
    envelope_ok(driver, call["id"])


async def test_call_state_follows_what_was_notified(driver: Driver) -> None:
    call = await driver.seed()
    await driver.transfer(call["id"])
    await driver.notifications(call["id"], 3)

    seen = await driver.get(f"/_mock/calls/{call['id']}")

    assert seen["state"] == "terminated"
    assert seen["call"]["resultInfo"]["subcode"] == 7015
    assert [h["state"] for h in seen["history"]] == [
        "established",
        "transferring",
        "transferAccepted",
        "terminated",
    ]
    assert seen["runningOperation"] is None


async def test_consultative_transfer_ends_both_calls(driver: Driver) -> None:
    transferor = await driver.seed()
    consult = await driver.seed()  # the bot's call to the transfer target
    body = {
        "transferTarget": {
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "endpointType": "default",
            "identity": {"user": {"id": "u-target", "displayName": "Target"}},
            "replacesCallId": consult["id"],
        }
    }
    status, _, _ = await driver.transfer(transferor["id"], body)
    assert status == 202

    items = await driver.notifications(transferor["id"], 3)
    replaced = await driver.notifications(consult["id"], 1)

    assert [i["resourceData"].get("state") for i in items] == [
        "transferring",
        "transferAccepted",
        "terminated",
    ]
    assert items[2]["changeType"] == "deleted"
    assert items[2]["resourceData"]["terminationReason"] == "AppTransferred"
    assert "resultInfo" not in items[2]["resourceData"]
    assert replaced[0]["changeType"] == "deleted"
    assert replaced[0]["resourceUrl"] == f"/communications/calls/{consult['id']}"
    assert (await driver.get(f"/_mock/calls/{consult['id']}"))["state"] == "terminated"
    envelope_ok(driver, transferor["id"])


async def test_pinned_failure_goes_back_to_established(driver: Driver) -> None:
    call = await driver.seed()
    assert await driver.pin(call["id"], "transfer-failure-7000") == 200

    await driver.transfer(call["id"])
    items = await driver.notifications(call["id"], 2)

    assert [i["changeType"] for i in items] == ["updated", "updated"]
    assert items[0]["resourceData"]["state"] == "transferring"
    last = items[1]["resourceData"]
    assert last["state"] == "established"
    assert (last["resultInfo"]["code"], last["resultInfo"]["subcode"]) == (500, 7000)
    seen = await driver.get(f"/_mock/calls/{call['id']}")
    assert seen["state"] == "established"
    assert seen["scenario"] is None, "a pin is for the next operation only"


async def test_failed_transfer_can_be_retried_and_then_succeeds(driver: Driver) -> None:
    call = await driver.seed()
    await driver.pin(call["id"], "transfer-failure-7000")
    await driver.transfer(call["id"])
    await driver.notifications(call["id"], 2)

    status, _, _ = await driver.transfer(call["id"])
    items = await driver.notifications(call["id"], 5)

    assert status == 202
    assert items[-1]["resourceData"]["resultInfo"]["message"] == "GracefulTransferCompleted"


async def test_consultative_failure_7700_carries_replaces_context(driver: Driver) -> None:
    call = await driver.seed()
    consult = await driver.seed()
    await driver.pin(call["id"], "transfer-consultative-failure-7700")
    body = {"transferTarget": {**BLIND["transferTarget"], "replacesCallId": consult["id"]}}

    await driver.transfer(call["id"], body)
    items = await driver.notifications(call["id"], 2)

    last = items[-1]["resourceData"]
    assert last["state"] == "established"
    assert (last["resultInfo"]["code"], last["resultInfo"]["subcode"]) == (500, 7700)
    assert last["replacesContext"] == consult["id"]
    assert driver.bot.for_call(consult["id"]) == []


async def test_when_rule_selects_a_testers_scenario_and_substitutes(driver: Driver) -> None:
    call = await driver.seed()
    body = {
        "transferTarget": {"identity": {"phone": {"id": "+15550100"}}, "languageId": "en-us"},
        "clientContext": "ctx-42",
    }

    await driver.transfer(call["id"], body)
    [item] = await driver.notifications(call["id"], 1)

    data = item["resourceData"]
    assert data["resultInfo"]["message"] == "busy: ctx-42"
    assert data["clientContext"] == "ctx-42"
    assert data["state"] == "established"


async def test_other_numbers_still_get_the_default(driver: Driver) -> None:
    call = await driver.seed()
    body = {"transferTarget": {"identity": {"phone": {"id": "+15550199"}}}}

    await driver.transfer(call["id"], body)
    items = await driver.notifications(call["id"], 3)

    assert items[-1]["resourceData"]["resultInfo"]["subcode"] == 7015


@pytest.mark.settings(time_scale=1)  # real time: the test is about pauses or a start-up scale
async def test_steps_keep_their_pauses(driver: Driver) -> None:
    """transfer-success spaces its steps 50/100/100 ms; delivery follows that schedule."""
    driver.graph.backend.signing.prepare()  # the signing key exists before the clock starts
    call = await driver.seed()
    await driver.transfer(call["id"])
    await driver.notifications(call["id"], 3)

    journal = await driver.get(f"/_mock/journal?callId={call['id']}")
    [request, *notes] = journal["value"]
    arrived = datetime.fromisoformat(request["time"])
    went_out = [datetime.fromisoformat(n["attempts"][0]["time"]) for n in notes]
    since = [(moment - arrived).total_seconds() for moment in went_out]
    # Lower bounds only (late is possible on a busy machine, early never): each step is due
    # 50, 150 and 250 ms after the request; 2 ms allow for the journal's millisecond rounding.
    assert all(s >= due - 0.002 for s, due in zip(since, (0.05, 0.15, 0.25), strict=True)), since
    assert all(n["lateMs"] >= 0 for n in notes)


async def test_the_request_is_journaled_before_the_notifications_it_causes(driver: Driver) -> None:
    await driver.graph.set_time(scale=0)  # the first step is due at once
    call = await driver.seed()
    await driver.transfer(call["id"])
    await driver.notifications(call["id"], 3)
    journal = await driver.get(f"/_mock/journal?callId={call['id']}")
    assert [e["kind"] for e in journal["value"]] == ["request"] + ["notification"] * 3
    assert journal["value"][0]["status"] == 202
