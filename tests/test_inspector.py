"""The inspector page (GET /_mock/ui) in a real browser: Debian's Chromium, driven by
Playwright, against a real mockgraph and a real bot receiver.

Playwright's ``expect`` waits for what the page should show and fails with what it showed
instead, so no test sleeps or polls. Every test also fails on any error in the browser's
console.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    async_playwright,
    expect,
)

from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND

CHROMIUM = os.environ.get("MOCKGRAPH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root and on a closed network: no sandbox, and none of Chromium's own connections.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).parent.parent / "docs" / "inspector.png"
WIDTH = 1000  # the page must work in a window this wide


class Inspector:
    """The page, and every error its console showed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.expected: list[str] = []  # errors a test provokes on purpose
        self.answers: list[bool] = []  # how to answer the dialogs a test expects, in order
        self.dialogs: list[str] = []  # what those dialogs asked
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("dialog", self._dialog)

    async def _dialog(self, dialog: Dialog) -> None:
        if not self.answers:
            self.errors.append(f"dialog: {dialog.message}")
            await dialog.dismiss()
            return
        self.dialogs.append(dialog.message)
        await (dialog.accept() if self.answers.pop(0) else dialog.dismiss())

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.errors.append(f"console: {message.text}")

    async def open(self, url: str, token: str | None = None) -> None:
        await self.page.goto(url + "/_mock/ui" + (f"#token={token}" if token else ""))
        await expect(self.page.locator("#live")).to_have_text("live")

    async def show_call(self, call_id: str) -> None:
        await self.page.get_by_role("button", name=f"Show call {call_id}").click()
        await expect(self.page.locator("#call-heading")).to_have_text(f"Call {call_id}")

    def rows(self, kind: str) -> Any:
        return self.page.locator(f"#rows li[data-kind={kind}]")


# One browser for the module (it takes most of a second to start), so every test and fixture
# here runs in the module's event loop; each test gets a fresh browser context.
pytestmark = pytest.mark.asyncio(loop_scope="module")
in_module_loop = pytest_asyncio.fixture(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@in_module_loop
async def bot() -> AsyncIterator[BotReceiver]:
    async with BotReceiver() as receiver:
        yield receiver


@in_module_loop
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@in_module_loop
async def inspector(browser: Browser) -> AsyncIterator[Inspector]:
    context = await browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = Inspector(await context.new_page())
    yield page
    await context.close()
    assert page.errors == []


async def transfer(http: aiohttp.ClientSession, graph: MockGraph, call_id: str) -> None:
    url = f"{graph.graph_url()}/communications/calls/{call_id}/transfer"
    async with http.post(url, json=BLIND, headers=AUTH) as response:
        assert response.status == 202


async def test_a_transfer_appears_live(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await graph.ring("ringing", callback_uri=bot.callback_url)  # another call in the list
        await inspector.open(graph.url)
        call = await graph.seed_call("live-transfer", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])  # it came over the event stream
        await transfer(http, graph, call["id"])
        page = inspector.page
        notifications = inspector.rows("notification")
        await expect(notifications).to_have_count(3)
        await expect(notifications.locator(".label")).to_contain_text(
            ["updated transferring", "updated transferAccepted", "deleted terminated 0/7015"]
        )
        await expect(page.locator("#rows li[data-outcome=delivered]")).to_have_count(3)
        await expect(inspector.rows("request").locator(".label")).to_have_text(
            [f"POST /v1.0/communications/calls/{call['id']}/transfer → 202"]
        )
        states = page.locator("#rows li.state-row .state-mark")
        await expect(states).to_have_text(
            ["state → established (seeded)"]
            + [
                f"state → {state} (scenario transfer-success step {step})"
                for step, state in enumerate(("transferring", "transferAccepted", "terminated"), 1)
            ]
        )
        await expect(page.locator("#calls tbody tr").first).to_contain_text("terminated")
        # The request's body, on click (keyboard: it is a button).
        await inspector.rows("request").locator("button").press("Enter")
        await expect(page.locator("#detail .body")).to_contain_text('"transferTarget"')
        assert await page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        await page.screenshot(path=tmp_path / "inspector.png")
    if os.environ.get("MOCKGRAPH_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "inspector.png", SCREENSHOT)


async def test_a_failed_delivery_shows_its_error(
    inspector: Inspector, http: aiohttp.ClientSession
) -> None:
    async with (
        BotReceiver(status=500) as failing,
        MockGraph(time_scale=0, retry_backoff=0.01, delivery_attempts=2) as graph,
    ):
        await inspector.open(graph.url)
        call = await graph.seed_call("failing-bot", callback_uri=failing.callback_url)
        await inspector.show_call(call["id"])
        await transfer(http, graph, call["id"])
        failed = inspector.page.locator("#rows li[data-outcome=failed]")
        await expect(failed.first).to_be_visible()
        await expect(failed.first.locator(".attempts")).to_have_text("✗ 500 · ✗ 500")
        await expect(failed.first.locator(".badge")).to_have_text("failed")
        await failed.first.locator("button").click()
        await expect(inspector.page.locator("#detail .attempts td.answer")).to_have_text(
            ["500", "500"]
        )
        # The details open just under their row, not at the foot of the timeline.
        above = await inspector.page.evaluate(
            "document.querySelector('#detail').closest('li').previousElementSibling.dataset.outcome"
        )
        assert above == "failed"


async def test_the_step_control_releases_a_step(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_label("Step mode").check()
        await page.get_by_role("button", name="Apply").click()
        await expect(page.locator("#api")).to_contain_text("curl -X PUT")
        async with http.get(f"{graph.url}/_mock/time") as response:
            assert (await response.json())["step"] is True  # the page used the control plane
        call = await graph.seed_call("stepped", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        await transfer(http, graph, call["id"])
        release = page.get_by_role("button", name="Release step 1")
        await release.click()
        await expect(inspector.rows("notification")).to_have_count(1)
        await expect(page.get_by_role("button", name="Release step 2")).to_be_visible()
        await expect(page.locator("[data-fact='waiting step']")).to_have_text("2")
        assert len(bot.for_call(call["id"])) == 1


async def test_filters_narrow_the_calls_list(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        for call_id in ("alpha-1", "alpha-2", "beta-1"):
            await graph.seed_call(call_id, callback_uri=bot.callback_url)
        await graph.ring("ringing-1", callback_uri=bot.callback_url)
        await inspector.open(graph.url)
        page, rows = inspector.page, inspector.page.locator("#calls tbody tr")
        await expect(rows).to_have_count(4)
        await page.get_by_label("Filter calls by id").fill("alpha")
        await expect(rows).to_have_count(2)
        await expect(page.locator("#calls-page")).to_have_text("1-2 of 2")
        await page.get_by_label("Filter calls by id").fill("")
        await page.get_by_label("Filter calls by state").select_option("incoming")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("ringing-1")
        # Keyboard: Tab reaches the call, Enter shows it.
        await page.get_by_label("Filter calls by state").focus()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.locator("#call-heading")).to_have_text("Call ringing-1")


async def test_a_thousand_calls_are_paged(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        for number in range(1000):  # while the page watches: a thousand calls events
            graph.backend.control.seed_call({"id": f"c{number}", "callbackUri": bot.callback_url})
        page = inspector.page
        await expect(page.locator("#calls-page")).to_have_text("1-50 of 1000")
        await expect(page.locator("#calls tbody tr")).to_have_count(50)
        await expect(page.locator("#calls tbody tr").first).to_contain_text("c999")
        await page.get_by_role("button", name="Next").click()
        await expect(page.locator("#calls-page")).to_have_text("51-100 of 1000")


async def test_the_timeline_is_paged(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(time_scale=0) as graph:
        call = await graph.seed_call("many-tones", callback_uri=bot.callback_url)
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/subscribeToTone"
        async with http.post(url, json={}, headers=AUTH) as response:
            assert response.status == 200
        await graph.press_tones(call["id"], "1234567890" * 25)
        await graph.wait_idle()
        await inspector.open(graph.url)
        await inspector.show_call(call["id"])
        page = inspector.page
        total = len(await graph.journal(call["id"])) + len(
            (await graph.call(call["id"]))["history"]
        )
        assert total > 250
        await expect(page.locator("#rows-page")).to_have_text(f"rows 201-{total} of {total}")
        await expect(page.locator("#rows li")).to_have_count(total - 200)
        await page.get_by_role("button", name="Earlier").click()
        await expect(page.locator("#rows-page")).to_have_text(f"rows 1-200 of {total}")


async def test_it_honours_the_control_token(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0, control_token="s3cret") as graph:
        await inspector.open(graph.url, token="s3cret")
        call = await graph.seed_call("guarded", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        assert "s3cret" not in inspector.page.url  # out of the address bar and the history


async def test_without_the_token_it_says_what_it_needs(browser: Browser) -> None:
    async with MockGraph(control_token="s3cret") as graph:
        page = await browser.new_page(viewport={"width": WIDTH, "height": 800})
        await page.goto(graph.url + "/_mock/ui")  # the page itself is open
        await expect(page.locator("#live")).to_have_text("needs the control token")
        await page.get_by_label("Control token").fill("s3cret")
        await page.get_by_label("Control token").press("Enter")
        await page.get_by_label("Control token").dispatch_event("change")
        await expect(page.locator("#live")).to_have_text("live")
        await page.close()


async def test_the_page_runs_nothing_a_bot_wrote(
    inspector: Inspector, http: aiohttp.ClientSession, bot: BotReceiver
) -> None:
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        call = await graph.seed_call("hostile", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        body = {**BLIND, "clientContext": hostile}
        async with http.post(url, json=body, headers=AUTH) as response:
            assert response.status in (202, 400)
        await inspector.rows("request").locator("button").click()
        await expect(inspector.page.locator("#detail .body")).to_contain_text(hostile)
        assert await inspector.page.locator("#detail img").count() == 0


async def test_the_controls_make_the_requests_a_test_would(
    inspector: Inspector, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        call = await graph.seed_call("controlled", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        page, api = inspector.page, inspector.page.locator("#api")
        await page.get_by_label("Scenario").select_option("transfer-failure-7000")
        await page.get_by_role("button", name="Pin").click()
        await expect(page.locator("[data-fact='pinned scenario']")).to_have_text(
            "transfer-failure-7000"
        )
        assert (await graph.call(call["id"]))["scenario"] == "transfer-failure-7000"
        await page.get_by_label("User id").fill("u-ann")
        await page.get_by_label("Name", exact=True).fill("Ann")
        await page.get_by_role("button", name="Add participant").click()
        await expect(page.locator("[data-fact=participants]")).to_have_text("2")
        await expect(api).to_contain_text(
            f"curl -X POST {graph.url}/_mock/calls/controlled/participants"
        )
        # A refusal is shown as Graph worded it: the bot has not subscribed to tones.
        inspector.expected.append("status of 409 (Conflict)")  # Chromium logs every 4xx
        await page.get_by_label("Keys").fill("12#")
        await page.get_by_role("button", name="Press").click()
        await expect(api).to_contain_text("→ 409")
        await expect(api.locator(".error")).to_contain_text("has not subscribed to tones")
        inspector.answers.append(True)  # yes, reset
        await page.get_by_role("button", name="Reset").click()
        await expect(page.locator("#calls-page")).to_have_text("none")


async def test_a_request_a_fault_answered_says_so(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        call = await graph.seed_call("throttled", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        await graph.add_fault({"id": "slow-down", "status": 429, "retryAfter": 30, "times": 1})
        url = f"{graph.graph_url()}/communications/calls/{call['id']}/transfer"
        for expected in (429, 202):  # the second at once: too soon
            async with http.post(url, json=BLIND, headers=AUTH) as response:
                assert response.status == expected
        requests = inspector.rows("request")
        await expect(requests).to_have_count(2)
        await expect(requests.first.locator(".badge")).to_have_text(["fault slow-down"])
        await expect(requests.last.locator(".badge")).to_have_text(["early retry"])
        await requests.first.locator("button").click()
        await expect(inspector.page.locator("#detail .facts")).to_contain_text(
            "answered by fault slow-down"
        )


async def test_a_reset_asks_first(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        await graph.seed_call("kept", callback_uri=bot.callback_url)
        await inspector.show_call("kept")
        page = inspector.page
        inspector.answers.append(False)  # no: nothing is reset
        await page.get_by_role("button", name="Reset").click()
        await expect(page.locator("#call-heading")).to_have_text("Call kept")
        assert inspector.dialogs and "Reset mockgraph?" in inspector.dialogs[0]
        assert [call["id"] for call in await graph.calls()] == ["kept"]
        inspector.answers.append(True)
        await page.get_by_role("button", name="Reset").click()
        await expect(page.locator("#calls-page")).to_have_text("none")


async def test_a_key_press_shows_its_tone_and_an_operation_its_name(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        call = await graph.seed_call("ivr", callback_uri=bot.callback_url)
        await inspector.show_call(call["id"])
        base = f"{graph.graph_url()}/communications/calls/{call['id']}"
        prompt = {"prompts": [{"@odata.type": "#microsoft.graph.mediaPrompt",
                               "mediaInfo": {"uri": "https://bot.example/menu.wav"}}]}  # fmt: skip
        for action, body in (("subscribeToTone", {}), ("playPrompt", prompt)):
            async with http.post(f"{base}/{action}", json=body, headers=AUTH) as response:
                assert response.status == 200
        await graph.wait_idle()
        await graph.press_tones(call["id"], "1")
        labels = inspector.rows("notification").locator(".label")
        await expect(labels).to_contain_text(["deleted playPrompt completed", "updated tone tone1"])


async def test_a_call_has_its_own_address(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        await graph.seed_call("linked", callback_uri=bot.callback_url)
        await graph.seed_call("other", callback_uri=bot.callback_url)
        page = inspector.page
        await page.goto(graph.url + "/_mock/ui/#call=linked")
        await expect(page.locator("#call-heading")).to_have_text("Call linked")
        await inspector.show_call("other")
        assert page.url.endswith("#call=other")


async def test_requests_that_matched_no_call_have_their_own_list(
    inspector: Inspector, bot: BotReceiver, http: aiohttp.ClientSession
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        await graph.seed_call("known", callback_uri=bot.callback_url)
        inspector.expected.append("status of 404")  # Chromium logs the page's own 4xx only
        base = f"{graph.graph_url()}/communications/calls"
        async with http.post(f"{base}/nobody/transfer", json=BLIND, headers=AUTH) as response:
            assert response.status == 404  # a call id mockgraph never had
        async with http.get(f"{base}/known") as response:
            assert response.status == 401  # no token: on a known call, so in its timeline
        page = inspector.page
        await page.get_by_text("Requests that matched no call").click()
        await expect(page.locator("#unmatched-count")).to_have_text("(1)")
        await expect(page.locator("#unmatched-list li")).to_have_text(
            ["POST /v1.0/communications/calls/nobody/transfer → 404"]
        )


async def test_the_page_shows_a_snapshot_before_its_stream_opens(
    inspector: Inspector, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await graph.seed_call("already-there", callback_uri=bot.callback_url)
        page = inspector.page
        await page.route("**/_mock/events", lambda route: None)  # the stream never opens
        await page.goto(graph.url + "/_mock/ui/")
        await expect(page.locator("#live")).to_have_text("connecting…")
        await expect(page.locator("#calls tbody tr")).to_have_count(1)
        await expect(page.locator("#calls tbody")).to_contain_text("already-there")


async def test_the_calls_list_uses_a_wide_window(browser: Browser, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        await graph.seed_call("wide", callback_uri=bot.callback_url, state="terminated")
        page = await browser.new_page(viewport={"width": 1400, "height": 800})
        await page.goto(graph.url + "/_mock/ui/")
        cell = page.locator("#calls tbody tr td").nth(1)
        await expect(cell).to_have_text("terminated")
        # Not cut short: the cell is as wide as its text needs.
        fits = await cell.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
        assert fits
        await page.close()


async def test_only_what_went_wrong_and_the_trace_export(
    inspector: Inspector, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with (
        BotReceiver(status=500) as failing,
        MockGraph(time_scale=0, retry_backoff=0.01, delivery_attempts=1) as graph,
    ):
        await inspector.open(graph.url)
        call = await graph.seed_call("half-failing", callback_uri=failing.callback_url)
        await inspector.show_call(call["id"])
        await transfer(http, graph, call["id"])
        page = inspector.page
        await expect(page.locator("#rows li[data-outcome=failed]")).to_have_count(3)
        await expect(inspector.rows("request")).to_have_count(1)  # the transfer's 202
        await page.get_by_label("Only what went wrong").check()
        await expect(inspector.rows("request")).to_have_count(0)
        await expect(inspector.rows("notification")).to_have_count(3)
        async with page.expect_download() as download:
            await page.get_by_role("button", name="Export trace").click()
        saved = tmp_path / "trace.jsonl"
        await (await download.value).save_as(saved)
        lines = [json.loads(line) for line in saved.read_text().splitlines()]
        assert len(lines) == 3  # the three notifications that went out (and failed)
        assert lines == await graph_trace(http, graph, call["id"])


async def graph_trace(http: aiohttp.ClientSession, graph: MockGraph, call_id: str) -> list[Any]:
    async with http.get(f"{graph.url}/_mock/calls/{call_id}/trace") as response:
        return [json.loads(line) for line in (await response.text()).splitlines()]


async def test_the_loaded_scenarios_show_their_steps(inspector: Inspector) -> None:
    async with MockGraph(time_scale=0) as graph:
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_text("Loaded scenarios").click()
        await page.get_by_role("button", name="transfer-failure-7000").click()
        steps = page.locator("#scenario-steps li")
        # The built-in file: transferring, then back to established with 500/7000.
        await expect(steps).to_have_text(
            ["+0.05 s updated transferring", "+0.1 s updated established 500/7000"]
        )


async def test_call_records_are_listed_when_opened(inspector: Inspector, bot: BotReceiver) -> None:
    async with MockGraph(time_scale=0) as graph:
        call = await graph.seed_call(callback_uri=bot.callback_url, state="established")
        await graph.hang_up(call["id"])
        await graph.wait_for_state(call["id"], "terminated")
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_text("Call records").click()
        # The record's id is the call's callChainId, and it names the call it was made from.
        item = page.locator("#call-records-list li")
        await expect(item).to_contain_text(call["callChainId"])
        await expect(item).to_contain_text(f"peerToPeer · calls {call['id']} · 1 session(s)")
        await page.get_by_role("button", name=call["callChainId"]).click()
        await expect(page.locator("#call-record")).to_contain_text('"type": "peerToPeer"')


async def test_presence_shows_what_graph_shows_of_each_user(
    inspector: Inspector, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0) as graph:
        await graph.add_user("bob")
        ann = {"user": {"id": "ann", "displayName": "Ann"}}
        await graph.seed_call(
            callback_uri=bot.callback_url, state="established", source={"identity": ann}
        )
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_text("Presence", exact=True).click()
        # A person on an established call is Busy/InACall (presence's page); bob has no
        # presence session: Offline.
        await expect(page.locator("#presences-list li")).to_have_text(
            ["ann: Busy / InACall", "bob: Offline / Offline"]
        )


async def test_subscriptions_show_what_was_sent_to_them(
    inspector: Inspector, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0, allow_http_webhooks=True) as graph, BotReceiver() as hook:
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        body = {
            "changeType": "created",
            "resource": "/communications/callRecords",
            "notificationUrl": hook.callback_url,
            "expirationDateTime": later,
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{graph.graph_url('v1.0')}/subscriptions",
                json=body,
                headers={"Authorization": "Bearer x"},
            ) as made,
        ):
            subscription = await made.json()
        call = await graph.seed_call(callback_uri=bot.callback_url, state="established")
        await graph.hang_up(call["id"])
        await hook.wait_for(1)
        await graph.wait_idle()
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_text("Subscriptions", exact=True).click()
        item = page.locator("#subscriptions-list li")
        await expect(item).to_contain_text("/communications/callRecords · created")
        await expect(item).to_contain_text("1 sent")
        await page.get_by_role("button", name=subscription["id"]).click()
        await expect(page.locator("#change-notifications li")).to_have_text(
            [f"created communications/callRecords/{call['callChainId']} · delivered (202)"]
        )


async def test_meetings_show_who_is_in_them_and_their_calls(
    inspector: Inspector, bot: BotReceiver
) -> None:
    async with MockGraph(time_scale=0) as graph:
        organizer = "5810cedd-b43a-44a4-a2e8-0ba3a4b85b5e"
        url = f"{graph.graph_url('v1.0')}/users/{organizer}/onlineMeetings"
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                url, json={"subject": "Planning"}, headers={"Authorization": "Bearer x"}
            ) as made,
        ):
            meeting = await made.json()
        await graph.join_meeting(meeting["id"], {"user": {"id": "u1", "displayName": "Ann"}})
        call = await graph.seed_call(
            callback_uri=bot.callback_url, state="established", chat_info=meeting["chatInfo"]
        )
        await inspector.open(graph.url)
        page = inspector.page
        await page.get_by_text("Online meetings").click()
        item = page.locator("#meetings-list li")
        await expect(item).to_contain_text("Planning · in it: Ann · calls:")
        # A meeting's call opens from there.
        await item.get_by_role("button", name=call["id"]).click()
        await expect(page.locator("#call-heading")).to_contain_text(call["id"])
