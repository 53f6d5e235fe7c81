"""Faults on Graph requests, in the domain (no HTTP): what fires when, and what it answers.

Expectations come from Graph's throttling and error pages (graph-faults-facts.md §2, §4, §5)
and from how the fault is declared, not from the code under test."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.clock import ManualClock
from mockgraph.config import fault_spec
from mockgraph.errors import BadRequest, ResourceNotFound
from mockgraph.faults import Asked, Faults, Verdict
from mockgraph.scenarios.loader import load
from mockgraph.testing import BotReceiver, MockGraph
from tests.conftest import AUTH, BLIND, Driver
from tests.docs import DOCS
from tests.test_cli import run, serving
from tests.test_graph_errors import assert_graph_error

TRANSFER = Asked("transfer", "c1", "POST", "/v1.0/communications/calls/c1/transfer")
ANSWER = Asked("answer", "c2", "POST", "/v1.0/communications/calls/c2/answer")
OPERATIONS = frozenset({"transfer", "answer", "playPrompt"})


def faults(clock: ManualClock | None = None) -> Faults:
    return Faults(clock or ManualClock(), OPERATIONS)


def answered(faults: Faults, asked: Asked, count: int) -> list[int | None]:
    """The status each of ``count`` requests gets from the faults (None: the real answer)."""
    statuses: list[int | None] = []
    for _ in range(count):
        verdict, _early = faults.offer(asked)
        statuses.append(None if verdict is None or verdict.error is None else verdict.error.status)
    return statuses


def test_no_fault_answers_nothing_and_costs_no_offer() -> None:
    set_ = faults()
    assert not set_.active
    assert set_.offer(TRANSFER) == (None, False)


def test_a_429_has_graphs_code_and_the_retry_after_it_was_given() -> None:
    set_ = faults()
    set_.add({"match": {"operation": "transfer"}, "status": 429, "retryAfter": 2})
    verdict, _ = set_.offer(TRANSFER)
    assert isinstance(verdict, Verdict) and verdict.error is not None
    assert (verdict.error.status, verdict.error.code) == (429, "TooManyRequests")
    assert dict(verdict.error.headers) == {"Retry-After": "2"}


@pytest.mark.parametrize(
    "status, code",
    [(503, "serviceNotAvailable"), (504, "gatewayTimeout"), (500, "generalException"),
     (404, "8522"), (403, "7504")],
)  # fmt: skip
def test_each_status_has_graphs_code(status: int, code: str) -> None:
    set_ = faults()
    set_.add({"status": status})
    verdict, _ = set_.offer(TRANSFER)
    assert verdict is not None and verdict.error is not None
    assert (verdict.error.status, verdict.error.code) == (status, code)
    assert "Retry-After" not in verdict.error.headers


def test_code_and_message_override_the_statuss_own() -> None:
    set_ = faults()
    set_.add({"status": 503, "code": "custom", "message": "down for lunch"})
    verdict, _ = set_.offer(TRANSFER)
    assert verdict is not None and verdict.error is not None
    assert (verdict.error.code, verdict.error.message) == ("custom", "down for lunch")


def test_match_takes_operation_call_method_and_a_path_glob() -> None:
    set_ = faults()
    set_.add({"match": {"callId": "c2"}, "status": 500})
    set_.add({"match": {"path": "/v1.0/communications/calls/*/transfer"}, "status": 503})
    assert answered(set_, ANSWER, 1) == [500]
    assert answered(set_, TRANSFER, 1) == [503]
    assert answered(set_, Asked("playPrompt", "c1", "POST", "/beta/x"), 1) == [None]


def test_times_answers_the_next_n_and_then_lets_requests_through() -> None:
    set_ = faults()
    set_.add({"status": 503, "times": 2})
    assert answered(set_, TRANSFER, 4) == [503, 503, None, None]


def test_every_answers_every_nth_matching_request() -> None:
    set_ = faults()
    set_.add({"match": {"operation": "transfer"}, "status": 500, "every": 3})
    answered(set_, ANSWER, 5)  # not matching: not counted
    assert answered(set_, TRANSFER, 6) == [None, None, 500, None, None, 500]


def test_a_seeded_rate_faults_the_same_requests_twice() -> None:
    def run() -> list[int | None]:
        set_ = faults()
        set_.add({"status": 503, "rate": 0.3, "seed": 7})
        return answered(set_, TRANSFER, 200)

    first, second = run(), run()
    assert first == second
    assert 30 <= first.count(503) <= 90  # about a share of 0.3 of 200


async def test_a_budget_throttles_past_its_limit_until_the_window_frees() -> None:
    clock = ManualClock()
    set_ = faults(clock)
    set_.add({"budget": {"requests": 3, "windowSeconds": 15}})
    assert answered(set_, TRANSFER, 5) == [None, None, None, 429, 429]
    await clock.advance(10)
    verdict, _ = set_.offer(TRANSFER)
    assert verdict is not None and verdict.error is not None
    assert verdict.error.headers["Retry-After"] == "5"  # when the window frees, whole seconds
    await clock.advance(5)
    assert answered(set_, TRANSFER, 4) == [None, None, None, 429]


async def test_a_request_before_its_retry_after_is_an_early_retry() -> None:
    clock = ManualClock()
    set_ = faults(clock)
    set_.add({"status": 429, "retryAfter": 2, "times": 1})
    assert set_.offer(TRANSFER)[1] is False
    await clock.advance(1)
    assert set_.offer(TRANSFER) == (None, True)  # let through, but too soon
    await clock.advance(1)
    assert set_.offer(TRANSFER) == (None, False)


def test_a_delay_alone_makes_the_real_answer_late() -> None:
    set_ = faults()
    set_.add({"delayMs": 250})
    verdict, _ = set_.offer(TRANSFER)
    assert verdict is not None and (verdict.delay, verdict.error) == (0.25, None)


def test_the_first_fault_added_that_fires_answers() -> None:
    set_ = faults()
    first = set_.add({"status": 503, "times": 1})
    second = set_.add({"status": 500})
    assert answered(set_, TRANSFER, 2) == [503, 500]
    assert [f.to_json()["hits"] for f in (first, second)] == [1, 1]


def test_faults_are_listed_removed_and_cleared() -> None:
    set_ = faults()
    one = set_.add({"id": "one", "status": 503})
    set_.add({"status": 500})
    first, _second = (f.id for f in set_)  # listed in the order they were added
    assert first == one.id == "one"
    set_.remove("one")
    assert answered(set_, TRANSFER, 1) == [500]
    with pytest.raises(ResourceNotFound):
        set_.remove("one")
    set_.clear()
    assert not set_.active


@pytest.mark.parametrize(
    "spec, named",
    [
        ({"match": {"operation": "transfr"}, "status": 500}, "did you mean 'transfer'"),
        ({"status": 202}, "'status': 202 is not an error status"),
        ({"status": 503, "rate": 1.5}, "'rate': 1.5 is not a share from 0 to 1"),
        ({"status": 503, "times": 1, "every": 2}, "'every' and 'times'"),
        ({"status": 503, "seed": 1}, "'seed'"),
        ({"match": {"callId": "c1"}}, "'status', a 'delayMs' or a 'budget'"),
        ({"status": 503, "stauts": 1}, "did you mean 'status'"),
        ({"budget": {"requests": 0, "windowSeconds": 1}}, "'budget.requests'"),
    ],
)
def test_a_bad_fault_is_a_400_naming_the_field(spec: dict[str, Any], named: str) -> None:
    with pytest.raises(BadRequest) as raised:
        faults().add(spec)
    assert named in raised.value.message


def test_an_id_already_set_is_refused() -> None:
    set_ = faults()
    set_.add({"id": "x", "status": 500})
    with pytest.raises(BadRequest, match="already set"):
        set_.add({"id": "x", "status": 503})


# --- over HTTP: the control plane, the answer, the journal ------------------------------------


async def set_fault(driver: Driver, spec: dict[str, Any]) -> tuple[int, Any]:
    async with driver.http.post(f"{driver.graph.url}/_mock/faults", json=spec) as response:
        return response.status, await response.json()


async def test_a_faulted_transfer_changes_nothing_and_is_journaled_with_its_fault(
    driver: Driver,
) -> None:
    call = await driver.seed()
    status, fault = await set_fault(
        driver, {"match": {"operation": "transfer"}, "status": 503, "retryAfter": 3, "times": 1}
    )
    assert status == 201 and fault["id"] and fault["hits"] == 0

    status, headers, body = await driver.transfer(call["id"])
    assert_graph_error(status, headers, body, 503)
    assert body["error"]["code"] == "serviceNotAvailable"
    assert headers["Retry-After"] == "3"
    assert (await driver.get(f"/_mock/calls/{call['id']}"))["state"] == "established"
    [entry] = (await driver.get(f"/_mock/journal?callId={call['id']}"))["value"]
    assert (entry["status"], entry["fault"], entry["earlyRetry"]) == (503, fault["id"], False)
    assert entry["body"] == BLIND  # what the bot sent is kept, as for any request

    # Only once: the next transfer is Graph's own answer, and plays its scenario.
    status, _, _ = await driver.transfer(call["id"])
    assert status == 202
    assert len(await driver.notifications(call["id"], 3)) == 3
    [listed] = (await driver.get("/_mock/faults"))["value"]
    assert (listed["id"], listed["hits"], listed["times"]) == (fault["id"], 1, 1)


async def test_a_retry_before_retry_after_is_journaled_as_early(driver: Driver) -> None:
    call = await driver.seed()
    await set_fault(driver, {"status": 429, "retryAfter": 30, "times": 1})
    first, _, _ = await driver.transfer(call["id"])
    second, _, _ = await driver.transfer(call["id"])  # at once: 30 s too soon
    assert (first, second) == (429, 202)
    entries = (await driver.get(f"/_mock/journal?callId={call['id']}"))["value"]
    requests = [e for e in entries if e["kind"] == "request"]
    assert [e["earlyRetry"] for e in requests] == [False, True]


async def test_a_delay_makes_the_real_answer_late_and_is_journaled(driver: Driver) -> None:
    call = await driver.seed()
    _, fault = await set_fault(driver, {"delayMs": 20, "match": {"callId": call["id"]}})
    status, _, _ = await driver.transfer(call["id"])
    assert status == 202
    [entry] = (await driver.get(f"/_mock/journal?callId={call['id']}"))["value"][:1]
    assert (entry["status"], entry["fault"]) == (202, fault["id"])


async def test_faults_are_removed_one_by_one_all_at_once_and_by_reset(driver: Driver) -> None:
    url = f"{driver.graph.url}/_mock/faults"
    _, one = await set_fault(driver, {"status": 500})
    await set_fault(driver, {"status": 503})
    async with driver.http.delete(f"{url}/{one['id']}") as response:
        assert response.status == 204
    async with driver.http.delete(f"{url}/{one['id']}") as response:
        assert_graph_error(response.status, dict(response.headers), await response.json(), 404)
    assert len((await driver.get("/_mock/faults"))["value"]) == 1
    async with driver.http.delete(url) as response:
        assert response.status == 204
    assert (await driver.get("/_mock/faults"))["value"] == []
    await set_fault(driver, {"status": 500})
    async with driver.http.post(f"{driver.graph.url}/_mock/reset") as response:
        assert response.status == 200
    assert (await driver.get("/_mock/faults"))["value"] == []


async def test_a_bad_fault_over_http_is_a_graph_shaped_400(driver: Driver) -> None:
    status, body = await set_fault(driver, {"match": {"operation": "nope"}, "status": 500})
    assert status == 400
    assert "'match.operation'" in body["error"]["message"]
    assert (await driver.get("/_mock/faults"))["value"] == []


# --- the README's example, run as it is written -------------------------------------------------

README = DOCS  # the README and the docs pages, where the examples live
[EXAMPLE] = re.findall(r"<!-- runs in tests/test_faults.py -->\n```python\n(.*?)```", README, re.S)
BOT_ACTS = "# ... the bot transfers, waits a second as Graph asked, and transfers again ...\n"


def runnable(code: str) -> Callable[..., Awaitable[Any]]:
    """README lines that ``await`` at the top, as the body of a coroutine function."""
    scope: dict[str, Any] = {}
    body = textwrap.indent(code, "    ")
    exec(f"async def run(graph, call_id):\n{body}\n    return locals()", scope)
    run: Callable[..., Awaitable[Any]] = scope["run"]
    return run


async def readme_example(bot: BotReceiver, backs_off: bool) -> None:
    """The example's two halves around a bot that transfers until it is not throttled: one
    that waits the Retry-After it is given, or one that retries at once."""
    setting, checking = EXAMPLE.split(BOT_ACTS)
    async with MockGraph(time_scale=0) as graph, aiohttp.ClientSession() as http:
        call = await graph.seed_call(callback_uri=bot.callback_url)
        await runnable(setting)(graph, call["id"])
        url = f"{graph.graph_url('v1.0')}/communications/calls/{call['id']}/transfer"
        status = 429
        while status == 429:
            async with http.post(url, json=BLIND, headers=AUTH) as response:
                status = response.status
                if status == 429 and backs_off:
                    await asyncio.sleep(float(response.headers["Retry-After"]))
        await runnable(checking)(graph, call["id"])


async def test_the_readme_example_holds_for_a_bot_that_backs_off(bot: BotReceiver) -> None:
    await readme_example(bot, backs_off=True)


async def test_the_readme_example_fails_for_a_bot_that_retries_at_once(bot: BotReceiver) -> None:
    with pytest.raises(AssertionError):
        await readme_example(bot, backs_off=False)


def test_the_readme_fault_flag_example_is_a_fault() -> None:
    [example] = re.findall(r"`--fault '(\{.*?\})'`", README)
    assert fault_spec(json.loads(example))["every"] == 10


# --- set at start-up: --fault, MOCKGRAPH_FAULTS --------------------------------------------------

THROTTLE = '{"id": "throttle", "match": {"operation": "transfer"}, "status": 429, "retryAfter": 9}'


@pytest.mark.parametrize(
    "flag, named",
    [
        ('{"status": 503, "rate": 2}', "'rate': 2 is not a share from 0 to 1"),
        ('{"match": {"operation": "transfr"}, "status": 500}', "did you mean 'transfer'"),
        ("{status: 503}", "not JSON"),
        ("[]", "a fault is a JSON object"),
    ],
)
async def test_a_bad_fault_flag_stops_the_start_with_exit_2(flag: str, named: str) -> None:
    code, out, err = await run("serve", "--port", "0", "--fault", flag)
    assert (code, out) == (2, "")
    assert "--fault" in err and named in err


async def test_a_bad_faults_variable_stops_the_start_with_exit_2() -> None:
    code, _, err = await run("serve", "--port", "0", env={"MOCKGRAPH_FAULTS": '[{"status": 2}]'})
    assert code == 2 and "MOCKGRAPH_FAULTS" in err and "'status'" in err


@pytest.mark.parametrize("how", ["flag", "env"])
async def test_a_start_up_fault_answers_and_each_reset_sets_it_again(how: str) -> None:
    args, env = (
        (["--fault", THROTTLE], {})
        if how == "flag"
        else ([], {"MOCKGRAPH_FAULTS": f"[{THROTTLE}]"})
    )
    async with serving("--port", "0", *args, env=env) as (_, url), aiohttp.ClientSession() as http:

        async def status() -> int:
            async with http.post(
                f"{url}/_mock/calls", json={"id": "c1", "callbackUri": "http://127.0.0.1:9/"}
            ):
                pass
            transfer = f"{url}/v1.0/communications/calls/c1/transfer"
            async with http.post(transfer, json=BLIND, headers=AUTH) as response:
                return response.status

        assert await status() == 429
        async with http.delete(f"{url}/_mock/faults") as response:
            assert response.status == 204
        async with http.post(f"{url}/_mock/reset") as response:
            assert response.status == 200
        async with http.get(f"{url}/_mock/faults") as response:
            [fault] = (await response.json())["value"]
        assert (fault["id"], fault["hits"]) == ("throttle", 0)
        assert await status() == 429


# --- faults in scenario files -----------------------------------------------------------------

THROTTLING_FILE = """\
description: the first transfer is throttled
fault:
  id: file-throttle
  match: {operation: transfer}
  status: 429
  retryAfter: 1
  times: 1
---
name: quick-transfer
operation: transfer
steps:
  - notify: {changeType: updated, resourceData: {state: transferring}}
"""


def test_a_scenario_file_can_hold_faults_beside_its_scenarios() -> None:
    loaded = load(THROTTLING_FILE, "throttle.yaml")
    assert loaded.problems == []
    assert [s.name for s in loaded.scenarios] == ["quick-transfer"]
    assert loaded.faults == [
        {
            "id": "file-throttle",
            "match": {"operation": "transfer"},
            "status": 429,
            "retryAfter": 1,
            "times": 1,
        }
    ]
    only_a_fault = load("fault: {status: 503}\n", "f.yaml")
    assert (only_a_fault.problems, len(only_a_fault.faults)) == ([], 1)


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            "fault:\n  match: {operation: transfr}\n  status: 500\n",
            "f.yaml:2:22: 'fault.match.operation': no operation is named 'transfr'; "
            "did you mean 'transfer'?",
        ),
        ("fault:\n  status: 200\n", "f.yaml:2:11: 'fault.status': 200 is not an error status"),
        ("fault:\n  status: 500\n  times: 1\n  every: 2\n", "f.yaml:4:10: 'fault.every'"),
        ("fault: 503\n", "f.yaml:1:8: 'fault' must be a mapping"),
        ("fault: {status: 500}\ndescripton: x\n", "f.yaml:2:1: 'descripton': a fault holds only"),
    ],
)
def test_a_bad_fault_in_a_file_is_told_at_its_line_and_column(text: str, problem: str) -> None:
    [found] = load(text, "f.yaml").problems
    assert str(found).startswith(problem)


async def test_a_fault_from_a_scenarios_file_is_set_at_start_and_again_by_each_reset(
    tmp_path: Path, bot: BotReceiver
) -> None:
    path = tmp_path / "throttle.yaml"
    path.write_text(THROTTLING_FILE, encoding="utf-8")
    async with (
        MockGraph([path], time_scale=0, callback_url=bot.callback_url) as graph,
        aiohttp.ClientSession() as http,
    ):
        driver = Driver(graph, bot, http)
        for _ in range(2):  # before and after a reset
            call = await driver.seed()
            statuses = [(await driver.transfer(call["id"]))[0] for _ in range(2)]
            assert statuses == [429, 202]  # times: 1
            await graph.reset()
        [fault] = await graph.faults()
        assert (fault["id"], fault["hits"]) == ("file-throttle", 0)


async def test_a_fault_posted_in_a_scenario_body_is_set_until_the_next_reset(
    driver: Driver,
) -> None:
    url = f"{driver.graph.url}/_mock/scenarios"
    async with driver.http.post(url, data=THROTTLING_FILE.encode()) as response:
        assert response.status == 201
        added = await response.json()
    assert [s["name"] for s in added["value"]] == ["quick-transfer"]
    assert [(f["id"], f["status"]) for f in added["faults"]] == [("file-throttle", 429)]
    call = await driver.seed()
    assert (await driver.transfer(call["id"]))[0] == 429
    # The same id again: nothing is added, neither the fault nor the scenario.
    async with driver.http.post(url, data=THROTTLING_FILE.encode()) as response:
        assert response.status == 400
        assert "'file-throttle'" in (await response.json())["error"]["message"]
    await driver.graph.reset()
    assert await driver.graph.faults() == []


async def test_validate_counts_the_faults_a_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "throttle.yaml"
    path.write_text(THROTTLING_FILE, encoding="utf-8")
    code, out, _ = await run("validate", str(path))
    assert (code, out.strip()) == (0, "ok: 1 scenario(s), 1 fault(s)")


[FILE_EXAMPLE] = re.findall(
    r"<!-- runs in tests/test_faults.py -->\n```yaml\n(.*?)```", README, re.S
)


async def test_the_readme_fault_file_throttles_the_first_transfer(
    tmp_path: Path, bot: BotReceiver
) -> None:
    path = tmp_path / "throttled.yaml"
    path.write_text(FILE_EXAMPLE, encoding="utf-8")
    async with (
        MockGraph([path], time_scale=0, callback_url=bot.callback_url) as graph,
        aiohttp.ClientSession() as http,
    ):
        driver = Driver(graph, bot, http)
        call = await driver.seed()
        first, headers, body = await driver.transfer(call["id"])
        assert (first, headers["Retry-After"], body["error"]["code"]) == (
            429,
            "1",
            "TooManyRequests",
        )
        assert (await driver.transfer(call["id"]))[0] == 202
