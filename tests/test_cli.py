"""`mockgraph serve` and `mockgraph validate` as a CI pipeline runs them: real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import TESTS, launched

READY = "mockgraph listening on http://"
SCRIPT = Path(sys.executable).parent / "mockgraph"


@asynccontextmanager
async def serving(
    *args: str, env: dict[str, str] | None = None, command: Sequence[str] = ()
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start ``mockgraph serve ARGS``, wait for its ready line, yield (process, url)."""
    process = await asyncio.create_subprocess_exec(
        *(command or (sys.executable, "-m", "mockgraph")),
        "serve",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        assert line.startswith((READY, READY.replace("http:", "https:"))), line
        yield process, line.strip().removeprefix("mockgraph listening on ")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mockgraph",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def get_json(url: str) -> object:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.json()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_on_port_0_prints_one_ready_line_and_stops_cleanly(signum) -> None:
    async with serving("--port", "0") as (process, url):
        assert await get_json(f"{url}/_mock/health") == {"status": "ok"}
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert process.stdout is not None
        assert await process.stdout.read() == b"", "the ready line is the only stdout line"


async def test_console_script_is_the_same_program() -> None:
    async with serving("--port", "0", command=[str(SCRIPT)]) as (process, url):
        assert await get_json(f"{url}/_mock/health") == {"status": "ok"}
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_flags_repeat_and_add_to_the_builtins(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text((TESTS / "scenarios" / "vip.yaml").read_text().replace("vip-", "other-"))
    args = ["--port", "0", "--scenarios", str(TESTS / "scenarios"), "--scenarios", str(extra)]
    async with serving(*args) as (_, url):
        names = {s["name"] for s in (await get_json(f"{url}/_mock/scenarios"))["value"]}  # type: ignore[index]
    assert {"transfer-success", "vip-line-busy", "other-line-busy"} <= names


async def test_env_vars_configure_serve(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text((TESTS / "scenarios" / "vip.yaml").read_text().replace("vip-", "env-"))
    env = {
        "MOCKGRAPH_HOST": "127.0.0.1",
        "MOCKGRAPH_PORT": "0",
        "MOCKGRAPH_SCENARIOS": f"{TESTS / 'scenarios'}:{extra}",
        "MOCKGRAPH_CALLBACK_URL": "http://127.0.0.1:3978/api/calls",
    }
    async with serving(env=env) as (_, url):
        names = {s["name"] for s in (await get_json(f"{url}/_mock/scenarios"))["value"]}  # type: ignore[index]
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/_mock/calls", json={}) as response,
        ):
            call = await response.json()
    assert {"vip-line-busy", "env-line-busy"} <= names
    assert call["callbackUri"] == "http://127.0.0.1:3978/api/calls"


async def test_flags_win_over_env_vars() -> None:
    async with serving("--port", "0", env={"MOCKGRAPH_PORT": "1"}) as (_, url):
        assert await get_json(f"{url}/_mock/health") == {"status": "ok"}


async def test_bad_scenario_file_refuses_to_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\noperation: transfer\nsteps:\n  - notify: {changeType: updatd, resourceData: {}}\n"
    )
    code, out, err = await run("serve", "--port", "0", "--scenarios", str(bad))
    assert code == 1
    assert READY not in out
    assert f"{bad}:4:" in err and "updatd" in err
    assert "not started" in err


async def test_busy_port_exits_non_zero_with_a_reason() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = await run("serve", "--port", str(port))
    assert code == 1
    assert out == ""
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in err


async def test_bad_port_env_var_is_a_usage_error() -> None:
    code, _, err = await run("serve", env={"MOCKGRAPH_PORT": "eighty"})
    assert code == 2
    assert "MOCKGRAPH_PORT: must be a port number" in err


async def test_validate_reports_each_problem_and_exits_1(tmp_path: Path) -> None:
    good = TESTS / "scenarios" / "vip.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noperation: transfer\nsteps: []\nextra: 1\n")
    code, out, _ = await run("validate", str(good), str(bad))
    assert code == 1
    assert out.strip() == f"{bad}:4:1: scenario has no property 'extra' " + (
        "(it declares: $schema, default, description, jitter, name, operation, quirks, "
        "recording, steps, when)"
    )


async def test_validate_ok_exits_0() -> None:
    builtins = sorted((TESTS.parent / "scenarios").glob("*.yaml"))
    code, out, _ = await run("validate", str(TESTS / "scenarios"), str(TESTS.parent / "scenarios"))
    assert (code, out.strip()) == (0, f"ok: {len(builtins) + 1} scenario(s)")


async def test_sigterm_finishes_the_delivery_in_flight_and_says_what_it_cancelled() -> None:
    from mockgraph.testing import BotReceiver, MockGraphClient, Reply

    async with (
        BotReceiver() as bot,
        serving("--port", "0", "--grace-period", "5") as (
            process,
            url,
        ),
    ):
        bot.reply_with(Reply(202, delay=0.5))
        client = MockGraphClient(url)
        call = await client.seed_call(callback_uri=bot.callback_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/v1.0/communications/calls/{call['id']}/transfer",
                json={"transferTarget": {"identity": {"user": {"id": "u"}}}},
                headers={"Authorization": "Bearer t"},
            ) as response,
        ):
            assert response.status == 202
        await bot.wait_for(1, timeout=10)  # in flight: the bot takes 0.5 s to answer

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert process.stderr is not None
        err = (await process.stderr.read()).decode()
    assert "2 notification(s) not delivered: cancelled at shutdown" in err
    assert len(bot.received) == 1


@pytest.mark.parametrize("how", ["flag", "env"])
async def test_a_recording_file_that_cannot_be_read_stops_the_start(
    tmp_path: Path, how: str
) -> None:
    missing = str(tmp_path / "no-such.wav")
    if how == "flag":
        code, out, err = await run("serve", "--port", "0", "--recording", missing)
    else:
        code, out, err = await run("serve", "--port", "0", env={"MOCKGRAPH_RECORDING": missing})
    assert (code, out) == (2, "")
    assert "cannot read" in err and "no-such.wav" in err and "No such file" in err


async def test_a_callback_url_that_is_not_http_is_refused_at_start() -> None:
    code, out, err = await run("serve", "--port", "0", "--callback-url", "localhost:3978/api")
    assert (code, out) == (2, "")
    assert "--callback-url: must be an http:// or https:// URL" in err


async def test_a_setting_for_serve_breaks_no_other_command(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    env = {"MOCKGRAPH_PORT": "abc", "MOCKGRAPH_JOURNAL_FILE": str(journal)}
    code, out, err = await run("validate", str(TESTS / "scenarios"), env=env)
    assert (code, err.count("MOCKGRAPH")) == (0, 0) and out.startswith("ok:")
    code, out, err = await run("schema", env=env)
    assert code == 0 and '"$schema"' in out
    assert not journal.exists()  # only serve opens it
    code, _, err = await run("serve", env=env)
    assert code == 2 and "MOCKGRAPH_PORT: must be a port number" in err


async def test_a_flag_wins_over_its_environment_variable() -> None:
    process, line = await launched("serve", env={"MOCKGRAPH_PORT": "abc"})
    # --port 0 was given (launched gives it): the bad variable is never read
    process.terminate()
    await process.wait()
    assert line.startswith("mockgraph listening on http://127.0.0.1:")


@pytest.mark.parametrize(
    "args, said",
    [
        (
            ["serve", "--prot", "8080"],
            "unrecognized arguments: --prot 8080; did you mean '--port'?",
        ),
        (["serv"], "invalid choice: 'serv'"),
        (["serve", "--tls-dri", "x"], "did you mean '--tls-dir'?"),
        (["serve", "--time-scale", "-1"], "must be a number, 0 or more, not '-1'"),
    ],
)
async def test_a_usage_error_is_one_line_with_a_hint(args: list[str], said: str) -> None:
    code, out, err = await run(*args)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert said in line and "--help" in line
