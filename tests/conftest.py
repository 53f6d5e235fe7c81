"""Fixtures: a real mockgraph and a real bot receiver, both on loopback, per test."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mockgraph.testing import BotReceiver, MockGraph
from tests.docs import DOCS

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent
AUTH = {"Authorization": "Bearer test-token", "Content-Type": "application/json"}
BLIND = {"transferTarget": {"endpointType": "default", "identity": {"user": {"id": "u-target"}}}}


async def launched(
    command: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    stderr: int = asyncio.subprocess.PIPE,
) -> tuple[asyncio.subprocess.Process, str]:
    """``mockgraph COMMAND --port 0 ARGS`` in its own process, once it has printed its ready
    line: the process and that line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mockgraph",
        command,
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    return process, line


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockgraph test")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


@pytest.fixture
async def bot() -> AsyncIterator[BotReceiver]:
    async with BotReceiver() as receiver:
        yield receiver


# What the tests' servers start with: scenarios at time scale 0, so that a test waits through no
# pause it does not test (one that does asks for real time with the marker), and short retry
# pauses (tests of retries set their own).
QUICK = {"time_scale": 0.0, "retry_backoff": 0.01}


def marked_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """QUICK, with the settings of the test's ``settings`` marker over it."""
    marker = request.node.get_closest_marker("settings")
    return {**QUICK, **(marker.kwargs if marker else {})}


@pytest.fixture
async def graph(request: pytest.FixtureRequest) -> AsyncIterator[MockGraph]:
    async with MockGraph(scenarios=[TESTS / "scenarios"], **marked_settings(request)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Driver:
    """Speaks HTTP to mockgraph the way a bot and a test do."""

    def __init__(self, graph: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession) -> None:
        self.graph, self.bot, self.http = graph, bot, http

    async def seed(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("callbackUri", self.bot.callback_url)
        async with self.http.post(f"{self.graph.url}/_mock/calls", json=spec) as response:
            assert response.status == 201, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    async def transfer(
        self,
        call_id: str,
        body: Any = None,
        *,
        version: str = "v1.0",
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        url = self.graph.url + (path or f"/{version}/communications/calls/{call_id}/transfer")
        data = (
            body if isinstance(body, str | bytes) else json.dumps(BLIND if body is None else body)
        )
        async with self.http.post(
            url, data=data, headers=AUTH if headers is None else headers
        ) as r:
            text = await r.text()
            return r.status, dict(r.headers), (json.loads(text) if text else None)

    async def pin(self, call_id: str, name: str | None) -> int:
        url = f"{self.graph.url}/_mock/calls/{call_id}/scenario"
        async with self.http.put(url, json={"name": name}) as response:
            return response.status

    async def get(self, path: str) -> Any:
        async with self.http.get(self.graph.url + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def notifications(self, call_id: str, count: int) -> list[dict[str, Any]]:
        """Wait for ``count`` POSTs about ``call_id``; return their notification items."""
        await self.bot.wait_for(count, call_id=call_id)
        await self.graph.backend.wait_idle()
        return [item for r in self.bot.for_call(call_id) for item in r.notifications]


@pytest.fixture
def driver(graph: MockGraph, bot: BotReceiver, http: aiohttp.ClientSession) -> Driver:
    return Driver(graph, bot, http)


# The docs' msgraph-sdk client (its own tests are in tests/test_graph_sdk.py).
[SDK_SNIPPET] = re.findall(
    r"<!-- runs in tests/test_graph_sdk.py -->\n```python\n(.*?)```", DOCS, re.S
)


@pytest.fixture
async def sdk() -> Any:
    """``sdk(base_url)``: the README's client; its HTTP connections are closed afterwards."""
    scope: dict[str, Any] = {}
    exec(SDK_SNIPPET, scope)
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
