"""Microsoft's beta Python SDK (``msgraph-beta-sdk``) against mockgraph, through the
``app.calls`` request builders it still generates: the deprecated ``/beta/app/calls`` tree,
which real bots use. Every builder there that mockgraph's operations cover is driven end to
end, with the SDK's own models in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph_beta import GraphRequestAdapter, GraphServiceClient
from msgraph_beta.generated.app.calls.item.answer.answer_post_request_body import (
    AnswerPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.cancel_media_processing.cancel_media_processing_post_request_body import (  # noqa: E501
    CancelMediaProcessingPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.change_screen_sharing_role.change_screen_sharing_role_post_request_body import (  # noqa: E501
    ChangeScreenSharingRolePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.mute.mute_post_request_body import (
    MutePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.participants.invite.invite_post_request_body import (
    InvitePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.participants.item.mute.mute_post_request_body import (
    MutePostRequestBody as MuteParticipantPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.play_prompt.play_prompt_post_request_body import (
    PlayPromptPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.record_response.record_response_post_request_body import (  # noqa: E501
    RecordResponsePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.redirect.redirect_post_request_body import (
    RedirectPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.reject.reject_post_request_body import (
    RejectPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.send_dtmf_tones.send_dtmf_tones_post_request_body import (  # noqa: E501
    SendDtmfTonesPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.subscribe_to_tone.subscribe_to_tone_post_request_body import (  # noqa: E501
    SubscribeToTonePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.transfer.transfer_post_request_body import (
    TransferPostRequestBody,
)
from msgraph_beta.generated.app.calls.item.unmute.unmute_post_request_body import (
    UnmutePostRequestBody,
)
from msgraph_beta.generated.app.calls.item.update_recording_status.update_recording_status_post_request_body import (  # noqa: E501
    UpdateRecordingStatusPostRequestBody,
)
from msgraph_beta.generated.models.app_hosted_media_config import AppHostedMediaConfig
from msgraph_beta.generated.models.call_state import CallState
from msgraph_beta.generated.models.identity import Identity
from msgraph_beta.generated.models.identity_set import IdentitySet
from msgraph_beta.generated.models.invitation_participant_info import InvitationParticipantInfo
from msgraph_beta.generated.models.media_info import MediaInfo
from msgraph_beta.generated.models.media_prompt import MediaPrompt
from msgraph_beta.generated.models.modality import Modality
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.operation_status import OperationStatus
from msgraph_beta.generated.models.recording_status import RecordingStatus
from msgraph_beta.generated.models.reject_reason import RejectReason
from msgraph_beta.generated.models.screen_sharing_role import ScreenSharingRole
from msgraph_beta.generated.models.service_hosted_media_config import ServiceHostedMediaConfig
from msgraph_beta.generated.models.tone import Tone

from mockgraph.testing import BotReceiver, MockGraph


class AnyToken(AccessTokenProvider):  # type: ignore[misc]  # kiota is not type-checked here
    async def get_authorization_token(
        self, uri: str, additional_authentication_context: Any = None
    ) -> str:
        return "test-token"

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])


# A prompt that plays until cancelled: its operation is there to GET, with no time passing.
PLAYING = """\
name: plays-on
operation: playPrompt
steps: []
"""


@pytest.fixture
async def graph() -> AsyncIterator[MockGraph]:
    async with MockGraph(time_scale=0) as server:
        await server.load_scenarios(PLAYING)
        yield server


@pytest.fixture
async def beta(graph: MockGraph) -> AsyncIterator[Any]:
    """The beta SDK's ``app.calls`` builders, against mockgraph's /beta."""
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(AnyToken()))
    adapter.base_url = graph.graph_url("beta")
    client = GraphServiceClient(request_adapter=adapter)
    yield client.app.calls
    http = adapter._http_client
    await http.aclose()
    await http._transport.transport.aclose()  # msgraph_core's aclose() leaves the pool open


def to(user_id: str) -> InvitationParticipantInfo:
    return InvitationParticipantInfo(identity=IdentitySet(user=Identity(id=user_id)))


async def test_answer_media_participants_and_transfer_through_app_calls(
    graph: MockGraph, bot: BotReceiver, beta: Any
) -> None:
    ringing = await graph.ring(callback_uri=bot.callback_url)
    call = beta.by_call_id(ringing["id"])

    assert (
        await call.answer.post(
            AnswerPostRequestBody(
                callback_uri=bot.callback_url,
                media_config=ServiceHostedMediaConfig(),
                accepted_modalities=[Modality.Audio],
            )
        )
        is None
    )
    await graph.wait_for_state(ringing["id"], "established")
    got = await call.get()
    assert (got.id, got.state) == (ringing["id"], CallState.Established)
    assert await call.keep_alive.post() is None

    tones = await call.subscribe_to_tone.post(SubscribeToTonePostRequestBody(client_context="t"))
    assert (tones.status, tones.client_context) == (OperationStatus.Completed, "t")
    prompt = MediaPrompt(media_info=MediaInfo(uri="https://bot.example/hello.wav"))
    await graph.pin_scenario(ringing["id"], "plays-on")
    playing = await call.play_prompt.post(PlayPromptPostRequestBody(prompts=[prompt]))
    assert playing.status == OperationStatus.Running
    listed = await call.operations.by_comms_operation_id(playing.id).get()
    assert listed.id == playing.id
    recording = await call.record_response.post(
        RecordResponsePostRequestBody(max_record_duration_in_seconds=5)
    )
    assert recording.status == OperationStatus.Running
    cancelled = await call.cancel_media_processing.post(CancelMediaProcessingPostRequestBody())
    assert cancelled.status == OperationStatus.Completed
    sending = await call.send_dtmf_tones.post(SendDtmfTonesPostRequestBody(tones=[Tone.Tone1]))
    assert sending.status == OperationStatus.Running
    status = await call.update_recording_status.post(
        UpdateRecordingStatusPostRequestBody(status=RecordingStatus.Recording)
    )
    assert status.status == OperationStatus.Completed

    roster = await call.participants.get()
    assert len(roster.value) == 2  # the caller and the bot
    one = await call.participants.by_participant_id(roster.value[0].id).get()
    assert one.id == roster.value[0].id

    assert await call.transfer.post(TransferPostRequestBody(transfer_target=to("alice"))) is None
    await graph.wait_for_state(ringing["id"], "terminated")
    with pytest.raises(ODataError) as gone:
        await call.get()
    assert gone.value.response_status_code == 404


async def test_a_meetings_actions_through_app_calls(
    graph: MockGraph, bot: BotReceiver, beta: Any
) -> None:
    seeded = await graph.seed_call(
        callback_uri=bot.callback_url,
        meeting_info={"joinMeetingId": "123"},
        chat_info={"threadId": "19:meeting@thread.v2"},
        media_config={"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"},
    )
    call = beta.by_call_id(seeded["id"])

    invited = await call.participants.invite.post(InvitePostRequestBody(participants=[to("bob")]))
    assert invited.status == OperationStatus.Running
    muted = await call.mute.post(MutePostRequestBody(client_context="m"))
    assert muted.status == OperationStatus.Completed
    unmuted = await call.unmute.post(UnmutePostRequestBody(client_context="u"))
    assert unmuted.status == OperationStatus.Completed
    [first, *_] = (await call.participants.get()).value
    one_muted = await call.participants.by_participant_id(first.id).mute.post(
        MuteParticipantPostRequestBody()
    )
    assert one_muted.status == OperationStatus.Completed
    role = ChangeScreenSharingRolePostRequestBody(role=ScreenSharingRole.Viewer)
    assert await call.change_screen_sharing_role.post(role) is None
    assert await call.delete() is None
    await graph.wait_for_state(seeded["id"], "terminated")


async def test_reject_and_redirect_through_app_calls(
    graph: MockGraph, bot: BotReceiver, beta: Any
) -> None:
    first = await graph.ring(callback_uri=bot.callback_url)
    second = await graph.ring(callback_uri=bot.callback_url)
    rejected = RejectPostRequestBody(reason=RejectReason.Busy)
    assert await beta.by_call_id(first["id"]).reject.post(rejected) is None
    redirected = RedirectPostRequestBody(targets=[to("carol")], timeout=30)
    assert await beta.by_call_id(second["id"]).redirect.post(redirected) is None
    for ringing in (first, second):
        await graph.wait_for_state(ringing["id"], "terminated")


async def test_app_hosted_media_needs_its_blob(
    graph: MockGraph, bot: BotReceiver, beta: Any
) -> None:
    """The Kiota SDKs drop an empty blob; Graph refuses the answer (appHostedMediaConfig
    requires it), and so does mockgraph."""
    ringing = await graph.ring(callback_uri=bot.callback_url)
    with pytest.raises(ODataError) as refused:
        await beta.by_call_id(ringing["id"]).answer.post(
            AnswerPostRequestBody(
                callback_uri=bot.callback_url, media_config=AppHostedMediaConfig()
            )
        )
    assert refused.value.response_status_code == 400
    assert "blob" in (refused.value.error.message or "")
