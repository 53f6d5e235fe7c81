"""The README's CI recipes run: their shell lines, in order, with a stub for the bot's tests
that makes one Graph request, leave a journal and a journal file to keep."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.docs import DOCS

README = DOCS  # the README and the docs pages, where the examples live
# What the bot's tests would do: one Graph request, which the journal keeps.
STUB = """\
import os
import urllib.error
import urllib.request

url = os.environ["MOCKGRAPH_URL"] + "/v1.0/communications/calls/no-such-call"
request = urllib.request.Request(url, headers={"Authorization": "Bearer ci"})
try:
    urllib.request.urlopen(request)
except urllib.error.HTTPError as error:
    assert error.code == 404, error.code
"""


def recipe(kind: str) -> Any:
    [text] = re.findall(rf"<!-- ci: {kind} -->\n```yaml\n(.*?)```", README, re.S)
    return yaml.safe_load(text)


def shell(lines: list[str]) -> list[str]:
    """The recipe's lines as this machine runs them: mockgraph is installed already, and the
    bot's tests are the stub."""
    swapped = {
        'pip install "$MOCKGRAPH_SOURCE"': "true",
        "pytest": f"{sys.executable} bot_tests.py",
    }
    return [swapped.get(line.strip(), line) for line in lines]


def github_script() -> str:
    steps = recipe("github")["jobs"]["bot"]["steps"]
    parts = ['export GITHUB_ENV="$PWD/github.env"', ": > github.env"]
    for step in steps:
        if "run" in step:
            parts += shell(step["run"].strip().splitlines())
            parts.append("set -a; . ./github.env; set +a")  # as the runner does between steps
    return "\n".join(parts)


def gitlab_script() -> str:
    job = recipe("gitlab")["bot"]
    return "\n".join([*shell(job["script"]), *shell(job["after_script"])])


@pytest.mark.parametrize("script", [github_script, gitlab_script], ids=["github", "gitlab"])
async def test_the_recipe_runs_and_keeps_the_journal(tmp_path: Path, script: Any) -> None:
    (tmp_path / "bot_tests.py").write_text(STUB)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    process = await asyncio.create_subprocess_exec(
        "bash", "-e", "-c", script(),
        cwd=tmp_path, env=env, start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the background mockgraph too
    assert process.returncode == 0, out.decode()
    journal = json.loads((tmp_path / "mockgraph-journal.json").read_text())
    assert [entry["status"] for entry in journal["value"]] == [404]
    kept = (tmp_path / "mockgraph-journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in kept] == [404]
