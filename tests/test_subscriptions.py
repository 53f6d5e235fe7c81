"""Change-notification subscriptions over HTTP, made with msgraph-sdk's own request builders
against a real webhook receiver served over https with mockgraph's local authority: the
validation handshake (graph-beyond-calls-facts.md §3.2), the create and update answers
(subscription-post-subscriptions.md, subscription-update.md), a call record's notification
(changenotifications-for-callrecords.md) and lifecycle notifications
(change-notifications-lifecycle-events.md)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.subscription import Subscription

from mockgraph.http.local_tls import TlsFiles, local_tls
from mockgraph.testing import BotReceiver, MockGraph
from mockgraph.testing.receiver import Reply
from tests.docs import DOCS

ANN = {"user": {"id": "ann-id", "displayName": "Ann", "tenantId": "t1"}}
BOT = {"application": {"id": "bot-app", "displayName": "Calling Bot"}}


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def tls(authority: Path) -> TlsFiles:
    return local_tls(authority, "127.0.0.1")


@pytest.fixture
async def webhook(tls: TlsFiles) -> AsyncIterator[BotReceiver]:
    async with BotReceiver("/notifications", tls=tls) as receiver:
        yield receiver


def soon(minutes: float = 60) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def call_record_subscription(url: str, **more: Any) -> Subscription:
    return Subscription(
        change_type="created,updated",
        notification_url=url,
        resource="/communications/callRecords",
        expiration_date_time=soon(),
        client_state="secretClientState",
        **more,
    )


async def test_a_subscription_is_made_once_its_url_echoes_the_token(
    authority: Path, webhook: BotReceiver, sdk: Any
) -> None:
    async with MockGraph(tls_dir=str(authority)) as graph:
        client = sdk(graph.graph_url("v1.0"))
        made = await client.subscriptions.post(call_record_subscription(webhook.callback_url))
        assert made.id and made.resource == "/communications/callRecords"
        assert made.client_state == "secretClientState"
        assert made.change_type == "created,updated"
        assert made.latest_supported_tls_version == "v1_2"
        [token] = webhook.validations
        # Graph's tokens need URL decoding (W-valid): this one has spaces and colons.
        assert " " in token and ":" in token
        assert webhook.received == []  # the handshake is not a notification
        listed = await client.subscriptions.get()
        assert [s.id for s in listed.value] == [made.id]
        got = await client.subscriptions.by_subscription_id(made.id).get()
        assert got.notification_url == webhook.callback_url


async def test_a_url_that_does_not_echo_is_refused(
    authority: Path, tls: TlsFiles, sdk: Any
) -> None:
    async with (
        MockGraph(tls_dir=str(authority)) as graph,
        BotReceiver("/n", tls=tls, echo_validation=False) as silent,
    ):
        client = sdk(graph.graph_url("v1.0"))
        with pytest.raises(ODataError) as refused:
            await client.subscriptions.post(call_record_subscription(silent.callback_url))
        assert refused.value.response_status_code == 400
        assert refused.value.error.code == "InvalidRequest"
        assert refused.value.error.message.startswith("Subscription validation request failed.")
        [handshake] = silent.received  # answered 202, with no body
        assert handshake.headers["Content-Type"].startswith("text/plain")  # W-valid
        assert (await client.subscriptions.get()).value == []


async def test_an_untrusted_https_url_is_refused(tmp_path: Path, sdk: Any) -> None:
    # A receiver whose certificate mockgraph has no reason to trust: another authority.
    async with (
        MockGraph(tls_dir=str(tmp_path / "mockgraphs")) as graph,
        BotReceiver("/n", tls=local_tls(tmp_path / "other", "127.0.0.1")) as stranger,
    ):
        with pytest.raises(ODataError) as refused:
            await sdk(graph.graph_url("v1.0")).subscriptions.post(
                call_record_subscription(stranger.callback_url)
            )
        assert refused.value.response_status_code == 400
        assert "CERTIFICATE_VERIFY_FAILED" in refused.value.error.message


async def test_http_is_refused_unless_allowed(sdk: Any) -> None:
    async with BotReceiver("/n") as plain:
        async with MockGraph() as graph:
            with pytest.raises(ODataError) as refused:
                await sdk(graph.graph_url("v1.0")).subscriptions.post(
                    call_record_subscription(plain.callback_url)
                )
            assert "must be an absolute https URL" in refused.value.error.message
            assert "--allow-http-webhooks" in refused.value.error.message
        async with MockGraph(allow_http_webhooks=True) as graph:
            made = await sdk(graph.graph_url("v1.0")).subscriptions.post(
                call_record_subscription(plain.callback_url)
            )
            assert made.notification_url == plain.callback_url


async def test_a_call_record_is_told_when_it_is_filed(
    authority: Path, webhook: BotReceiver, sdk: Any
) -> None:
    async with (
        MockGraph(tls_dir=str(authority), time_scale=0) as graph,
        BotReceiver() as bot,
    ):
        client = sdk(graph.graph_url("v1.0"))
        made = await client.subscriptions.post(call_record_subscription(webhook.callback_url))
        seeded = await graph.seed_call(
            callback_uri=bot.callback_url,
            state="established",
            source={"identity": ANN},
            targets=[{"identity": BOT}],
        )
        await client.communications.calls.by_call_id(seeded["id"]).delete()
        await webhook.wait_for(1)
        [item] = webhook.received[0].body["value"]
        chain = seeded["callChainId"]
        assert item["subscriptionId"] == made.id
        assert item["clientState"] == "secretClientState"
        assert item["changeType"] == "created"
        assert item["resource"] == f"communications/callRecords/{chain}"
        assert item["resourceData"]["id"] == chain
        assert item["tenantId"]
        # The record it names can be read by then.
        record = await client.communications.call_records.by_call_record_id(chain).get()
        assert record.id == chain
        journaled = [e for e in await graph.journal() if e["kind"] == "changeNotification"]
        assert [e["outcome"] for e in journaled] == ["delivered"]
        assert (await graph.subscriptions())[0]["notifications"] == 1


async def test_a_failed_notification_is_sent_again(
    authority: Path, webhook: BotReceiver, sdk: Any
) -> None:
    async with (
        MockGraph(tls_dir=str(authority), time_scale=0, retry_backoff=0.01) as graph,
        BotReceiver() as bot,
    ):
        client = sdk(graph.graph_url("v1.0"))
        await client.subscriptions.post(call_record_subscription(webhook.callback_url))
        webhook.reply_with(Reply(503))
        seeded = await graph.seed_call(callback_uri=bot.callback_url, state="established")
        await client.communications.calls.by_call_id(seeded["id"]).delete()
        await webhook.wait_for(2)
        await graph.wait_idle()
        [entry] = [e for e in await graph.journal() if e["kind"] == "changeNotification"]
        assert [a["status"] for a in entry["attempts"]] == [503, 202]
        assert entry["outcome"] == "delivered"


async def test_renew_reauthorize_and_delete(
    authority: Path, webhook: BotReceiver, sdk: Any
) -> None:
    async with MockGraph(tls_dir=str(authority)) as graph:
        client = sdk(graph.graph_url("v1.0"))
        made = await client.subscriptions.post(
            call_record_subscription(
                webhook.callback_url, lifecycle_notification_url=webhook.callback_url
            )
        )
        assert len(webhook.validations) == 2  # both URLs shook hands
        one = client.subscriptions.by_subscription_id(made.id)
        renewed = await one.patch(Subscription(expiration_date_time=soon(120)))
        assert renewed.expiration_date_time > made.expiration_date_time
        await graph.send_lifecycle(made.id, "reauthorizationRequired")
        await webhook.wait_for(1)
        [told] = webhook.received[0].body["value"]
        assert told["lifecycleEvent"] == "reauthorizationRequired"
        assert told["subscriptionId"] == made.id
        assert (await graph.subscriptions())[0]["needsReauthorization"] is True
        await one.reauthorize.post()
        assert (await graph.subscriptions())[0]["needsReauthorization"] is False
        await one.delete()
        with pytest.raises(ODataError) as gone:
            await one.get()
        assert gone.value.response_status_code == 404


async def test_bad_subscriptions_get_graphs_400(
    authority: Path, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(tls_dir=str(authority)) as graph:
        headers = {"Authorization": "Bearer x"}
        url = f"{graph.graph_url('v1.0')}/subscriptions"
        async with http.post(url, json={"resource": "/me/messages"}, headers=headers) as r:
            answer = await r.json()
        assert r.status == 400, answer
        async with http.post(url, json={"changeType": 1}, headers=headers) as r:
            assert r.status == 400  # the schema first
        later = (datetime.now(UTC) + timedelta(days=4)).isoformat()
        body = {
            "changeType": "created",
            "resource": "communications/callRecords",
            "notificationUrl": "https://127.0.0.1:1/n",
            "expirationDateTime": later,
        }
        async with http.post(url, json=body, headers=headers) as r:
            answer = await r.json()
        assert r.status == 400
        assert "4230 minutes" in answer["error"]["message"]


async def test_presence_is_told_when_a_call_makes_someone_busy(
    authority: Path, webhook: BotReceiver, sdk: Any
) -> None:
    async with MockGraph(tls_dir=str(authority)) as graph, BotReceiver() as bot:
        client = sdk(graph.graph_url("v1.0"))
        await graph.add_user("ann-id")
        made = await client.subscriptions.post(
            Subscription(
                change_type="updated",
                notification_url=webhook.callback_url,
                resource="/communications/presences/ann-id",
                expiration_date_time=soon(60),
                client_state="secretClientState",
            )
        )
        seeded = await graph.seed_call(
            callback_uri=bot.callback_url,
            state="established",
            source={"identity": ANN},
            targets=[{"identity": BOT}],
        )
        await webhook.wait_for(1)
        [busy] = webhook.received[0].body["value"]
        assert busy["subscriptionId"] == made.id
        assert busy["resource"] == "communications/presences/ann-id"
        presence = await client.users.by_user_id("ann-id").presence.get()
        assert (presence.availability, presence.activity) == ("Busy", "InACall")
        await client.communications.calls.by_call_id(seeded["id"]).delete()
        await webhook.wait_for(2)  # the call ended: back to what she was
        presence = await client.users.by_user_id("ann-id").presence.get()
        assert presence.availability == "Offline"


BOT_SIDE, TEST_SIDE, RENEWAL = re.findall(
    r"<!-- runs in tests/test_subscriptions.py -->\n```python\n(.*?)```", DOCS, re.S
)


async def test_the_docs_webhook_hears_of_a_call_record(tmp_path: Path, sdk: Any) -> None:
    scope: dict[str, Any] = {}
    exec(BOT_SIDE, scope)
    exec(TEST_SIDE, scope)
    scope["graph_client"] = sdk  # the docs' client, closed after the test
    async with MockGraph(time_scale=0, tls_dir=str(tmp_path)) as graph, BotReceiver() as bot:
        await scope["test_the_bot_hears_of_each_call_record"](graph, bot, graph.webhook_tls())
        [subscription] = await graph.subscriptions()
        assert subscription["notifications"] == 1


async def test_the_docs_renewal_runs(tmp_path: Path, sdk: Any) -> None:
    scope: dict[str, Any] = {}
    exec(BOT_SIDE, scope)
    exec(RENEWAL, scope)
    scope["graph_client"] = sdk
    graph = MockGraph(tls_dir=str(tmp_path))
    async with graph, BotReceiver("/notifications", tls=graph.webhook_tls()) as webhook:
        await scope["test_the_bot_renews_when_asked"](graph, webhook)
