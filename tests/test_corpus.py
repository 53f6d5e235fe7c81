"""A corpus of bad scenario files (tests/corpus, made by tools/make_corpus.py), each wrong in
its own way: every one is refused with file:line:col and a one-line message, by `mockgraph
validate` (exit 1, no traceback) and by POST /_mock/scenarios (400, never 500)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from mockgraph.scenarios.loader import load_paths
from mockgraph.testing import MockGraph
from tests.test_cli import run

CORPUS = Path(__file__).parent / "corpus"  # made by tools/make_corpus.py
FILES = sorted(CORPUS.glob("*.yaml"))
# For each file, "line:column words" per problem, written by hand in tools/make_corpus.py.
EXPECTED: dict[str, list[str]] = json.loads((CORPUS / "expected.json").read_text())
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): \S.*$")


def test_the_corpus_is_a_hundred_ways_to_be_wrong() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_each_bad_file_is_refused_at_a_place(path: Path) -> None:
    scenarios, problems = load_paths([path])
    assert scenarios == [] and problems, "loaded as if it were good"
    for problem in problems:
        shown = str(problem)
        match = PROBLEM.match(shown)
        assert match and match["file"] == str(path) and "\n" not in shown, shown
        assert int(match["line"]) >= 1 and int(match["column"]) >= 1


def test_every_bad_file_says_what_it_expects() -> None:
    assert sorted(EXPECTED) == sorted(path.stem for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_each_bad_file_is_told_the_line_and_words_it_expects(path: Path) -> None:
    _, problems = load_paths([path])
    told = [(f"{problem.line}:{problem.column}", problem.message) for problem in problems]
    expected = [tuple(entry.split(" ", 1)) for entry in EXPECTED[path.stem]]
    assert {place for place, _ in told} == {place for place, _ in expected}, told
    for place, words in expected:
        assert any(at == place and words in message for at, message in told), (words, told)


async def test_validate_refuses_the_whole_corpus_without_a_traceback() -> None:
    code, out, err = await run("validate", str(CORPUS))
    assert code == 1 and "Traceback" not in out + err
    matches = [PROBLEM.match(line) for line in out.splitlines()]
    named = {match["file"] for match in matches if match}
    assert named == {str(path) for path in FILES}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[MockGraph]:
    async with MockGraph() as graph:
        yield graph


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "content", [pytest.param(path.read_bytes(), id=path.stem) for path in FILES]
)
async def test_each_bad_file_is_400_over_http(server: MockGraph, content: bytes) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/_mock/scenarios", data=content) as response,
    ):
        body = await response.json()
    assert response.status == 400, body
    assert body["error"]["code"] == "BadRequest" and body["problems"]


BIG = b"name: big\noperation: transfer\nsteps: []\ndescription: " + b"x" * 20_000_000


def test_a_20_mb_file_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(BIG)
    _, problems = load_paths([big])
    assert [str(p) for p in problems] == [
        f"{big}:1:1: the file is 20.0 MB; a scenario file is at most 1 MiB"
    ]


async def test_a_20_mb_body_is_413_over_http() -> None:
    async with (
        MockGraph() as graph,
        aiohttp.ClientSession() as http,
        http.post(f"{graph.url}/_mock/scenarios", data=io.BytesIO(BIG)) as response,
    ):
        assert response.status == 413  # the body limit answers first, as for Graph bodies
