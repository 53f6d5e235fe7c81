"""The pytest plugin, as a user's suite meets it: the README's test files, run by pytest in a
fresh directory against an in-process server, then against one started elsewhere."""

from __future__ import annotations

import asyncio
import re

import pytest

from mockgraph.testing import MockGraph
from tests.docs import page
from tests.test_readme import runnable_snippets

# The pytest.ini the docs give a bot's project (docs/how-to/test-your-bot.md).
[INI] = re.findall(r"```ini\n(.*?)```", page("how-to/test-your-bot.md"), re.S)


def write_suite(pytester: pytest.Pytester) -> int:
    """The README's snippets as test files; returns how many tests they hold."""
    pytester.makeini(INI)
    snippets = runnable_snippets()
    assert len(snippets) >= 4
    for index, snippet in enumerate(snippets):
        pytester.makepyfile(**{f"test_readme_{index}": snippet})
    return sum(len(re.findall(r"^(?:async )?def test_", s, re.M)) for s in snippets)


async def run_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In a thread: the outer test's event loop must stay free to serve an in-process mockgraph.
    # The plugins this project's own tools bring and the inner suite does not use are left out:
    # schemathesis and hypothesis took 2.6 of the 3 s an inner pytest spent starting. mockgraph's
    # plugin is still found by its entry point, as in a bot's project.
    unused = ["-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:xdist"]
    return await asyncio.to_thread(
        pytester.runpytest_subprocess, "-p", "no:cacheprovider", *unused, *args
    )


async def test_readme_suite_passes_against_an_in_process_server(pytester: pytest.Pytester) -> None:
    count = write_suite(pytester)
    result = await run_suite(pytester)
    result.assert_outcomes(passed=count, warnings=0)  # the docs' set-up gives no warning


@pytest.mark.settings(time_scale=1)  # the start-up scale the inner suite's changes go back to
async def test_readme_suite_passes_against_an_external_server(
    pytester: pytest.Pytester, graph: MockGraph
) -> None:
    count = write_suite(pytester)
    result = await run_suite(pytester, f"--mockgraph-url={graph.url}")
    result.assert_outcomes(passed=count)
    # the inner suite really used this server: it reset it, and time is back to normal
    assert await graph.set_time() == {"scale": 1.0, "step": False}
    assert "transfer-success" in [s.name for s in graph.backend.control.scenarios()]


async def test_external_server_from_the_environment(
    pytester: pytest.Pytester, graph: MockGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_env="""
def test_seed(mockgraph_sync, mockgraph_server):
    mockgraph_sync.seed_call("from-env", callback_uri="http://127.0.0.1:9/")
    assert mockgraph_server == mockgraph_sync.url
"""
    )
    monkeypatch.setenv("MOCKGRAPH_URL", graph.url)
    result = await run_suite(pytester)
    result.assert_outcomes(passed=1)
    assert graph.backend.control.call("from-env").id == "from-env"


async def test_unreachable_external_server_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_x="def test_x(mockgraph_sync):\n    pass\n")
    result = await run_suite(pytester, "--mockgraph-url=http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no mockgraph answers at http://127.0.0.1:9*"])


async def test_the_fixture_resets_between_tests_and_reads_the_ini(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI + "mockgraph_scenarios = extra\n")
    pytester.mkdir("extra")
    (pytester.path / "extra" / "mine.yaml").write_text(
        "name: mine\noperation: transfer\nsteps: []\n"
    )
    pytester.makepyfile(
        test_reset="""
def test_first(mockgraph_sync):
    mockgraph_sync.seed_call("a", callback_uri="http://127.0.0.1:9/")
    assert "mine" in {s["name"] for s in mockgraph_sync.scenarios()}

def test_second(mockgraph_sync):
    assert mockgraph_sync.calls() == []
"""
    )
    result = await run_suite(pytester)
    result.assert_outcomes(passed=2)


@pytest.mark.settings(time_scale=1)
async def test_an_external_server_gets_its_time_settings_back_after_each_test(
    pytester: pytest.Pytester, graph: MockGraph
) -> None:
    """The README: a marker's time settings are the test's, reset after it. An external
    server outlives the suite, so its own come back when the last test ends."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_time="""
import pytest

@pytest.mark.mockgraph(time_scale=0, step=True)
def test_fast_and_held(mockgraph_sync):
    assert mockgraph_sync.set_time() == {"scale": 0.0, "step": True}

def test_the_servers_own(mockgraph_sync):
    assert mockgraph_sync.set_time() == {"scale": 1.0, "step": False}

def test_changes_its_own(mockgraph_sync):
    mockgraph_sync.set_time(scale=0.5)
"""
    )
    result = await run_suite(pytester, f"--mockgraph-url={graph.url}")
    result.assert_outcomes(passed=3)
    assert await graph.set_time() == {"scale": 1.0, "step": False}


async def test_the_subscriptions_how_to_runs_on_the_plugin(pytester: pytest.Pytester) -> None:
    # The how-to's bot and tests as a bot's project has them: the webhook served with the
    # plugin's mockgraph_tls, the lifecycle test on its webhook_receiver. With pytest's cache,
    # where the plugin keeps the local authority.
    from tests.conftest import SDK_SNIPPET
    from tests.test_subscriptions import BOT_SIDE, RENEWAL, TEST_SIDE

    pytester.makeini(INI)
    pytester.makepyfile(test_webhook="\n".join([SDK_SNIPPET, BOT_SIDE, TEST_SIDE, RENEWAL]))
    unused = ["-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:xdist"]
    result = await asyncio.to_thread(pytester.runpytest_subprocess, *unused)
    result.assert_outcomes(passed=2)
    assert (pytester.path / ".pytest_cache" / "d" / "mockgraph" / "tls" / "ca.pem").exists()
