"""https: ``--tls-cert`` and ``--tls-key``. Microsoft's JavaScript Graph client sends its
bearer token only to https URLs (of Graph's hosts, or of the ``customHosts`` it is given),
so a Node bot pointed at plain http gets 401 from a faithful Graph."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from mockgraph.http.listening import TlsError
from mockgraph.testing import BotReceiver, MockGraph


async def test_https_serves_graph_and_names_itself_in_the_openid_configuration(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    trust = ssl.create_default_context(cafile=str(cert))
    async with (
        MockGraph(tls_cert=str(cert), tls_key=str(key)) as graph,
        aiohttp.ClientSession() as http,
    ):
        assert graph.url.startswith("https://127.0.0.1:")
        async with http.get(f"{graph.url}/_mock/.well-known/openid-configuration", ssl=trust) as r:
            assert (await r.json())["jwks_uri"] == f"{graph.url}/_mock/keys"
        async with http.get(f"{graph.url}/v1.0/communications/calls/nope", ssl=trust) as r:
            assert r.status == 401  # no token: Graph's answer, over https
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(f"{graph.url}/_mock/health")  # not trusted without the certificate


def test_a_certificate_without_its_key_is_refused(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with pytest.raises(TlsError, match="--tls-cert needs --tls-key too"):
        MockGraph(tls_cert=str(cert))
    with pytest.raises(TlsError, match="not a PEM certificate and its unencrypted key"):
        MockGraph(tls_cert=str(key), tls_key=str(cert))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-key", "KEY"], "mockgraph: --tls-key needs --tls-cert too"),
        (["--tls-cert", "KEY", "--tls-key", "KEY"], "are not a PEM certificate and its"),
        (["--tls-cert", "/nonexistent.pem"], "--tls-cert: cannot read '/nonexistent.pem'"),
    ],
)
def test_bad_tls_flags_stop_the_start(
    flags: list[str], message: str, certificate: tuple[Path, Path]
) -> None:
    argv = [str(certificate[1]) if flag == "KEY" else flag for flag in flags]
    result = subprocess.run(
        [sys.executable, "-m", "mockgraph", "serve", "--port", "0", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


# --- --tls auto: a local certificate authority, kept and reused ---------------------------------


async def start_auto(folder: Path) -> tuple[str, str, bytes]:
    """``mockgraph serve --tls auto``: its URL, its stderr line, and /_mock/ca.pem."""
    from tests.test_cli import serving

    async with serving("--port", "0", "--tls", "auto", "--tls-dir", str(folder)) as (
        process,
        url,
    ):
        assert process.stderr is not None
        said = ""
        while not said.startswith("mockgraph: https"):  # after the log's lines, if any
            said = (await asyncio.wait_for(process.stderr.readline(), 10)).decode()
        trust = ssl.create_default_context(cafile=str(folder / "ca.pem"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/_mock/ca.pem", ssl=trust) as response:
                assert response.status == 200
                assert response.content_type == "application/x-pem-file"
                pem = await response.read()
            async with http.get(f"{url}/v1.0/communications/calls/x", ssl=trust) as response:
                assert response.status == 401  # Graph, over https the authority vouches for
        return url, said, pem


async def test_tls_auto_serves_https_by_a_local_authority_it_keeps(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    url, said, pem = await start_auto(folder)
    assert url.startswith("https://127.0.0.1:")
    assert str(folder / "ca.pem") in said and "SSL_CERT_FILE" in said
    assert pem == (folder / "ca.pem").read_bytes()
    assert oct((folder / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    # The second start keeps the authority a user may already trust.
    _, _, again = await start_auto(folder)
    assert again == pem


async def test_the_certificate_to_trust_is_404_over_http() -> None:
    async with (
        MockGraph() as graph,
        aiohttp.ClientSession() as http,
        http.get(f"{graph.url}/_mock/ca.pem") as response,
    ):
        assert response.status == 404


def test_tls_auto_and_a_certificate_of_ones_own_are_one_or_the_other(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockgraph",
            "serve",
            "--port",
            "0",
            "--tls",
            "auto",
            "--tls-dir",
            str(tmp_path),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "not both" in result.stderr


async def test_a_bot_served_with_the_local_authority_gets_its_notifications(
    tmp_path: Path,
) -> None:
    # mockgraph trusts its own local authority as a client: a bot on https needs no more.
    graph = MockGraph(time_scale=0, tls_dir=str(tmp_path))
    async with graph, BotReceiver(tls=graph.webhook_tls()) as bot:
        assert bot.callback_url.startswith("https://127.0.0.1:")
        call = await graph.seed_call(callback_uri=bot.callback_url, state="established")
        await graph.hang_up(call["id"])
        await bot.wait_for(1, call_id=call["id"])
        await graph.wait_idle()
        outcomes = {e["outcome"] for e in await graph.journal(call["id"]) if e["kind"] != "request"}
        assert outcomes == {"delivered"}
