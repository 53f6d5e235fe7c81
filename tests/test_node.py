"""The Node.js bots' suite (``tests/node``, Node's own test runner) against a real
``mockgraph serve`` over https: Microsoft's JavaScript Graph client and jose, unchanged.
``make test`` installs Node and the lockfile's packages first (``make node``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

NODE_TESTS = Path(__file__).parent / "node"


@pytest.fixture
def served(certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockgraph",
            "serve",
            "--port",
            "0",
            "--time-scale",
            "0",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("mockgraph listening on https://"), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_node_bots_suite_passes(served: str, certificate: tuple[Path, Path]) -> None:
    node = shutil.which("node")
    assert node, "Node.js is missing: `make node` installs it"
    assert (NODE_TESTS / "node_modules" / "jose").is_dir(), "run `make node` (npm ci) first"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap"],
        cwd=NODE_TESTS,
        env={**os.environ, "MOCKGRAPH_URL": served, "NODE_EXTRA_CA_CERTS": str(certificate[0])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed[1]) >= 4, report  # a run that found no tests is no pass
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), report
