"""Microsoft's own Graph SDK against mockgraph: what a bot built on it meets. The client is the
README's snippet, run as it is written."""

from __future__ import annotations

import json
import uuid
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


def parsed(model: Any, resource_data: dict[str, Any]) -> Any:
    """A notification's resourceData as the SDK reads it into ``model``."""
    node = JsonParseNodeFactory().get_root_parse_node(
        "application/json", json.dumps(resource_data).encode()
    )
    return node.get_object_value(model)


async def test_every_media_action_through_the_sdks_own_builders(graph, bot, sdk) -> None:
    from msgraph.generated.communications.calls.item.cancel_media_processing.cancel_media_processing_post_request_body import (  # noqa: E501
        CancelMediaProcessingPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.change_screen_sharing_role.change_screen_sharing_role_post_request_body import (  # noqa: E501
        ChangeScreenSharingRolePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.play_prompt.play_prompt_post_request_body import (  # noqa: E501
        PlayPromptPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.record_response.record_response_post_request_body import (  # noqa: E501
        RecordResponsePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.send_dtmf_tones.send_dtmf_tones_post_request_body import (  # noqa: E501
        SendDtmfTonesPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.subscribe_to_tone.subscribe_to_tone_post_request_body import (  # noqa: E501
        SubscribeToTonePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.update_recording_status.update_recording_status_post_request_body import (  # noqa: E501
        UpdateRecordingStatusPostRequestBody,
    )
    from msgraph.generated.models.comms_operation import CommsOperation
    from msgraph.generated.models.media_info import MediaInfo
    from msgraph.generated.models.media_prompt import MediaPrompt
    from msgraph.generated.models.operation_status import OperationStatus
    from msgraph.generated.models.play_prompt_operation import PlayPromptOperation
    from msgraph.generated.models.record_operation import RecordOperation
    from msgraph.generated.models.recording_status import RecordingStatus
    from msgraph.generated.models.screen_sharing_role import ScreenSharingRole
    from msgraph.generated.models.send_dtmf_tones_operation import SendDtmfTonesOperation
    from msgraph.generated.models.tone import Tone

    call = await graph.seed_call(callback_uri=bot.callback_url)
    client = sdk(graph.graph_url("v1.0"))
    this = client.communications.calls.by_call_id(call["id"])
    prompt = MediaPrompt(media_info=MediaInfo(uri="https://bot.example/menu.wav"))

    subscribed = await this.subscribe_to_tone.post(
        SubscribeToTonePostRequestBody(client_context="t")
    )
    assert subscribed is not None and subscribed.status == OperationStatus.Completed
    await graph.set_time(step=True)  # hold the prompt's end, to GET it while it plays
    played = await this.play_prompt.post(
        PlayPromptPostRequestBody(prompts=[prompt], client_context="menu")
    )
    assert isinstance(played, PlayPromptOperation) and played.status == OperationStatus.Running
    fetched = await this.operations.by_comms_operation_id(str(played.id)).get()
    assert isinstance(fetched, PlayPromptOperation) and fetched.client_context == "menu"
    await graph.set_time(step=False)
    await graph.wait_for_operation(call["id"], str(played.id))
    await graph.press_tones(call["id"], "2")
    recorded = await this.record_response.post(
        RecordResponsePostRequestBody(max_record_duration_in_seconds=5)
    )
    assert isinstance(recorded, RecordOperation)
    await graph.wait_for_operation(call["id"], str(recorded.id))
    sent = await this.send_dtmf_tones.post(SendDtmfTonesPostRequestBody(tones=[Tone.Tone1]))
    assert isinstance(sent, SendDtmfTonesOperation)
    await graph.wait_for_operation(call["id"], str(sent.id))
    cancelled = await this.cancel_media_processing.post(CancelMediaProcessingPostRequestBody())
    assert cancelled is not None and cancelled.status == OperationStatus.Completed
    status = await this.update_recording_status.post(
        UpdateRecordingStatusPostRequestBody(status=RecordingStatus.Recording)
    )
    assert status is not None and status.status == OperationStatus.Completed

    await bot.wait_for(4)
    [prompt_done, tone, record_done, dtmf_done] = [r.notifications[0] for r in bot.received]
    done = parsed(CommsOperation, prompt_done["resourceData"])
    assert isinstance(done, PlayPromptOperation) and done.status == OperationStatus.Completed
    assert done.result_info is not None and done.result_info.code == 200
    pressed = as_call(tone["resourceData"]).tone_info
    assert pressed is not None and (pressed.tone, pressed.sequence_id) == (Tone.Tone2, 1)
    record = parsed(CommsOperation, record_done["resourceData"])
    assert isinstance(record, RecordOperation) and record.recording_location
    dtmf = parsed(CommsOperation, dtmf_done["resourceData"])
    assert isinstance(dtmf, SendDtmfTonesOperation) and dtmf.status == OperationStatus.Completed

    meeting = await graph.seed_call(
        callback_uri=bot.callback_url,
        meeting_info={"joinMeetingId": "1"},
        media_config={"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"},
    )
    role = ChangeScreenSharingRolePostRequestBody(role=ScreenSharingRole.Sharer)
    assert (
        await client.communications.calls.by_call_id(meeting["id"]).change_screen_sharing_role.post(
            role
        )
        is None
    )


async def test_participants_and_routing_groups_through_the_sdks_own_builders(
    graph, bot, sdk
) -> None:
    from msgraph.generated.communications.calls.item.add_large_gallery_view.add_large_gallery_view_post_request_body import (  # noqa: E501
        AddLargeGalleryViewPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.mute.mute_post_request_body import (
        MutePostRequestBody as CallMutePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.participants.invite.invite_post_request_body import (  # noqa: E501
        InvitePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.participants.item.mute.mute_post_request_body import (  # noqa: E501
        MutePostRequestBody,
    )
    from msgraph.generated.communications.calls.item.participants.item.start_hold_music.start_hold_music_post_request_body import (  # noqa: E501
        StartHoldMusicPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.participants.item.stop_hold_music.stop_hold_music_post_request_body import (  # noqa: E501
        StopHoldMusicPostRequestBody,
    )
    from msgraph.generated.communications.calls.item.unmute.unmute_post_request_body import (
        UnmutePostRequestBody,
    )
    from msgraph.generated.communications.calls.log_teleconference_device_quality.log_teleconference_device_quality_post_request_body import (  # noqa: E501
        LogTeleconferenceDeviceQualityPostRequestBody,
    )
    from msgraph.generated.models.add_large_gallery_view_operation import (
        AddLargeGalleryViewOperation,
    )
    from msgraph.generated.models.audio_routing_group import AudioRoutingGroup
    from msgraph.generated.models.invite_participants_operation import (
        InviteParticipantsOperation,
    )
    from msgraph.generated.models.mute_participant_operation import MuteParticipantOperation
    from msgraph.generated.models.participant import Participant
    from msgraph.generated.models.routing_mode import RoutingMode
    from msgraph.generated.models.start_hold_music_operation import StartHoldMusicOperation
    from msgraph.generated.models.stop_hold_music_operation import StopHoldMusicOperation
    from msgraph.generated.models.teleconference_device_quality import TeleconferenceDeviceQuality
    from msgraph.generated.models.unmute_participant_operation import UnmuteParticipantOperation

    call = await graph.seed_call(callback_uri=bot.callback_url, meeting_info={"joinMeetingId": "1"})
    ann = await graph.add_participant(call["id"], {"user": {"id": "ann", "displayName": "Ann"}})
    client = sdk(graph.graph_url("v1.0"))
    this = client.communications.calls.by_call_id(call["id"])

    roster = await this.participants.get()
    assert roster is not None and roster.value is not None
    assert {p.id for p in roster.value} >= {ann["id"]}
    one = await this.participants.by_participant_id(ann["id"]).get()
    assert isinstance(one, Participant) and one.info is not None and one.info.identity is not None
    assert one.info.identity.user is not None and one.info.identity.user.display_name == "Ann"

    invited = await this.participants.invite.post(
        InvitePostRequestBody(participants=[transfer_to("bob").transfer_target])
    )
    assert isinstance(invited, InviteParticipantsOperation) and invited.participants
    muted = await this.participants.by_participant_id(ann["id"]).mute.post(MutePostRequestBody())
    assert isinstance(muted, MuteParticipantOperation)
    held = await this.participants.by_participant_id(ann["id"]).start_hold_music.post(
        StartHoldMusicPostRequestBody()
    )
    assert isinstance(held, StartHoldMusicOperation)

    stopped = await this.participants.by_participant_id(ann["id"]).stop_hold_music.post(
        StopHoldMusicPostRequestBody()
    )
    assert isinstance(stopped, StopHoldMusicOperation)
    assert isinstance(await this.mute.post(CallMutePostRequestBody()), MuteParticipantOperation)
    assert isinstance(await this.unmute.post(UnmutePostRequestBody()), UnmuteParticipantOperation)
    gallery = await this.add_large_gallery_view.post(AddLargeGalleryViewPostRequestBody())
    assert isinstance(gallery, AddLargeGalleryViewOperation)

    group = AudioRoutingGroup(id="g", routing_mode=RoutingMode.Multicast, sources=[ann["id"]])
    made = await this.audio_routing_groups.post(group)
    assert isinstance(made, AudioRoutingGroup) and made.routing_mode == RoutingMode.Multicast
    groups = await this.audio_routing_groups.get()
    assert groups is not None and [g.id for g in groups.value or []] == ["g"]
    one_group = this.audio_routing_groups.by_audio_routing_group_id("g")
    patched = await one_group.patch(AudioRoutingGroup(receivers=["r"]))
    assert patched is not None and patched.receivers == ["r"]
    fetched_group = await one_group.get()
    assert fetched_group is not None and fetched_group.sources == [ann["id"]]
    await one_group.delete()

    await graph.share_content(call["id"], "s-1")
    sessions = await this.content_sharing_sessions.get()
    assert sessions is not None and [s.id for s in sessions.value or []] == ["s-1"]
    session = await this.content_sharing_sessions.by_content_sharing_session_id("s-1").get()
    assert session is not None and session.id == "s-1"
    await client.communications.calls.log_teleconference_device_quality.post(
        LogTeleconferenceDeviceQualityPostRequestBody(
            quality=TeleconferenceDeviceQuality(
                call_chain_id=uuid.uuid4(), media_leg_id=uuid.uuid4(), participant_id=uuid.uuid4()
            )
        )
    )
    await this.participants.by_participant_id(ann["id"]).delete()

    await graph.wait_idle()
    rosters = [
        item["resourceData"]
        for post in bot.received
        for item in post.notifications
        if item["resourceUrl"].endswith("/participants")
    ]
    assert rosters, "no roster notification"
    for listed in rosters:  # each roster parses as the SDK's participants
        parsed_roster = [parsed(Participant, entry) for entry in listed]
        assert all(isinstance(p, Participant) and p.id for p in parsed_roster)
    assert any(p["id"] == ann["id"] and p["isMuted"] for listed in rosters for p in listed)
    assert ann["id"] not in [p["id"] for p in rosters[-1]]  # removed last


async def test_the_sdks_retry_handler_waits_out_a_429_and_gets_the_202(graph, bot, sdk) -> None:
    """Kiota's RetryHandler (in the SDK's default middleware) meets Graph's throttling: it
    reads Retry-After, waits, retries with Retry-Attempt, and the transfer goes through."""
    call = await graph.seed_call(callback_uri=bot.callback_url)
    await graph.add_fault(
        {"match": {"operation": "transfer"}, "status": 429, "retryAfter": 1, "times": 1}
    )
    client = sdk(graph.graph_url("v1.0"))

    result = await client.communications.calls.by_call_id(call["id"]).transfer.post(
        transfer_to("alice")
    )

    assert result is None  # the 202, after one retry
    requests = [e for e in await graph.journal(call["id"]) if e["kind"] == "request"]
    assert [e["status"] for e in requests] == [429, 202]
    assert requests[0]["fault"] is not None and requests[1]["fault"] is None
    assert requests[1]["headers"].get("Retry-Attempt") == "1"
    assert not any(e["earlyRetry"] for e in requests)
    await bot.wait_for(3)
