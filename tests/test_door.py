"""The first steps into mockgraph: ``--version``, the page a browser gets at ``/``, the
inspector with or without its slash, and the inspector's URL on stderr at start (stdout keeps
its one ready line)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from mockgraph.testing import MockGraph
from tests.conftest import AUTH
from tests.test_cli import run, serving

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_version_names_the_installed_package() -> None:
    code, out, err = await run("--version")
    assert (code, err) == (0, "")
    assert out.strip() == "mockgraph 0.1.0"  # pyproject.toml's version


@pytest.mark.parametrize("path", ["/", "/_mock"])
async def test_a_browser_at_the_root_gets_links_to_the_inspector_and_the_rest(path: str) -> None:
    async with (
        MockGraph() as graph,
        aiohttp.ClientSession() as http,
        http.get(graph.url + path, headers=HTML) as response,
    ):
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
    for link in ('href="/_mock/ui/"', 'href="/_mock/openapi.json"', 'href="/_mock/health"'):
        assert link in page


async def test_a_client_asking_for_json_still_gets_graphs_answer() -> None:
    async with MockGraph() as graph, aiohttp.ClientSession() as http:
        async with http.get(graph.url + "/", headers={"Accept": "application/json"}) as response:
            assert response.status == 401  # no token: Graph's first check
        async with http.get(graph.url + "/", headers=AUTH) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "UnknownResource"


@pytest.mark.parametrize("path", ["/_mock/ui", "/_mock/ui/"])
async def test_the_inspector_answers_with_or_without_its_slash(path: str) -> None:
    async with (
        MockGraph() as graph,
        aiohttp.ClientSession() as http,
        http.get(graph.url + path) as response,
    ):
        assert response.status == 200
        assert "/_mock/ui/inspector.js" in await response.text()


async def test_serve_names_the_inspector_on_stderr_and_keeps_stdout_to_one_line() -> None:
    async with serving("--port", "0") as (process, url):
        assert process.stderr is not None
        said = ""
        while "inspector" not in said:
            said = (await asyncio.wait_for(process.stderr.readline(), 10)).decode()
        assert said.strip() == f"mockgraph: the inspector: {url}/_mock/ui/"
