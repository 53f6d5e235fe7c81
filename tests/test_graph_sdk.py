"""Microsoft's own Graph SDK against mockgraph: what a bot built on it meets. The client is the
README's snippet, run as it is written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.generated.communications.calls.item.answer.answer_post_request_body import (
    AnswerPostRequestBody,
)
from msgraph.generated.communications.calls.item.transfer.transfer_post_request_body import (
    TransferPostRequestBody,
)
from msgraph.generated.models.call import Call
from msgraph.generated.models.call_state import CallState
from msgraph.generated.models.identity import Identity
from msgraph.generated.models.identity_set import IdentitySet
from msgraph.generated.models.invitation_participant_info import InvitationParticipantInfo
from msgraph.generated.models.modality import Modality
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.service_hosted_media_config import ServiceHostedMediaConfig

from mockgraph.testing import BotReceiver, MockGraph

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
[SNIPPET] = re.findall(
    r"<!-- runs in tests/test_graph_sdk.py -->\n```python\n(.*?)```", README, re.S
)


@pytest.fixture
async def sdk() -> Any:
    """``sdk(base_url)``: the README's client; its HTTP connections are closed afterwards."""
    scope: dict[str, Any] = {}
    exec(SNIPPET, scope)
    made: list[Any] = []

    def graph_client(base_url: str) -> Any:
        client = scope["graph_client"](base_url)
        made.append(client)
        return client

    yield graph_client
    for client in made:
        http = client.request_adapter._http_client
        await http.aclose()
        # msgraph_core's AsyncGraphTransport.aclose() does nothing, so the connection pool it
        # wraps stays open (and warns when collected): close that one too.
        await http._transport.transport.aclose()


def transfer_to(user_id: str) -> TransferPostRequestBody:
    identity = IdentitySet(user=Identity(id=user_id))
    return TransferPostRequestBody(transfer_target=InvitationParticipantInfo(identity=identity))


def as_call(resource_data: dict[str, Any]) -> Call:
    """A notification's resourceData as the SDK reads it (it has no commsNotification type)."""
    node = JsonParseNodeFactory().get_root_parse_node(
        "application/json", json.dumps(resource_data).encode()
    )
    call: Call = node.get_object_value(Call)
    return call


@pytest.fixture
async def graph() -> Any:
    async with MockGraph(time_scale=0) as server:
        yield server


async def test_transfer_returns_none_and_the_notifications_parse_as_calls(graph, bot, sdk) -> None:
    call = await graph.seed_call(callback_uri=bot.callback_url)
    client = sdk(graph.graph_url("v1.0"))

    result = await client.communications.calls.by_call_id(call["id"]).transfer.post(
        transfer_to("alice")
    )

    assert result is None
    await bot.wait_for(3)
    states = [as_call(r.notifications[0]["resourceData"]) for r in bot.received]
    assert [c.state for c in states] == [
        CallState.Transferring,
        CallState.TransferAccepted,
        CallState.Terminated,
    ]
    assert states[-1].result_info is not None
    assert (states[-1].result_info.code, states[-1].result_info.subcode) == (0, 7015)


async def test_with_the_subcode_quirk_the_sdk_does_not_see_the_subcode(bot, sdk) -> None:
    async with MockGraph(time_scale=0, quirks=("subCode",)) as graph:
        call = await graph.seed_call(callback_uri=bot.callback_url)
        client = sdk(graph.graph_url("v1.0"))
        await client.communications.calls.by_call_id(call["id"]).transfer.post(transfer_to("a"))
        await bot.wait_for(3)
    last = as_call(bot.received[-1].notifications[0]["resourceData"])
    assert last.result_info is not None
    assert last.result_info.subcode is None
    assert last.result_info.additional_data == {"subCode": 7015}


async def test_errors_are_odata_errors_with_graphs_fields(graph, sdk) -> None:
    client = sdk(graph.graph_url("v1.0"))
    with pytest.raises(ODataError) as raised:
        await client.communications.calls.by_call_id("no-such-call").transfer.post(
            transfer_to("alice")
        )
    error = raised.value
    assert error.response_status_code == 404
    assert error.error is not None and error.error.code == "8522"
    assert error.error.message is not None and error.error.message.startswith("Call not found.")
    assert error.error.inner_error is not None and error.error.inner_error.request_id


async def test_answer_get_and_hang_up(graph, bot, sdk) -> None:
    rung = await graph.ring(callback_uri=bot.callback_url)
    client = sdk(graph.graph_url("v1.0"))
    calls = client.communications.calls

    await calls.by_call_id(rung["id"]).answer.post(
        AnswerPostRequestBody(
            callback_uri=bot.callback_url,
            media_config=ServiceHostedMediaConfig(),
            accepted_modalities=[Modality.Audio],
        )
    )
    await graph.wait_for_state(rung["id"], "established")
    seen = await calls.by_call_id(rung["id"]).get()
    assert seen is not None and seen.state == CallState.Established and seen.id == rung["id"]

    await calls.by_call_id(rung["id"]).delete()
    assert (await graph.wait_for_state(rung["id"], "terminated"))["state"] == "terminated"


@pytest.fixture
async def bot() -> Any:
    async with BotReceiver() as receiver:
        yield receiver
