"""The mockgraph pytest plugin (entry point ``pytest11``: installed with mockgraph).

Fixtures:

* ``mockgraph_server`` (session): the URL of a mockgraph shared by the whole session: one
  started in-process on a background thread, or the one named by ``--mockgraph-url`` /
  ``MOCKGRAPH_URL`` (a CI service container, say).
* ``mockgraph`` (function): a ``MockGraphClient`` for it, reset before the test.
* ``mockgraph_sync`` (function): the same as a blocking ``MockGraphSyncClient``.
* ``bot_receiver`` (function): a ``BotReceiver`` that records what mockgraph POSTs.
* ``mockgraph_tls`` (session): certificate files for a webhook on 127.0.0.1 that the
  in-process mockgraph trusts (Graph sends change notifications over https only).
* ``webhook_receiver`` (function): a ``BotReceiver`` served with them, that answers the
  subscription handshake; give mockgraph ``webhook_receiver.callback_url``.

``@pytest.mark.mockgraph(time_scale=0, step=True)`` sets time for one test. The ini option
``mockgraph_scenarios`` adds scenario files or folders to the in-process server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pytest loads this plugin in every run: aiohttp only when a fixture is used
    from mockgraph.http.local_tls import TlsFiles
    from mockgraph.testing.background import BackgroundLoop
    from mockgraph.testing.client import MockGraphClient, MockGraphSyncClient, SharedSession
    from mockgraph.testing.receiver import BotReceiver
    from mockgraph.testing.server import MockGraph

URL_ENV = "MOCKGRAPH_URL"
# The in-process server, when the session runs one: fixtures reset it without HTTP.
IN_PROCESS: pytest.StashKey[MockGraph] = pytest.StashKey()
# An external server's own time settings, read once: what each test's are put back to after it.
START_TIME: pytest.StashKey[dict[str, Any]] = pytest.StashKey()
TOKEN_ENV = "MOCKGRAPH_CONTROL_TOKEN"  # the same variable `mockgraph serve` reads


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockgraph")
    group.addoption(
        "--mockgraph-url",
        default=None,
        metavar="URL",
        help=f"use the mockgraph at URL instead of starting one in-process [{URL_ENV}]",
    )
    group.addoption(
        "--mockgraph-token",
        default=None,
        metavar="TOKEN",
        help=f"the --control-token of the mockgraph at --mockgraph-url [{TOKEN_ENV}]",
    )
    parser.addini(
        "mockgraph_scenarios",
        "scenario files or folders for the in-process mockgraph",
        type="paths",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockgraph(time_scale=None, step=None): time settings for this test"
    )


@pytest.fixture(scope="session")
def mockgraph_background() -> Iterator[BackgroundLoop]:
    """The thread that runs the in-process server and bot receivers."""
    from mockgraph.testing.background import BackgroundLoop

    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def mockgraph_transport(mockgraph_background: BackgroundLoop) -> Iterator[SharedSession]:
    """One HTTP session for every client the fixtures make, open for the whole session."""
    from mockgraph.testing.client import SharedSession

    transport = SharedSession(mockgraph_background.loop)
    yield transport
    mockgraph_background.run(transport.close())


@pytest.fixture(scope="session")
def mockgraph_server(
    request: pytest.FixtureRequest, mockgraph_background: BackgroundLoop
) -> Iterator[str]:
    from mockgraph.testing.client import MockGraphError, MockGraphSyncClient

    url = request.config.getoption("--mockgraph-url") or os.environ.get(URL_ENV)
    if url:
        try:
            MockGraphSyncClient(url, _token(request)).health()
        except (OSError, MockGraphError) as error:
            pytest.fail(f"no mockgraph answers at {url} ({error})", pytrace=False)
        yield url.rstrip("/")
        return
    from mockgraph.testing import MockGraph

    paths: list[Path] = request.config.getini("mockgraph_scenarios")
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    # One key per project, kept in pytest's cache: generating a 2048-bit RSA key was a tenth
    # of a small suite's start (BENCHMARKS.md, "bot suite").
    key = None if cache is None else str(cache.mkdir("mockgraph") / "signing-key.jwk")
    # Its local authority with the project too, not in the user's home.
    tls_dir = None if cache is None else str(cache.mkdir("mockgraph") / "tls")
    server = MockGraph(scenarios=paths, signing_key=key, tls_dir=tls_dir)
    url = mockgraph_background.run(server.start())
    request.config.stash[IN_PROCESS] = server
    yield url
    del request.config.stash[IN_PROCESS]
    mockgraph_background.run(server.close())


def _token(request: pytest.FixtureRequest) -> str | None:
    """The external server's control token, if it has one (the in-process one has none)."""
    given: str | None = request.config.getoption("--mockgraph-token") or os.environ.get(TOKEN_ENV)
    return given


def _reset(url: str, request: pytest.FixtureRequest) -> MockGraphSyncClient:
    """A client over the session's shared connection, run on the background loop (no loop
    and no connection made per call); the server reset, with the test's time settings, in
    one step: on the in-process server itself, or in one request to an external one."""
    from mockgraph.testing.client import MockGraphSyncClient

    background: BackgroundLoop = request.getfixturevalue("mockgraph_background")
    client = MockGraphSyncClient(
        url,
        _token(request),
        transport=request.getfixturevalue("mockgraph_transport"),
        runner=lambda coroutine: background.run(coroutine, timeout=None),
    )
    marker = request.node.get_closest_marker("mockgraph")
    time = (
        {}
        if marker is None
        else {
            key: marker.kwargs[name]
            for key, name in (("scale", "time_scale"), ("step", "step"))
            if marker.kwargs.get(name) is not None
        }
    )
    server = request.config.stash.get(IN_PROCESS, None)
    if server is not None:
        background.run(server.backend.reset(time))
    elif START_TIME not in request.config.stash:
        client.reset()  # the server's own time settings, before any test's
        request.config.stash[START_TIME] = client.set_time()
        if time:
            client.set_time(scale=time.get("scale"), step=time.get("step"))
    else:
        client.reset(scale=time.get("scale"), step=time.get("step"))
    return client


def _restore(client: MockGraphSyncClient, request: pytest.FixtureRequest) -> None:
    """An external server gets its own time settings back after the test (the next reset
    would, but the last test's would stay on a server that outlives the suite)."""
    start = request.config.stash.get(START_TIME, None)
    if start is not None and IN_PROCESS not in request.config.stash:
        client.set_time(scale=start["scale"], step=start["step"])


@pytest.fixture
def mockgraph_sync(
    mockgraph_server: str, request: pytest.FixtureRequest
) -> Iterator[MockGraphSyncClient]:
    """A blocking client for the session's mockgraph, reset before the test."""
    client = _reset(mockgraph_server, request)
    yield client
    _restore(client, request)


@pytest.fixture
def mockgraph(mockgraph_server: str, request: pytest.FixtureRequest) -> Iterator[MockGraphClient]:
    """An async client for the session's mockgraph, reset before the test."""
    client = _reset(mockgraph_server, request)
    yield client.client
    _restore(client, request)


@pytest.fixture
def bot_receiver(mockgraph_background: BackgroundLoop) -> Iterator[BotReceiver]:
    """A bot notification endpoint on 127.0.0.1; give mockgraph ``bot_receiver.callback_url``."""
    from mockgraph.testing.receiver import BotReceiver

    receiver = BotReceiver()
    mockgraph_background.run(receiver.start())
    yield receiver
    mockgraph_background.run(receiver.close())


@pytest.fixture(scope="session")
def mockgraph_tls(mockgraph_server: str, request: pytest.FixtureRequest) -> TlsFiles:
    """Files (``cert``, ``key``) to serve a webhook on 127.0.0.1 with, over https, that the
    session's in-process mockgraph trusts."""
    server = request.config.stash.get(IN_PROCESS, None)
    if server is None:
        pytest.fail(
            "mockgraph_tls needs the in-process mockgraph: an external one trusts the local "
            "authority in its own --tls-dir (or start it with --allow-http-webhooks and use "
            "bot_receiver)",
            pytrace=False,
        )
    return server.webhook_tls()


@pytest.fixture
def webhook_receiver(
    mockgraph_background: BackgroundLoop, mockgraph_tls: TlsFiles
) -> Iterator[BotReceiver]:
    """A webhook on 127.0.0.1 over https, that echoes the subscription handshake and records
    the notifications; give mockgraph ``webhook_receiver.callback_url``."""
    from mockgraph.testing.receiver import BotReceiver

    receiver = BotReceiver("/notifications", tls=mockgraph_tls)
    mockgraph_background.run(receiver.start())
    yield receiver
    mockgraph_background.run(receiver.close())
